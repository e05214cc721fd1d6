"""Reductions: sum, mean (the rest of the family lives beside them)."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from ._util import GRAD, Node, Tensor, record, wrap


def normalize_dims(dim, ndim: int) -> tuple:
    """``dim`` (int, sequence or None) as a tuple of non-negative axes; IndexError when out of
    range."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dim = (int(dim),)
    n = max(ndim, 1)
    out = []
    for d in dim:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {d})")
        out.append(d % n if ndim else 0)
    return tuple(out) if ndim else ()


def expand_reduced(g: np.ndarray, shape: tuple, axes: tuple, keepdim: bool) -> np.ndarray:
    """Broadcast a reduced gradient back to the input ``shape``."""
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


class SumBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        shape = self.shape
        if len(shape) <= 1 and (not shape or shape[0] <= 4096):
            # materialising a small gradient costs less than np.broadcast_to's Python overhead
            out = np.empty(shape, dtype=g.dtype)
            out[...] = g
            return (out,)
        return (np.broadcast_to(g, shape),)


class SumBackward1(Node):
    __slots__ = ("shape", "axes", "keepdim")

    def backward(self, g):
        return (expand_reduced(g, self.shape, self.axes, self.keepdim),)


class MeanBackward0(Node):
    __slots__ = ("shape", "count")

    def backward(self, g):
        return (np.broadcast_to(g / self.count, self.shape),)


class MeanBackward1(Node):
    __slots__ = ("shape", "axes", "keepdim", "count")

    def backward(self, g):
        return (expand_reduced(g / self.count, self.shape, self.axes, self.keepdim),)


def _sum_dtype(a: np.ndarray, dtype):
    if dtype is not None:
        return D.to_numpy_dtype(dtype)
    if a.dtype.kind in "biu":
        return np.int64
    return None


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum of all elements, or over ``dim`` (int or tuple)."""
    a = input._data
    if dim is None and not keepdim:
        r = np.add.reduce(a, axis=None, dtype=_sum_dtype(a, dtype))
        if type(r) is not np.ndarray:
            r = np.asarray(r)
        res = wrap(r, input)
        if GRAD.enabled and input._requires_grad:
            node = SumBackward0()
            node.shape = a.shape
            record(res, node, input)
        return res
    axes = normalize_dims(dim, a.ndim) if dim != () else tuple(range(a.ndim))
    res = wrap(np.add.reduce(a, axis=axes, keepdims=keepdim, dtype=_sum_dtype(a, dtype)), input)
    if GRAD.enabled and input._requires_grad:
        node = SumBackward1()
        node.shape, node.axes, node.keepdim = a.shape, axes, keepdim
        record(res, node, input)
    return res


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean of all elements, or over ``dim``; floating/complex inputs only."""
    a = input._data
    if dtype is not None:
        a = a.astype(D.to_numpy_dtype(dtype))
    if a.dtype.kind not in "fcV":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {D.from_numpy_dtype(a.dtype).name.capitalize()}")
    axes = normalize_dims(dim, a.ndim) if dim is not None and dim != () else tuple(range(a.ndim))
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    r = np.add.reduce(a, axis=axes, keepdims=keepdim)
    r = np.true_divide(r, count, dtype=a.dtype) if count else np.full_like(r, np.nan)
    res = wrap(r, input)
    if GRAD.enabled and input._requires_grad:
        if dim is None and not keepdim:
            node = MeanBackward0()
            node.shape, node.count = a.shape, count
        else:
            node = MeanBackward1()
            node.shape, node.axes, node.keepdim, node.count = a.shape, axes, keepdim, count
        record(res, node, input)
    return res


__all__ = ["sum", "mean"]
TENSOR_METHODS = ["sum", "mean"]
