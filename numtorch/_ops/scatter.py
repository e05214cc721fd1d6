"""Differentiable index-driven gathers and scatters: gather, scatter (src or value, optional
add/multiply reduction), scatter_add, index_select, and their in-place forms."""
from __future__ import annotations

import numpy as np

from ._shape_util import _fresh, _wrap, _write_out, inplace_of
from ._util import GRAD, Node, Tensor, record

__all__ = ["gather", "scatter", "scatter_add", "index_select"]
TENSOR_METHODS = __all__ + ["scatter_", "scatter_add_"]

_INT_KINDS = "iu"


def _index_grid(index: np.ndarray, axis: int) -> tuple:
    """A NumPy index addressing ``index[pos]`` along ``axis`` and ``pos`` along the others."""
    nd = index.ndim
    grid = []
    for d, s in enumerate(index.shape):
        if d == axis:
            grid.append(index)
        else:
            shp = [1] * nd
            shp[d] = s
            grid.append(np.arange(s).reshape(shp))
    return tuple(grid)


def _out_of_range(idx: np.ndarray, size: int) -> bool:
    """Whether any index is negative or ``>= size`` (one reduction: negatives read as unsigned
    are huge)."""
    if not idx.size:
        return False
    if idx.dtype.kind == "i":
        idx = idx.view(idx.dtype.str.replace("i", "u"))
    return int(idx.max()) >= size


def _check_index(fn: str, index: Tensor, self_shape: tuple, axis: int, src_shape=None):
    idx = index._data
    if idx.dtype.kind not in _INT_KINDS:
        raise RuntimeError(f"{fn}(): Expected dtype int32/int64 for index")
    if idx.ndim != len(self_shape) and (idx.ndim or len(self_shape) > 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if fn == 'gather' else 'self'} tensor")
    ishape = idx.shape if idx.ndim else (1,) * len(self_shape)
    sshape = self_shape if self_shape else (1,)
    too_big = any(i > s for d, (i, s) in enumerate(zip(ishape, sshape)) if d != axis)
    src_big = src_shape is not None and any(i > s for i, s in zip(ishape, src_shape or (1,)))
    if too_big or src_big:
        if fn == "gather":
            raise RuntimeError(f"Size does not match at dimension {next(d for d in range(len(ishape)) if d != axis and ishape[d] > sshape[d])} expected index {list(idx.shape)} to be no larger than self {list(self_shape)} apart from dimension {axis}")
        msg = (f"Expected index {list(idx.shape)} to be no larger than self {list(self_shape)} "
               f"apart from dimension {axis}")
        if src_shape is not None:
            msg += f" and to be no larger size than src {list(src_shape)}"
        raise RuntimeError(msg)
    size = sshape[axis]
    if _out_of_range(idx, size):
        hi, lo = int(idx.max()), int(idx.min())
        if hi >= size or lo < 0:
            raise RuntimeError(f"index {hi if hi >= size else lo} is out of bounds for dimension "
                               f"{axis} with size {size}")
    return idx.reshape(ishape)


