"""Shared pieces of the differentiable ops: recording nodes, undoing broadcasting, promotion."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._device import CPU
from .._tensor import Tensor, _from_array, edge, _NP2DT
from ..autograd import grad_mode
from ..autograd.graph import Node

__all__ = ["GRAD", "Node", "Tensor", "wrap", "record", "unbroadcast", "binary_operands",
           "as_tensor_arg", "float_array", "check_inplace", "finish_inplace", "NP2DT"]

GRAD = grad_mode.STATE
NP2DT = _NP2DT
_PY_SCALARS = (int, float, bool, complex)


def wrap(arr, like: Tensor | None = None) -> Tensor:
    """Wrap an op's result array (NumPy scalars become 0-d arrays) on ``like``'s device."""
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)
    t = object.__new__(Tensor)
    t._data = arr
    if like is not None and like._device is not CPU:
        t._device = like._device
    return t


def record(out: Tensor, node: Node, *inputs: Tensor) -> Tensor:
    """Attach ``node`` as ``out``'s grad_fn with edges into ``inputs``; returns ``out``."""
    node.next_functions = tuple(edge(t) for t in inputs)
    out.grad_fn = node
    out._requires_grad = True
    return out


def needs_grad(*tensors) -> bool:
    """Whether an op over these tensors must be recorded."""
    if not GRAD.enabled:
        return False
    for t in tensors:
        if t._requires_grad:
            return True
    return False


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the dimensions broadcasting added to reach it from ``shape``."""
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(shape)
    return grad.reshape(shape) if grad.shape != shape else grad


def float_array(a: np.ndarray) -> np.ndarray:
    """``a`` itself when floating or complex, else cast to the default float dtype."""
    if a.dtype.kind in "fcV":
        return a
    return a.astype(D.get_default_dtype().np)


def as_tensor_arg(x, like: Tensor) -> Tensor:
    """Turn a scalar/array argument into a tensor with torch's dtype rules."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, _PY_SCALARS):
        return wrap(np.asarray(x, dtype=D.scalar_dtype(x).np), like)
    if isinstance(x, np.generic):
        return wrap(np.asarray(x), like)
    arr = np.asarray(x)
    if arr.dtype == np.float64 and not isinstance(x, np.ndarray):
        arr = arr.astype(D.get_default_dtype().np)
    return wrap(arr, like)


def binary_operands(a: Tensor, b):
    """Arrays for ``a op b`` cast to torch's result dtype; ``b`` may be a tensor or a scalar.

    Returns ``(a_array, b_array_or_scalar, b_tensor_or_None)``.
    """
    ad = a._data
    if isinstance(b, Tensor):
        bd = b._data
        if ad.dtype == bd.dtype:
            return ad, bd, b
        da, db = _NP2DT[ad.dtype], _NP2DT[bd.dtype]
        dims = [d for d, arr in ((da, ad), (db, bd)) if arr.ndim]
        zero = [d for d, arr in ((da, ad), (db, bd)) if not arr.ndim]
        rt = D.result_type(dims, zero, ()).np
        return (ad if ad.dtype == rt else ad.astype(rt)), (bd if bd.dtype == rt else
                                                           bd.astype(rt)), b
    if isinstance(b, _PY_SCALARS):
        cat = ad.dtype.kind
        if type(b) is float:
            if cat in "biu":
                ad = ad.astype(D.get_default_dtype().np)
        elif type(b) is int:
            if cat == "b":
                ad = ad.astype(np.int64)
            elif cat in "iu":
                info = np.iinfo(ad.dtype)
                if not info.min <= b <= info.max:
                    b = np.array(b).astype(ad.dtype)
        elif type(b) is complex:
            if cat != "c":
                ad = ad.astype(D.get_default_dtype().to_complex().np if cat in "biu" else
                               NP2DT[ad.dtype].to_complex().np)
        if ad.dtype.kind == "V" or ad.dtype == D.bfloat16.np:
            b = np.asarray(b, dtype=ad.dtype)
        return ad, b, None
    if isinstance(b, np.generic):
        return binary_operands(a, b.item())
    if isinstance(b, np.ndarray):
        return binary_operands(a, wrap(b))
    raise TypeError(f"unsupported operand type(s): 'Tensor' and '{type(b).__name__}'")


def check_inplace(t: Tensor) -> bool:
    """Refuse in-place changes to leaves that require grad; True when the op must be recorded."""
    if t._requires_grad and GRAD.enabled:
        if t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        return True
    return False


def finish_inplace(t: Tensor, result: Tensor) -> Tensor:
    """Write an out-of-place ``result`` into ``t`` (bumping its version) and adopt its history."""
    if result._data.dtype != t._data.dtype and not np.can_cast(result._data.dtype, t._data.dtype,
                                                              "same_kind"):
        raise RuntimeError(f"result type {_type_word(result._data.dtype)} can't be cast to the "
                           f"desired output type {_type_word(t._data.dtype)}")
    if t._data.flags.writeable:
        np.copyto(t._data, np.broadcast_to(result._data, t._data.shape), casting="unsafe")
    else:
        t._data = np.array(np.broadcast_to(result._data, t._data.shape), dtype=t._data.dtype)
    t._bump()
    if result.grad_fn is not None:
        t.grad_fn = result.grad_fn
        t._output_nr = result._output_nr
        t._requires_grad = True
    return t


_TYPE_WORDS = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
               "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _type_word(np_dtype) -> str:
    return _TYPE_WORDS.get(_NP2DT[np.dtype(np_dtype)].name, str(np_dtype))


def check_inplace_dtype(t: Tensor, result_np_dtype) -> None:
    """torch's error when an in-place result cannot be stored in ``t``'s dtype."""
    src = _NP2DT[np.dtype(result_np_dtype)]
    dst = _NP2DT[t._data.dtype]
    if src._category > dst._category:
        raise RuntimeError(f"result type {_type_word(src.np)} can't be cast to the desired output "
                           f"type {_type_word(dst.np)}")
