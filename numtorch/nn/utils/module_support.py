"""Small helpers of ``nn.Module``: torch's type names for messages, name checks, the in-place
copy of ``load_state_dict``, ``Module.to``'s arguments and the unregistered-tensor warning."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..._device import META
from ..._tensor import Tensor, _parse_to
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter, UninitializedParameter

__all__ = ["typename", "addindent", "check_state_name", "copy_into", "load_tensor",
           "parse_module_to", "swappable", "warn_unregistered"]


def typename(obj: Any) -> str:
    """The type name torch puts in its messages (``torch.FloatTensor``, ``int``, ``pkg.Cls``)."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__ or ""
    return cls.__qualname__ if module in ("", "builtins") else f"{module}.{cls.__qualname__}"


def check_state_name(kind: str, name: Any, owner: Any, registry: dict) -> None:
    """Raise torch's error for a parameter/buffer name that cannot be registered."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {typename(name)}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\"")
    if name == "":
        raise KeyError(f"{kind} name can't be empty string \"\"")
    if hasattr(owner, name) and name not in registry:
        raise KeyError(f"attribute '{name}' already exists")


def copy_into(target: Tensor, source: Tensor) -> None:
    """Copy ``source``'s values into ``target`` in place, cast to ``target``'s dtype."""
    if target._device is META:
        return
    if source._device is META:
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")
    values = source._data
    if values.dtype != target._data.dtype:
        values = values.astype(target._data.dtype)
    if target._data.flags.writeable:
        np.copyto(target._data, values)
    else:  # e.g. a read-only memory map installed by load_state_dict(assign=True)
        target._data = np.array(values, copy=True)
    target._bump()


def parse_module_to(args: tuple, kwargs: dict) -> tuple[Any, Any]:
    """``(device, dtype)`` from ``Module.to``'s arguments (``non_blocking`` and
    ``memory_format`` accepted and ignored), with torch's errors and its warning for complex
    dtypes."""
    if "copy" in kwargs:
        raise RuntimeError(".to() does not accept copy argument")
    kwargs = {k: v for k, v in kwargs.items() if k not in ("non_blocking", "memory_format")}
    args = tuple(a for a in args if not isinstance(a, bool))
    device = kwargs.get("device", args[0] if args else None)
    if isinstance(device, int) and not isinstance(device, bool):
        from ... import cuda
        if not cuda.is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
    device, dtype, _ = _parse_to(args, kwargs)
    if dtype is not None:
        if not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dtype}")
        if dtype.is_complex:
            warnings.warn("Complex modules are a new feature under active development whose "
                          "design may change, and some modules might not work as expected when "
                          "using complex tensors as parameters or buffers. Please file an issue "
                          "at https://github.com/pytorch/pytorch/issues/new?template=bug-report."
                          "yml if a complex module does not work as expected.", stacklevel=3)
    return device, dtype


def warn_unregistered(module: Any, name: str) -> None:
    """Warn that a trainable tensor was stored as a plain attribute and is not state."""
    warnings.warn(
        f"{type(module).__name__}.{name} is a tensor with requires_grad=True assigned as a plain "
        "attribute: it is not a parameter, so parameters(), the optimizer, state_dict() and "
        f"to() will not see it. Use self.{name} = nn.Parameter(tensor) to train it, or "
        f"self.register_buffer('{name}', tensor) for non-trainable state.",
        UserWarning, stacklevel=4)


def addindent(text: str, spaces: int) -> str:
    """Indent every line but the first of ``text`` (blank lines stay empty)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return "\n".join([lines[0]] + [pad + line if line.strip() else "" for line in lines[1:]])


def swappable(tensor: Tensor, converted: Tensor) -> bool:
    """Whether ``converted`` can become ``tensor``'s data in place (not across meta)."""
    return (tensor._device.type == "meta") == (converted._device.type == "meta")


def load_tensor(module: Any, name: str, key: str, current: Tensor, incoming: Any, assign: bool,
                error_msgs: list) -> None:
    """Copy (or with ``assign`` install) one checkpoint tensor into state ``name``."""
    if not isinstance(incoming, Tensor):
        error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor '
                          f"or Tensor-like object from checkpoint but received "
                          f"{type(incoming)}")
        return
    lazy = isinstance(current, UninitializedParameter)
    if not lazy and current.dim() == 0 and incoming.dim() == 1 and incoming.shape[0] == 1:
        incoming = incoming[0]  # checkpoints of torch <= 0.3 saved scalars as shape (1,)
    if not lazy and incoming.shape != current.shape:
        error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                          f"{incoming.shape} from checkpoint, the shape in current model is "
                          f"{current.shape}.")
        return
    if current._device is META and incoming._device is not META and not assign:
        warnings.warn(f"for {key}: copying from a non-meta parameter in the checkpoint to a "
                      "meta parameter in the current model, which is a no-op. (Did you mean "
                      "to pass `assign=True` to assign items in the state dictionary to their "
                      "corresponding key in the module instead of copying them in place?)",
                      stacklevel=3)
    try:
        with no_grad():
            if assign:
                if isinstance(current, Parameter):
                    if isinstance(incoming, Parameter):
                        incoming.requires_grad_(current.requires_grad)
                    else:
                        incoming = Parameter(incoming, requires_grad=current.requires_grad)
                setattr(module, name, incoming)
            else:
                copy_into(current, incoming)
    except Exception as exc:  # noqa: BLE001 - reported with the others, as torch does
        error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in '
                          f"the model are {current.size()} and whose dimensions in the "
                          f"checkpoint are {incoming.size()}, an exception occurred : "
                          f"{exc.args}.")
