"""Helpers shared by the shape, join, indexing and linalg ops: wrapping results as views
(sharing memory and version counter) or as fresh tensors, size arguments and dim checks."""
from __future__ import annotations

import inspect
import operator

import numpy as np

from .._device import CPU
from .._tensor import Tensor
from ..autograd.grad_mode import INFERENCE_OPEN, mark_if_inference
from ._util import apply_inplace, out_into

_NEW = object.__new__
_index = operator.index


def _view(input: Tensor, arr: np.ndarray) -> Tensor:
    """A tensor over ``arr`` (a NumPy view of ``input``'s array) that shares its version."""
    out = _NEW(Tensor)
    out._data = arr
    if input._device is not CPU:
        out._device = input._device
    out._vc = input._shared_vc()
    base = input._base
    out._base = input if base is None else base
    return out


def _fresh(input: Tensor, arr: np.ndarray) -> Tensor:
    """A tensor owning ``arr`` (a new array), on ``input``'s device."""
    out = _NEW(Tensor)
    out._data = arr
    if input._device is not CPU:
        out._device = input._device
    if INFERENCE_OPEN[0]:
        mark_if_inference(out)
    return out


def _size_args(args, fn: str = "view") -> tuple:
    """Sizes given as varargs or as one sequence, as a tuple of ints."""
    if len(args) == 1:
        first = args[0]
        if type(first) is not int and not isinstance(first, (np.integer, Tensor)):
            args = first
    for s in args:
        if type(s) is not int:
            break
    else:
        return args if isinstance(args, tuple) else tuple(args)
    try:
        return tuple(map(_index, args))
    except TypeError:
        bad = next(a for a in args if not hasattr(a, "__index__"))
        raise TypeError(f"{fn}(): argument 'size' (position 1) must be tuple of ints, but found "
                        f"element of type {type(bad).__name__}") from None


def _reshaped_view(a: np.ndarray, shape: tuple) -> np.ndarray:
    """``a`` seen with ``shape`` without copying; ValueError when that needs a copy."""
    if a.flags.c_contiguous:
        return a.reshape(shape)
    return a.reshape(shape, copy=False)


def infer_size(shape: tuple, numel: int) -> tuple:
    """``shape`` with its one ``-1`` resolved for ``numel`` elements; torch's errors otherwise."""
    neg = None
    prod = 1
    for i, s in enumerate(shape):
        if s == -1:
            if neg is not None:
                raise RuntimeError("only one dimension can be inferred")
            neg = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
        else:
            prod *= s
    if neg is None:
        if prod != numel:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return shape
    if prod == 0:
        raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because "
                           "the unspecified dimension size -1 can be any value and is ambiguous")
    if numel % prod:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape[:neg] + (numel // prod,) + shape[neg + 1:]


def _dim_error(dim: int, n: int) -> IndexError:
    return IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but "
                      f"got {dim})")


def _wrap(dim, ndim: int) -> int:
    dim = _index(dim)
    n = ndim if ndim else 1
    if dim < -n or dim >= n:
        raise _dim_error(dim, n)
    return dim % n


def _write_out(res: Tensor, out) -> Tensor:
    """``res``, or ``res`` copied into ``out`` when given."""
    if out is None:
        return res
    return out_into(res, out)


def inplace_of(op, name: str):
    """The in-place method ``name`` of an out-of-place ``op`` (torch's leaf/dtype errors, version
    bump, history adopted; on a view the base's history is rewritten as torch's CopySlices)."""
    def checked(x: Tensor, *args, **kwargs) -> Tensor:
        res = op(x, *args, **kwargs)
        if res._data.shape != x._data.shape:
            raise RuntimeError(f"output with shape {list(x._data.shape)} doesn't match the "
                               f"broadcast shape {list(res._data.shape)}")
        return res

    signature = inspect.signature(op)

    def method(self: Tensor, *args, **kwargs) -> Tensor:
        if kwargs:          # tensors given by keyword must count when deciding to record
            bound = signature.bind(self, *args, **kwargs)
            args, kwargs = bound.args[1:], bound.kwargs
        return apply_inplace(self, checked, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"In-place :func:`{op.__name__}`; returns self."
    return method
