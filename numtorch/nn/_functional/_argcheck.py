"""torch's TypeErrors for non-tensor arguments of the functional layers.

torch rejects a NumPy array, list or number in three ways, and each function follows the one
torch uses for it:

- its C++ argument parser: ``linear(): argument 'input' (position 1) must be Tensor, not list``
  (:func:`not_tensor`), or for overloaded functions such as ``conv2d`` a listing of the
  overloads (:func:`invalid_combination`);
- its Python wrapper touching a tensor method first (``input.size()``, ``input.dim()``), which
  raises whatever Python raises for that object (:func:`touch`).

These run only after a cheap ``isinstance`` test has failed, never on the hot path.
"""
from __future__ import annotations

from typing import Any, NoReturn

from ..._tensor import Tensor

__all__ = ["py_typename", "not_tensor", "check_tensors", "touch", "invalid_combination",
           "CONV_OVERLOADS"]

_HEAPTYPE = 1 << 9
_TORCH_TYPE_NAMES: dict = {}


def _torch_type_names() -> dict:
    """numtorch's classes that torch implements in C, by torch's C type names."""
    if not _TORCH_TYPE_NAMES:
        from ... import _dtype
        from ..._device import device
        from ..._tensor import Size
        _TORCH_TYPE_NAMES.update({_dtype.dtype: "torch.dtype", device: "torch.device",
                                  Size: "torch.Size"})
    return _TORCH_TYPE_NAMES


def py_typename(obj: Any) -> str:
    """The C type name CPython reports for ``obj`` (``list``, ``numpy.ndarray``, ``Parameter``);
    numtorch's dtype, device and Size by torch's names (``torch.dtype``)."""
    cls = type(obj)
    torch_name = _torch_type_names().get(cls)
    if torch_name is not None:
        return torch_name
    if cls.__flags__ & _HEAPTYPE or cls.__module__ == "builtins":
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"


def not_tensor(function: str, name: str, position: int, value: Any) -> TypeError:
    """The argument parser's error for a non-tensor where a Tensor is required."""
    return TypeError(f"{function}(): argument '{name}' (position {position}) must be Tensor, "
                     f"not {py_typename(value)}")


def check_tensors(function: str, *arguments: tuple[str, Any] | None, optional: int = 0) -> None:
    """Raise :func:`not_tensor`'s error for the first ``(name, value)`` that is not a Tensor;
    the last ``optional`` arguments may also be None. Positions count from 1; a None entry
    stands for a non-tensor parameter (it takes a position, nothing is checked)."""
    last = len(arguments) - optional
    for position, argument in enumerate(arguments, 1):
        if argument is None:
            continue
        name, value = argument
        if not isinstance(value, Tensor) and not (value is None and position > last):
            raise not_tensor(function, name, position, value)


def touch(value: Any, method: str, *args: Any, function: str = "", name: str = "input",
          position: int = 1, call: bool = True) -> NoReturn:
    """Do what torch's Python wrapper does first with a non-tensor ``value`` -- call
    ``value.method(*args)``, or only read the attribute when not ``call`` -- so the same
    AttributeError or TypeError surfaces; should that succeed, raise the argument parser's
    error for ``function``."""
    member = getattr(value, method)
    if call:
        member(*args)
    raise not_tensor(function or method, name, position, value)


# ---------------------------------------------------------------------- overloaded functions
CONV_OVERLOADS = (
    "(Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, tuple of ints "
    "padding = 0, tuple of ints dilation = 1, int groups = 1)",
    "(Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, str padding = "
    "\"valid\", tuple of ints dilation = 1, int groups = 1)",
)


def _described(value: Any) -> str:
    """torch's description of an argument's type in a mismatch report (``tuple of (int, int)``)."""
    if isinstance(value, list):
        return f"list of [{', '.join(py_typename(v) for v in value)}]"
    if isinstance(value, tuple):
        inner = ", ".join(py_typename(v) for v in value)
        return f"tuple of ({inner}{',' if len(value) == 1 else ''})"
    return py_typename(value)


def _marked(args: tuple, kwargs: dict, tensor_slots: int) -> str:
    """The argument list with the ones that do not fit the overload between ``!`` marks (the
    first ``tensor_slots`` positions take a plain Tensor; no other position matches)."""
    parts = []
    for i, value in enumerate(args):
        fits = i < tensor_slots and py_typename(value) == "Tensor"
        parts.append(_described(value) if fits else f"!{_described(value)}!")
    parts += [f"!{key}={_described(value)}!" for key, value in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def invalid_combination(function: str, args: tuple, kwargs: dict, overloads: tuple[str, ...],
                        tensor_slots: int = 2) -> TypeError:
    """The argument parser's error when no overload of ``function`` accepts the arguments.

    Keyword arguments are listed in the order given (torch lists them in hash order)."""
    given = [py_typename(a) for a in args] + [f"{k}={py_typename(v)}" for k, v in kwargs.items()]
    shown = ", ".join(given) + (", " if kwargs and not args else "")
    lines = [f"{function}() received an invalid combination of arguments - got ({shown}), but "
             "expected one of:"]
    arity = len(args) + len(kwargs)
    for overload in overloads:
        lines.append(f" * {overload}")
        if arity == overload.count(", ") + 1:
            lines.append("      didn't match because some of the arguments have invalid types: "
                         + _marked(args, kwargs, tensor_slots))
    return TypeError("\n".join(lines) + "\n")