class GatherBackward0(Node):
    __slots__ = ("shape", "grid")

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(out, self.grid, g)
        return (out,)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False,
           out=None) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` along ``dim`` (index no larger than input apart
    from ``dim``)."""
    a = input._data
    axis = _wrap(dim, a.ndim)
    idx = _check_index("gather", index, a.shape, axis)
    src = a if a.ndim else a.reshape(1)
    grid = _index_grid(idx, axis)
    res = _fresh(input, src[grid].reshape(index._data.shape))
    if GRAD.enabled and input._requires_grad:
        node = GatherBackward0()
        node.shape, node.grid = a.shape, grid
        record(res, node, input)
    return _write_out(res, out)


class ScatterBackward0(Node):
    __slots__ = ("grid", "src_shape", "add")

    def backward(self, g):
        gs = gv = None
        if self.next_functions[0][0] is not None:
            if self.add:
                gs = g
            else:
                gs = g.copy()
                gs[self.grid] = 0
        if len(self.next_functions) > 1 and self.next_functions[1][0] is not None:
            gv = np.zeros(self.src_shape, dtype=g.dtype)
            part = g[self.grid]
            gv[tuple(slice(0, s) for s in part.shape)] = part
        return (gs, gv) if len(self.next_functions) > 1 else (gs,)


class ScatterBackward1(ScatterBackward0):
    __slots__ = ()


class ScatterAddBackward0(ScatterBackward0):
    __slots__ = ()


def scatter(input: Tensor, dim: int, index: Tensor, src=None, value=None, *,
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (or a scalar ``value``) written at ``index`` along
    ``dim``; ``reduce='add'|'multiply'`` combines instead of overwriting."""
    if src is None:
        src = value
    a = input._data
    axis = _wrap(dim, a.ndim)
    st = src if isinstance(src, Tensor) else None
    idx = _check_index("scatter", index, a.shape, axis, st._data.shape if st is not None else None)
    grid = _index_grid(idx, axis)
    res = a.copy()
    target = res if res.ndim else res.reshape(1)
    vals = _src_part(st, src, idx.shape, a.dtype)
    if reduce is None:
        target[grid] = vals
    elif reduce in ("add", "multiply"):
        (np.add if reduce == "add" else np.multiply).at(target, grid, vals)
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    out = _fresh(input, res)
    need = input._requires_grad or (st is not None and st._requires_grad)
    if GRAD.enabled and need:
        if reduce is not None:
            raise RuntimeError("the derivative for 'scatter' with a reduce argument is not "
                               "implemented; use scatter_add or scatter_reduce instead.")
        node = ScatterBackward0() if st is not None else ScatterBackward1()
        node.grid, node.add = grid, False
        if st is not None:
            node.src_shape = st._data.shape
            record(out, node, input, st)
        else:
            record(out, node, input)
    return out


def _src_part(st, src, ishape, np_dtype):
    if st is None:
        return np.asarray(src).astype(np_dtype)
    s = st._data if st._data.ndim else st._data.reshape(1)
    part = s[tuple(slice(0, n) for n in ishape)]
    return part if part.dtype == np_dtype else part.astype(np_dtype)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats accumulate)."""
    a = input._data
    axis = _wrap(dim, a.ndim)
    idx = _check_index("scatter_add", index, a.shape, axis, src._data.shape)
    grid = _index_grid(idx, axis)
    res = a.copy()
    np.add.at(res if res.ndim else res.reshape(1), grid, _src_part(src, src, idx.shape, a.dtype))
    out = _fresh(input, res)
    if GRAD.enabled and (input._requires_grad or src._requires_grad):
        node = ScatterAddBackward0()
        node.grid, node.add, node.src_shape = grid, True, src._data.shape
        record(out, node, input, src)
    return out


class IndexSelectBackward0(Node):
    __slots__ = ("shape", "key")

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(out, self.key, g)
        return (out,)


def index_select(input: Tensor, dim: int, index: Tensor, *, out=None) -> Tensor:
    """The entries of ``input`` at positions ``index`` (a vector) along ``dim``."""
    a = input._data
    axis = _wrap(dim, a.ndim)
    idx = index._data
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype.kind not in _INT_KINDS:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    idx = idx.reshape(-1)
    size = a.shape[axis] if a.ndim else 1
    if _out_of_range(idx, size):
        raise IndexError("index out of range in self")
    if a.ndim:
        res = _fresh(input, np.take(a, idx, axis=axis))
        key = (slice(None),) * axis + (idx,)
    else:
        res = _fresh(input, a.reshape(1)[idx].reshape(()))
        key = ()
    if GRAD.enabled and input._requires_grad:
        node = IndexSelectBackward0()
        node.shape, node.key = a.shape, key
        record(res, node, input)
    return _write_out(res, out)


scatter_ = inplace_of(scatter, "scatter_")
scatter_add_ = inplace_of(scatter_add, "scatter_add_")
