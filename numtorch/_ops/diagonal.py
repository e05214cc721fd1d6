"""Differentiable diagonals: diagonal (a writable view, as torch's), diag, diag_embed, trace."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._shape_util import _fresh, _view, _wrap
from ._util import GRAD, Node, Tensor, record

__all__ = ["diagonal", "diag", "diag_embed", "trace"]
TENSOR_METHODS = __all__


def diagonal_view(a: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    """A writable NumPy view of the ``offset`` diagonal of dims ``d1``/``d2``, moved last."""
    key = [slice(None)] * a.ndim
    if offset >= 0:
        key[d2] = slice(offset, None)
    else:
        key[d1] = slice(-offset, None)
    b = a[tuple(key)]
    n = max(min(b.shape[d1], b.shape[d2]), 0)
    rest = [d for d in range(a.ndim) if d not in (d1, d2)]
    shape = tuple(b.shape[d] for d in rest) + (n,)
    strides = tuple(b.strides[d] for d in rest) + (b.strides[d1] + b.strides[d2],)
    return as_strided(b, shape, strides, writeable=a.flags.writeable)


class DiagonalBackward0(Node):
    __slots__ = ("shape", "offset", "dims")

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        diagonal_view(out, self.offset, *self.dims)[...] = g
        return (out,)


class DiagonalBackward0_copy(DiagonalBackward0):
    __slots__ = ()


class DiagEmbedBackward0(Node):
    __slots__ = ("offset", "dims")

    def backward(self, g):
        return (diagonal_view(g, self.offset, *self.dims).copy(),)


class TraceBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        diagonal_view(out, 0, 0, 1)[...] = g
        return (out,)


def _dims(a: np.ndarray, dim1: int, dim2: int) -> tuple:
    d1, d2 = _wrap(dim1, a.ndim), _wrap(dim2, a.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A view of the ``offset``-th diagonal of dims ``dim1``/``dim2`` (as the last dim)."""
    a = input._data
    d1, d2 = _dims(a, dim1, dim2)
    out = _view(input, diagonal_view(a, offset, d1, d2))
    if GRAD.enabled and input._requires_grad:
        node = DiagonalBackward0()
        node.shape, node.offset, node.dims = a.shape, offset, (d1, d2)
        record(out, node, input)
    return out


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (along ``dim1``/``dim2`` of the result) with the last dim of ``input`` on their
    ``offset`` diagonal."""
    a = input._data
    n = a.shape[-1] + abs(offset) if a.ndim else 1 + abs(offset)
    nd = a.ndim + 1
    d1, d2 = _wrap(dim1, nd), _wrap(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = list(a.shape[:-1])
    shape = []
    for d in range(nd):
        shape.append(n if d in (d1, d2) else rest.pop(0))
    res = np.zeros(shape, dtype=a.dtype)
    diagonal_view(res, offset, d1, d2)[...] = a
    out = _fresh(input, res)
    if GRAD.enabled and input._requires_grad:
        node = DiagEmbedBackward0()
        node.offset, node.dims = offset, (d1, d2)
        record(out, node, input)
    return out


def diag(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """A vector's square matrix with it on the ``diagonal``-th diagonal, or a copy of a matrix's
    ``diagonal``-th diagonal."""
    a = input._data
    if a.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if a.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{a.ndim}D")
    res = _fresh(input, diagonal_view(a, diagonal, 0, 1).copy())
    if GRAD.enabled and input._requires_grad:
        node = DiagonalBackward0_copy()
        node.shape, node.offset, node.dims = a.shape, diagonal, (0, 1)
        record(res, node, input)
    return res


def trace(input: Tensor) -> Tensor:
    """Sum of a matrix's main diagonal (integers sum to int64)."""
    a = input._data
    if a.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {a.ndim}")
    d = diagonal_view(a, 0, 0, 1)
    res = _fresh(input, np.asarray(d.sum(dtype=np.int64 if a.dtype.kind in "biu" else None)))
    if GRAD.enabled and input._requires_grad:
        node = TraceBackward0()
        node.shape = a.shape
        record(res, node, input)
    return res
