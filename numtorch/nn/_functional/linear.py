"""Linear and bilinear maps, each one fused node."""
from __future__ import annotations

import numpy as np

from ._argcheck import check_tensors
from ._common import GRAD, Node, Tensor, needs_grad, record, wants, wrap
from ._dtype_checks import check_bilinear_dtypes, check_linear_dtypes

__all__ = ["linear", "bilinear"]


class AddmmBackward0(Node):
    """Gradient of ``x @ W.T (+ b)`` for input of any rank (the last dim is the features)."""

    __slots__ = ("in_shape",)

    def backward(self, g):
        x, w = self.saved_tensors_checked()
        xd, wd = x._data, w._data
        if not g.flags.c_contiguous:  # e.g. broadcast by sum's backward: BLAS needs real strides
            g = np.ascontiguousarray(g)
        g2 = g.reshape(-1, wd.shape[0]) if g.ndim != 2 else g
        gx = gw = gb = None
        if wants(self, 0):
            gx = np.matmul(g2, wd).reshape(self.in_shape)
        if wants(self, 1):
            x2 = xd.reshape(-1, wd.shape[1]) if xd.ndim != 2 else xd
            gw = np.matmul(g2.T, x2)
        if len(self.next_functions) == 3 and wants(self, 2):
            gb = g2.sum(axis=0)
        return (gx, gw, gb) if len(self.next_functions) == 3 else (gx, gw)


def _named(name: str):
    return type(name, (AddmmBackward0,), {"__slots__": ()})


MmBackward0 = _named("MmBackward0")
ViewBackward0 = _named("ViewBackward0")
UnsafeViewBackward0 = _named("UnsafeViewBackward0")
SqueezeBackward4 = _named("SqueezeBackward4")


def _node_for(ndim: int, has_bias: bool) -> Node:
    if ndim == 2:
        return AddmmBackward0() if has_bias else MmBackward0()
    if ndim == 1 and not has_bias:
        return SqueezeBackward4()
    return ViewBackward0() if has_bias else UnsafeViewBackward0()


def _check_linear(x: np.ndarray, w: np.ndarray, b) -> None:
    """torch's errors for operands ``linear`` cannot multiply, in its order: ranks, then with a
    bias ``addmm``'s dtype checks before the shapes, without one ``matmul``'s after them."""
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{x.ndim}D and {w.ndim}D")
    if w.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w.ndim}D")
    if b is not None:
        check_linear_dtypes(x.dtype, w.dtype, b.dtype)
        if w.ndim == 1 and x.ndim > 1:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
    if x.shape[-1] != w.shape[-1]:
        rows = x.size // x.shape[-1] if x.shape[-1] else int(np.prod(x.shape[:-1]))
        wr, wc = (w.shape[1], w.shape[0]) if w.ndim == 2 else (w.shape[0], 1)
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} "
                           f"and {wr}x{wc})")
    check_linear_dtypes(x.dtype, w.dtype, None)


def _vector_weight(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``linear`` with a 1-D weight: a matrix-vector (or dot) product, as torch computes it."""
    from ... import _ops
    out = _ops.linalg.matmul(input, weight)
    return out if bias is None else out + bias


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` over the last dimension of ``input``."""
    try:
        x, w = input._data, weight._data
        b = None if bias is None else bias._data
    except AttributeError:
        check_tensors("linear", ("input", input), ("weight", weight), ("bias", bias), optional=1)
        raise
    if w.dtype != x.dtype or x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1] or (
            b is not None and b.dtype != x.dtype):
        _check_linear(x, w, b)
        if w.ndim == 1:
            return _vector_weight(input, weight, bias)
    if x.dtype.kind == "b":
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    out = np.matmul(x, w.T)
    if out.dtype != x.dtype:  # ml_dtypes' bfloat16 matmul returns float32
        out = out.astype(x.dtype)
    if b is not None:
        try:
            out += b
        except ValueError:
            raise RuntimeError(
                f"The expanded size of the tensor ({out.shape[-1]}) must match the existing size "
                f"({b.shape[-1]}) at non-singleton dimension {out.ndim - 1}.  Target sizes: "
                f"{list(out.shape)}.  Tensor sizes: {list(b.shape)}") from None
    res = wrap(out, input)
    if GRAD.enabled and (input._requires_grad or weight._requires_grad or
                           (bias is not None and bias._requires_grad)):
        node = _node_for(x.ndim, bias is not None)
        node.in_shape = x.shape
        node.save(input, weight)
        if bias is None:
            record(res, node, input, weight)
        else:
            record(res, node, input, weight, bias)
    return res


class BilinearBackward(Node):
    """Gradient of ``x1 W x2 (+ b)``."""

    __slots__ = ("shapes", "tmp")

    def backward(self, g):
        x1, x2, w = self.saved_tensors_checked()
        s1, s2 = self.shapes
        a, b_, wd = x1._data.reshape(-1, s1[-1]), x2._data.reshape(-1, s2[-1]), w._data
        g = np.ascontiguousarray(g)
        g2 = g.reshape(a.shape[0], wd.shape[0])
        o, i, j = wd.shape
        out = [None] * len(self.next_functions)
        if wants(self, 0):
            gx1 = np.matmul((g2[:, :, None] * b_[:, None, :]).reshape(-1, o * j),
                            wd.transpose(0, 2, 1).reshape(o * j, i))
            out[0] = gx1.reshape(s1)
        if wants(self, 1):
            out[1] = (g2[:, :, None] * self.tmp).sum(axis=1).reshape(s2)
        if wants(self, 2):
            outer = (a[:, :, None] * b_[:, None, :]).reshape(a.shape[0], i * j)
            out[2] = np.matmul(g2.T, outer).reshape(o, i, j)
        if len(out) == 4 and wants(self, 3):
            out[3] = g2.sum(axis=0)
        return tuple(out)


AddBackward0 = type("AddBackward0", (BilinearBackward,), {"__slots__": ()})
ViewBackwardBilinear = type("ViewBackward0", (BilinearBackward,), {"__slots__": ()})


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """``y[o] = x1 @ weight[o] @ x2 + bias[o]`` over the last dimension of both inputs."""
    check_tensors("bilinear", ("input1", input1), ("input2", input2), ("weight", weight),
                  ("bias", bias), optional=1)
    x1, x2, w = input1._data, input2._data, weight._data
    check_bilinear_dtypes(x1.dtype, x2.dtype, w.dtype, None if bias is None else bias._data.dtype)
    if w.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3D, but got {w.ndim}D")
    if x1.shape[:-1] != x2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(x1.shape[:-1])} and {list(x2.shape[:-1])}")
    o, i, j = w.shape
    if x1.shape[-1] != i:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{x1.shape[-1]} but expected {i}")
    if x2.shape[-1] != j:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{x2.shape[-1]} but expected {j}")
    a, b_ = x1.reshape(-1, i), x2.reshape(-1, j)
    tmp = np.matmul(a, w.transpose(1, 0, 2).reshape(i, o * j)).reshape(-1, o, j)
    out = np.matmul(tmp, b_[:, :, None])[:, :, 0].astype(x1.dtype, copy=False)
    if bias is not None:
        out = out + bias._data
    res = wrap(out.reshape(x1.shape[:-1] + (o,)), input1)
    tensors = (input1, input2, weight) + (() if bias is None else (bias,))
    if needs_grad(*tensors):
        node = AddBackward0() if bias is not None else ViewBackwardBilinear()
        node.shapes, node.tmp = (x1.shape, x2.shape), tmp
        node.save(input1, input2, weight)
        record(res, node, *tensors)
    return res
