"""Devices: parsing ``"cpu" | "cuda[:N]" | "meta"`` and the device -> array-module mapping.

``array_module`` is the one place a GPU backend plugs in: it returns the module whose functions
operate on that device's arrays (NumPy for cpu and meta).
"""
from __future__ import annotations

import re
from typing import Union

import numpy as np

__all__ = ["device", "as_device", "array_module", "cuda_unavailable"]

_DEVICE_TYPES = ("cpu", "cuda", "meta", "mps", "xpu")
_CACHE: dict = {}


class device:
    """A place tensors live, as ``torch.device``: ``device("cuda:0")`` or ``device("cuda", 0)``."""

    __slots__ = ("type", "index")

    def __new__(cls, type_or_str: Union[str, "device", int], index: int | None = None):
        if isinstance(type_or_str, device):
            return type_or_str
        if isinstance(type_or_str, int):
            type_or_str, index = "cuda", type_or_str
        key = (type_or_str, index)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        if not isinstance(type_or_str, str):
            raise TypeError(
                f"device() received an invalid combination of arguments - got "
                f"({type(type_or_str).__name__}), but expected one of:\n"
                " * (torch.device device)\n * (str type, int index = -1)")
        m = re.fullmatch(r"([a-z]+)(?::(\d+))?", type_or_str.strip())
        if m is None or m.group(1) not in _DEVICE_TYPES:
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, "
                "maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start "
                f"of device string: {type_or_str}")
        dtype_, idx = m.group(1), m.group(2)
        if idx is not None:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type_or_str}")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative")
        self = object.__new__(cls)
        object.__setattr__(self, "type", dtype_)
        object.__setattr__(self, "index", index)
        _CACHE[key] = self
        return self

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.device' objects is not writable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))


CPU = device("cpu")
META = device("meta")


def as_device(d) -> device:
    """Accept a device, a string or a CUDA ordinal; return a ``device``."""
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
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
