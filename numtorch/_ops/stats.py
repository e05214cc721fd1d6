"""More reductions: var_mean/std_mean, aminmax, median, nansum, cumprod.

Multi-output ops (var_mean, std_mean, aminmax) record one node with two outputs, as torch does.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ._util import GRAD, Node, Tensor, record, wrap
from .reduce import (_acc, _axes, _check_nonempty, _count, _return_type, _sum_dtype, _var,
                     expand_reduced, normalize_dims)

__all__ = ["var_mean", "std_mean", "aminmax", "median", "nansum", "cumprod"]
TENSOR_METHODS = ["aminmax", "median", "nansum", "cumprod"]

median_result = _return_type("median")
aminmax_result = namedtuple("aminmax", ["min", "max"])
aminmax_result.__module__ = "numtorch.return_types"


def _second_output(node: Node, out: Tensor) -> None:
    """Make ``out`` the node's output 1."""
    out.grad_fn = node
    out._output_nr = 1
    out._requires_grad = True


# ---------------------------------------------------------------------- var_mean / std_mean
class VarMeanBackward0(Node):
    __slots__ = ("axes", "keepdim", "dof", "count")
    num_outputs = 2

    def backward(self, g_first, g_mean):
        saved = self.saved_tensors_checked()
        xd = saved[0]._data
        xa = _acc(xd)
        centred = xa - xa.mean(axis=self.axes, keepdims=True)
        total = np.zeros(xd.shape, dtype=xa.dtype)
        if g_first is not None:
            total = total + self._first(g_first, centred, saved)
        if g_mean is not None:
            total = total + expand_reduced(_acc(g_mean) / self.count, xd.shape, self.axes,
                                           self.keepdim)
        return (total.astype(xd.dtype, copy=False),)

    def _first(self, g, centred, saved):
        ge = expand_reduced(_acc(g), centred.shape, self.axes, self.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return ge * centred * (2.0 / self.dof)


class StdMeanBackward0(VarMeanBackward0):
    __slots__ = ()

    def _first(self, g, centred, saved):
        o = _acc(saved[1]._data)
        with np.errstate(divide="ignore", invalid="ignore"):
            per = np.where(o == 0, 0, _acc(g) / o)
            return expand_reduced(per, centred.shape, self.axes, self.keepdim) * centred / \
                self.dof


def _var_mean(input, dim, unbiased, keepdim, correction, take_sqrt: bool):
    name = "std_mean" if take_sqrt else "var_mean"
    a, axes, v, dof = _var(input, dim, unbiased, keepdim, correction, name)
    first = np.sqrt(v) if take_sqrt else v
    x = input._data
    m = np.add.reduce(_acc(x), axis=axes, keepdims=keepdim) / max(_count(x.shape, axes), 1)
    t1 = wrap(np.asarray(first).astype(a.dtype, copy=False), input)
    t2 = wrap(np.asarray(m).astype(x.dtype, copy=False), input)
    if GRAD.enabled and input._requires_grad:
        node = StdMeanBackward0() if take_sqrt else VarMeanBackward0()
        node.axes, node.keepdim, node.dof = axes, keepdim, dof
        node.count = _count(a.shape, axes)
        node.save(input, t1) if take_sqrt else node.save(input)
        record(t1, node, input)
        _second_output(node, t2)
    return t1, t2


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """``(var, mean)`` over ``dim`` in one pass."""
    return _var_mean(input, dim, unbiased, keepdim, correction, False)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """``(std, mean)`` over ``dim`` in one pass."""
    return _var_mean(input, dim, unbiased, keepdim, correction, True)


# ---------------------------------------------------------------------- aminmax, median
class AminmaxBackward0(Node):
    """Each of min and max shares its gradient evenly among tied elements."""
    __slots__ = ("axes", "keepdim")
    num_outputs = 2

    def backward(self, g_min, g_max):
        x, lo, hi = self.saved_tensors_checked()
        xd = x._data
        total = np.zeros(xd.shape, dtype=np.result_type(xd.dtype, np.float32)
                         if xd.dtype.kind == "V" else xd.dtype)
        for g, ext in ((g_min, lo), (g_max, hi)):
            if g is None:
                continue
            e = expand_reduced(ext._data, xd.shape, self.axes, self.keepdim)
            mask = xd == e
            count = np.add.reduce(mask, axis=self.axes, keepdims=True)
            total = total + expand_reduced(_acc(g), xd.shape, self.axes, self.keepdim) * mask / \
                count
        return (total.astype(xd.dtype),)


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    """``(min, max)`` of all elements or along ``dim``."""
    a = input._data
    if dim is None:
        if a.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        axes = tuple(range(a.ndim))
    else:
        axes = normalize_dims(dim, a.ndim)
        _check_nonempty(a, "aminmax", axes)
    lo = wrap(np.asarray(np.min(a, axis=axes, keepdims=keepdim)), input)
    hi = wrap(np.asarray(np.max(a, axis=axes, keepdims=keepdim)), input)
    if GRAD.enabled and input._requires_grad:
        node = AminmaxBackward0()
        node.axes, node.keepdim = axes, keepdim
        node.save(input, lo, hi)
        record(lo, node, input)
        _second_output(node, hi)
    return aminmax_result(lo, hi)


class MedianBackward0(Node):
    """Full median: the gradient is shared evenly among elements equal to it."""
    __slots__ = ()

    def backward(self, g):
        x, out = self.saved_tensors_checked()
        xd = x._data
        mask = xd == out._data
        return ((_acc(g) * mask / max(int(mask.sum()), 1)).astype(xd.dtype),)


class MedianBackward1(Node):
    """Median along a dim: the gradient goes to the selected index."""
    __slots__ = ("shape", "axis", "keepdim", "indices", "dtype")

    def backward(self, g):
        out = np.zeros(self.shape, dtype=self.dtype)
        idx, gg = self.indices, g
        if not self.keepdim:
            idx, gg = np.expand_dims(idx, self.axis), np.expand_dims(g, self.axis)
        np.put_along_axis(out, idx, gg, axis=self.axis)
        return (out,)


def _lower_median_index(a: np.ndarray, axis: int) -> np.ndarray:
    """Index (keepdims) of the lower median along ``axis``; NaN counts as the largest and a NaN
    in the slice makes it the median, as in torch."""
    order = np.argsort(a, axis=axis, kind="stable")
    k = (a.shape[axis] - 1) // 2
    idx = np.take(order, [k], axis=axis)
    if a.dtype.kind in "fV":
        nan = np.isnan(a)
        has = nan.any(axis=axis, keepdims=True)
        first_nan = np.argmax(nan, axis=axis, keepdims=True)
        idx = np.where(has, first_nan, idx)
    return idx


def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median of all elements; with ``dim``, (values, indices) along it."""
    a = input._data
    if dim is None:
        if a.size == 0:
            return wrap(np.asarray(np.nan, dtype=a.dtype), input)
        flat = a.reshape(-1)
        idx = _lower_median_index(flat, 0)
        res = wrap(np.asarray(flat[idx[0]]), input)
        if GRAD.enabled and input._requires_grad:
            node = MedianBackward0()
            node.save(input, res)
            record(res, node, input)
        return res
    (axis,) = normalize_dims(dim, a.ndim) or (None,)
    if axis is None:
        values, idx = a.copy(), np.zeros((), dtype=np.int64)
    else:
        _check_nonempty(a, "median", (axis,))
        idx = _lower_median_index(a, axis)
        values = np.take_along_axis(a, idx, axis=axis)
        if not keepdim:
            idx, values = np.squeeze(idx, axis), np.squeeze(values, axis)
    vt = wrap(values, input)
    if GRAD.enabled and input._requires_grad:
        node = MedianBackward1()
        node.shape, node.axis, node.keepdim, node.dtype = a.shape, axis or 0, keepdim, a.dtype
        node.indices = idx if axis is not None else np.zeros(a.shape, dtype=np.int64)
        if axis is None:
            node.keepdim = True
        record(vt, node, input)
    return median_result(vt, wrap(np.asarray(idx, dtype=np.int64), input))


# ---------------------------------------------------------------------- nansum, cumprod
class NansumBackward0(Node):
    __slots__ = ("axes", "keepdim")

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        xd = x._data
        ge = expand_reduced(g, xd.shape, self.axes, self.keepdim)
        return ((ge * ~np.isnan(xd)).astype(xd.dtype),)


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum treating NaN as zero."""
    a = input._data
    sd = _sum_dtype(a, dtype)
    if sd is not None and a.dtype != sd:
        a = a.astype(sd)
    axes = _axes(dim, a.ndim)
    xa = _acc(a)
    r = np.add.reduce(np.where(np.isnan(xa), 0, xa) if xa.dtype.kind == "f" else xa, axis=axes,
                      keepdims=keepdim)
    res = wrap(np.asarray(r).astype(a.dtype, copy=False), input)
    if GRAD.enabled and input._requires_grad:
        node = NansumBackward0()
        node.axes, node.keepdim = axes, keepdim
        node.save(input)
        record(res, node, input)
    return res


class CumprodBackward0(Node):
    __slots__ = ("axis",)

    def backward(self, g):
        x, out = self.saved_tensors_checked()
        xd, od = _acc(x._data), _acc(out._data)
        g = _acc(g)
        if xd.ndim == 0:
            return (g.astype(x._data.dtype),)
        ax = self.axis
        if not (xd == 0).any():
            rev = np.flip(np.cumsum(np.flip(g * od, ax), axis=ax), ax)
            return ((rev / xd).astype(x._data.dtype),)
        return (_cumprod_grad_with_zeros(g, xd, ax).astype(x._data.dtype),)


def _cumprod_grad_with_zeros(g: np.ndarray, x: np.ndarray, axis: int) -> np.ndarray:
    """d/dx_i of sum_j g_j * prod_{k<=j} x_k, exact when some x are zero: for each i, the
    running product with x_i replaced by one (vectorised over i; O(n^2) along ``axis``)."""
    xm = np.moveaxis(x, axis, -1)
    gm = np.moveaxis(g, axis, -1)
    n = xm.shape[-1]
    rep = np.broadcast_to(xm[..., None, :], xm.shape[:-1] + (n, n)).copy()
    eye = np.eye(n, dtype=bool)
    rep[..., eye] = 1
    prods = np.cumprod(rep, axis=-1)                      # [..., i, j]
    upper = np.triu(np.ones((n, n), dtype=bool))          # j >= i
    grad = np.sum(prods * upper * gm[..., None, :], axis=-1)
    return np.moveaxis(grad, -1, axis)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along ``dim``; integers and bools multiply as int64."""
    a = input._data
    sd = _sum_dtype(a, dtype)
    if sd is not None and a.dtype != sd:
        a = a.astype(sd)
    (axis,) = normalize_dims(dim, a.ndim) or (None,)
    r = np.cumprod(_acc(a), axis=axis).astype(a.dtype, copy=False) if axis is not None else \
        a.copy()
    res = wrap(r, input)
    if GRAD.enabled and input._requires_grad:
        node = CumprodBackward0()
        node.axis = axis or 0
        node.save(input, res)
        record(res, node, input)
    return res
