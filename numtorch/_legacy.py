"""Legacy and small top-level helpers: ``torch.FloatTensor``-style types, ``typename``,
``is_nonzero``, ``result_type``."""
from __future__ import annotations

import numpy as np

from . import _dtype as D
from ._tensor import Tensor, _TYPE_NAMES, _from_array, _legacy_constructor_data

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
           "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "typename",
           "is_nonzero", "result_type"]


class _LegacyTensorType(type):
    """``isinstance(t, torch.FloatTensor)`` is true for CPU tensors of that dtype."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj._device.type == "cpu" and \
            obj._data.dtype == cls._dtype.np

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _legacy_type(name: str, dt: D.dtype):
    def __new__(cls, *args, **kwargs):
        return _from_array(_legacy_constructor_data(args, kwargs, dt.np))
    return _LegacyTensorType(name, (), {"__new__": __new__, "_dtype": dt, "dtype": dt,
                                        "__doc__": f"Legacy constructor of {dt!r} tensors."})


_BY_TYPE_NAME = {v: D.by_name(k) for k, v in _TYPE_NAMES.items()}
FloatTensor = _legacy_type("FloatTensor", D.float32)
DoubleTensor = _legacy_type("DoubleTensor", D.float64)
HalfTensor = _legacy_type("HalfTensor", D.float16)
BFloat16Tensor = _legacy_type("BFloat16Tensor", D.bfloat16)
LongTensor = _legacy_type("LongTensor", D.int64)
IntTensor = _legacy_type("IntTensor", D.int32)
ShortTensor = _legacy_type("ShortTensor", D.int16)
CharTensor = _legacy_type("CharTensor", D.int8)
ByteTensor = _legacy_type("ByteTensor", D.uint8)
BoolTensor = _legacy_type("BoolTensor", D.bool_)


def typename(obj) -> str:
    """``torch.FloatTensor`` for tensors, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(type(obj), "__qualname__", type(obj).__name__)
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"


def is_nonzero(input: Tensor) -> bool:
    """The truth value of a single-element tensor."""
    n = input._data.size
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def result_type(tensor1, tensor2) -> D.dtype:
    """The dtype torch's promotion gives an operation on the two arguments (tensors or
    numbers)."""
    dims, zero, scalars = [], [], []
    for x in (tensor1, tensor2):
        if isinstance(x, Tensor):
            (dims if x._data.ndim else zero).append(x.dtype)
        elif isinstance(x, (bool, int, float, complex, np.generic)):
            scalars.append(x.item() if isinstance(x, np.generic) else x)
        else:
            raise TypeError(f"result_type() received an invalid combination of arguments - got "
                            f"({type(tensor1).__name__}, {type(tensor2).__name__})")
    return D.result_type(dims, zero, scalars)
