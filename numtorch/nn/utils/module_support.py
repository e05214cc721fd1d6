"""Small helpers of ``nn.Module``: torch's type names for messages, name checks, the in-place
copy of ``load_state_dict``, ``Module.to``'s arguments and the unregistered-tensor warning."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import _dtype as D
from ..._device import META
from ..._device import device as Device
from ..._tensor import Tensor, _parse_to
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter, UninitializedParameter

__all__ = ["typename", "addindent", "check_state_name", "check_compile_arguments", "copy_into",
           "load_tensor", "parse_module_to", "states_by_child", "swappable", "unexpected_under",
           "warn_unregistered"]


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


def _is_device(value: Any) -> bool:
    return value is None or isinstance(value, (str, Device)) or (
        isinstance(value, int) and not isinstance(value, bool))


def _is_bool(value: Any) -> bool:
    return type(value) is bool


_TO_SIGNATURES = (  # torch's three overloads of Module.to (memory_format keyword-only in each)
    (("device", _is_device), ("dtype", lambda v: v is None or isinstance(v, D.dtype)),
     ("non_blocking", _is_bool), ("copy", _is_bool)),
    (("dtype", lambda v: isinstance(v, D.dtype)), ("non_blocking", _is_bool),
     ("copy", _is_bool)),
    (("tensor", lambda v: isinstance(v, Tensor)), ("non_blocking", _is_bool), ("copy", _is_bool)),
)
_TO_OVERLOADS = tuple(
    f"({first}, bool non_blocking = False, bool copy = False, *, torch.memory_format "
    "memory_format = None)" for first in (
        "torch.device device = None, torch.dtype dtype = None", "torch.dtype dtype",
        "Tensor tensor"))


def _bind_to(signature: tuple, args: tuple, kwargs: dict) -> dict | None:
    """``Module.to``'s arguments bound to one overload by name, or None when they do not fit."""
    if len(args) > len(signature):
        return None
    checks = dict(signature)
    bound = {}
    for (name, fits), value in zip(signature, args):
        if not fits(value):
            return None
        bound[name] = value
    for name, value in kwargs.items():
        if name == "memory_format":  # numtorch's memory formats are their names
            if not (value is None or isinstance(value, str)):
                return None
        elif name not in checks or name in bound or not checks[name](value):
            return None
        bound[name] = value
    required = signature[0][0] if signature is not _TO_SIGNATURES[0] else None
    return bound if required is None or required in bound else None


def parse_module_to(args: tuple, kwargs: dict) -> tuple[Any, Any]:
    """``(device, dtype)`` from ``Module.to``'s arguments (``non_blocking`` and
    ``memory_format`` accepted and ignored), with torch's errors (arguments fitting none of its
    overloads, ``copy``, non-float dtypes) and its warning for complex dtypes."""
    if len(args) > 4:
        raise TypeError(f"to() takes from 0 to 4 positional arguments but {len(args)} were given")
    if args and type(args[0]) is bool:  # torch's parser reads a bare bool as dtype=torch.bool
        args = (D.bool_,) + args[1:]
    bound = next((b for b in (_bind_to(sig, args, kwargs) for sig in _TO_SIGNATURES)
                  if b is not None), None)
    if bound is None:
        from .._functional._argcheck import invalid_combination
        raise invalid_combination("to", args, kwargs, _TO_OVERLOADS, tensor_slots=0)
    if "copy" in bound:
        raise RuntimeError(".to() does not accept copy argument")
    device, dtype = bound.get("device"), bound.get("dtype")
    if "tensor" in bound:
        device, dtype = bound["tensor"]._device, bound["tensor"].dtype
    if isinstance(device, int):
        from ... import cuda
        if not cuda.is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
    device, dtype, _ = _parse_to((), {"device": device, "dtype": dtype})
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

def states_by_child(state_dict: dict, prefix: str, children: list) -> dict:
    """``{child name: the entries of state_dict under prefix + name + "."}`` in one pass (torch
    filters the whole dict once per child: quadratic for wide modules)."""
    states = {name: {} for name, _ in children}
    start = len(prefix)
    for key, value in state_dict.items():
        if key.startswith(prefix):
            head, dot, _ = key[start:].partition(".")
            if dot and head in states:
                states[head][key] = value
    return states


def unexpected_under(state_dict: dict, prefix: str, local_state: dict, children: dict,
                     extra_key: str) -> list[str]:
    """The keys under ``prefix`` naming neither a tensor of ``local_state`` nor one of the
    ``children`` modules (``extra_key``, the extra-state key, excepted)."""
    found = []
    start = len(prefix)
    for key in state_dict:
        if key.startswith(prefix) and key != extra_key:
            head, dot, _ = key[start:].partition(".")
            if (head not in children) if dot else (head not in local_state):
                found.append(key)
    return found


_COMPILE_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs",
                  "max-autotune")


def _compile_signature(model=None, *, fullgraph: bool = False, dynamic: bool | None = None,
                       backend: Any = "inductor", mode: str | None = None,
                       options: dict | None = None, name: str | None = None,
                       disable: bool = False, recompile_limit: int | None = None,
                       isolate_recompiles: bool = False, shapes_spec: Any = None) -> None:
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in _COMPILE_MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(_COMPILE_MODES)}")


_compile_signature.__name__ = _compile_signature.__qualname__ = "compile"


def check_compile_arguments(*args: Any, **kwargs: Any) -> None:
    """Raise what ``torch.compile(*args, **kwargs)`` raises for arguments it refuses before
    compiling anything (wrong arity or keywords, an unknown ``mode``, ``mode`` with
    ``options``). Backends and option names are not checked: nothing is compiled."""
    _compile_signature(*args, **kwargs)
