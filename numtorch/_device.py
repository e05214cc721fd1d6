"""Devices: parsing ``"cpu" | "cuda[:N]" | "meta"``, the default device, and the device ->
array-module mapping.

``array_module`` is the one place a GPU backend plugs in: it returns the module whose functions
operate on that device's arrays (NumPy for cpu and meta).
"""
from __future__ import annotations

import re

import numpy as np

from ._arg_errors import type_desc

__all__ = ["device", "as_device", "array_module", "cuda_unavailable", "get_default_device",
           "set_default_device", "default_device"]

_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::([1-9]\d*|0))?")
_CACHE: dict = {}


def _parse(text: str) -> tuple:
    m = _DEVICE_STRING.fullmatch(text)
    if m is None:
        raise RuntimeError(f"Invalid device string: '{text}'")
    kind = m.group(1)
    if kind not in _DEVICE_TYPES:
        raise RuntimeError(
            "Expected one of " + ", ".join(_DEVICE_TYPES) + " device type at start of device "
            f"string: {kind}")
    return kind, None if m.group(2) is None else int(m.group(2))


class device:
    """A place tensors live, as ``torch.device``: ``device("cuda:0")``, ``device("cuda", 0)``,
    ``device(type="cpu")``. Used as a context manager it sets the default device of factory
    functions."""

    __slots__ = ("type", "index", "__weakref__")

    def __new__(cls, type=None, index: int | None = None):  # noqa: A002 - torch's name
        if isinstance(type, device) and index is None:
            return type
        if not isinstance(type, str):
            if isinstance(type, int) and not isinstance(type, bool):
                raise RuntimeError("Cannot access accelerator device when none is available.")
            raise TypeError(
                f"device() received an invalid combination of arguments - got "
                f"({builtin_type(type).__name__}), but expected one of:\n"
                " * (torch.device device)\n      didn't match because some of the arguments "
                f"have invalid types: (!{type_desc(type)}!)\n * (str type, int index = -1)\n")
        key = (type, index)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        kind, idx = _parse(type)
        if idx is not None and index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was "
                               f"passed explicitly: {type}")
        if index is not None:
            if index < 0:
                raise RuntimeError("Device index must not be negative")
            idx = int(index)
        self = object.__new__(cls)
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", idx)
        canonical = _CACHE.setdefault((kind, idx), self)
        _CACHE[key] = canonical
        return canonical

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.device' objects is not writable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __lt__(self, other):
        raise TypeError("comparison not implemented")

    __le__ = __gt__ = __ge__ = __lt__

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self) -> "device":
        _DEFAULT_STACK.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _DEFAULT_STACK.pop()


builtin_type = type

CPU = device("cpu")
META = device("meta")
_DEFAULT_STACK = [CPU]


def default_device() -> device:
    """The device factory functions use when given none."""
    return _DEFAULT_STACK[-1]


def get_default_device() -> device:
    """The device factory functions use when given none (``torch.get_default_device``)."""
    return _DEFAULT_STACK[-1]


def set_default_device(d) -> None:
    """Set the device factory functions use when given none (None resets to cpu)."""
    _DEFAULT_STACK[0] = CPU if d is None else as_device(d)


def as_device(d) -> device:
    """Accept a device, a string or a CUDA ordinal; return a ``device`` (None: the default)."""
    if d is None:
        return _DEFAULT_STACK[-1]
    if isinstance(d, device):
        return d
    if isinstance(d, int) and not isinstance(d, bool):
        return device("cuda", d)
    return device(d)


def cuda_unavailable() -> AssertionError:
    """The error torch raises when CUDA is asked for on a machine without it."""
    return AssertionError("Torch not compiled with CUDA enabled")


def array_module(d: device):
    """The array module that computes on device ``d`` (the GPU backend plugs in here)."""
    if d.type in ("cpu", "meta"):
        return np
    if d.type == "cuda":
        raise cuda_unavailable()
    raise RuntimeError(f"numtorch has no backend for device type '{d.type}'")
