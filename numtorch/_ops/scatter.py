"""Differentiable index-driven gathers and scatters: gather, scatter (src or value, optional
add/multiply reduction), scatter_add, index_select, and their in-place forms."""
from __future__ import annotations

import numpy as np

from ._shape_util import _fresh, _wrap, _write_out, inplace_of
from ._util import GRAD, Node, Tensor, record

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
           "index_copy", "index_fill", "take_along_dim"]
TENSOR_METHODS = __all__ + ["scatter_", "scatter_add_", "scatter_reduce_", "index_add_",
                            "index_copy_", "index_fill_"]

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


# ---------------------------------------------------------------------- scatter_reduce
_REDUCE_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
                  "amin": np.minimum}


def _identity(reduce: str, dtype) -> object:
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f" or dtype.kind == "V":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


class ScatterReduceBackward0(Node):
    __slots__ = ("grid", "reduce", "include_self", "count", "src_shape", "index_shape")

    def backward(self, g):
        saved = self.saved_tensors_checked()
        grid, reduce = self.grid, self.reduce
        if reduce == "sum":
            gs, gv = g, g[grid]
            if not self.include_self:
                gs = g.copy()
                gs[grid] = 0
        elif reduce == "mean":
            scaled = g / self.count
            gs, gv = scaled.astype(g.dtype, copy=False), scaled[grid].astype(g.dtype, copy=False)
            if not self.include_self:
                gs = gs.copy()
                gs[grid] = 0
        else:                  # amax/amin: shared evenly by every value equal to the result
            self_t, src_t, out_t = saved
            res = out_t._data
            src = src_t._data[tuple(slice(0, n) for n in self.index_shape)]
            hit_self = self_t._data == res      # counted even when excluded, as torch does
            hit_src = src == res[grid]
            ties = hit_self.astype(g.dtype)
            np.add.at(ties, grid, hit_src.astype(g.dtype))
            share = g / np.maximum(ties, 1)
            gs, gv = (share * hit_self).astype(g.dtype), (share[grid] * hit_src).astype(g.dtype)
            if not self.include_self:
                gs[grid] = 0
        full = np.zeros(self.src_shape, dtype=g.dtype)
        full[tuple(slice(0, n) for n in gv.shape)] = gv
        return gs, full


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of ``input`` where the ``src`` values sent to each position by ``index`` along
    ``dim`` are combined by ``reduce`` ('sum', 'prod', 'mean', 'amax', 'amin'), with the
    input's own value unless ``include_self=False``."""
    if reduce not in _REDUCE_UFUNCS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    a = input._data
    axis = _wrap(dim, a.ndim)
    idx = _check_index("scatter_reduce", index, a.shape, axis, src._data.shape)
    grid = _index_grid(idx, axis)
    vals = _src_part(src, src, idx.shape, a.dtype)
    res = a.copy()
    target = res if res.ndim else res.reshape(1)
    if not include_self:
        target[grid] = _identity(reduce, a.dtype)
    _REDUCE_UFUNCS[reduce].at(target, grid, vals)
    count = None
    if reduce == "mean":
        count = np.full(target.shape, 1 if include_self else 0, dtype=np.int64)
        np.add.at(count, grid, 1)
        count = np.maximum(count, 1)
        target[...] = target // count if a.dtype.kind in "iu" else target / count
    out = _fresh(input, res)
    if GRAD.enabled and (input._requires_grad or src._requires_grad):
        if reduce == "prod":
            raise RuntimeError("numtorch does not differentiate scatter_reduce with "
                               "reduce='prod' yet; use another reduction or detach() the inputs.")
        node = ScatterReduceBackward0()
        node.grid, node.reduce, node.include_self = grid, reduce, include_self
        node.count, node.src_shape, node.index_shape = count, src._data.shape, idx.shape
        node.save(input, src, out) if reduce in ("amax", "amin") else node.save()
        record(out, node, input, src)
    return out


# ---------------------------------------------------------------------- index_add / fill / copy
def _index_vector(fn: str, input: Tensor, dim: int, index: Tensor) -> tuple:
    a = input._data
    axis = _wrap(dim, a.ndim)
    idx = index._data
    if idx.ndim > 1:
        raise IndexError(f"{fn}(): Index is supposed to be a vector")
    if idx.dtype.kind not in _INT_KINDS:
        raise RuntimeError(f"{fn}(): Expected dtype int32/int64 for index")
    idx = idx.reshape(-1)
    size = a.shape[axis] if a.ndim else 1
    lowest = -size if fn == "index_fill" else 0         # index_fill wraps negative indices
    if idx.size and (int(idx.max()) >= size or int(idx.min()) < lowest):
        bad = int(idx[(idx >= size) | (idx < lowest)][0])
        msg = f"index {bad} is out of bounds for dimension {axis} with size {size}"
        if fn == "index_add":
            raise RuntimeError(msg)
        raise IndexError(f"index_copy_(): {msg}" if fn == "index_copy" else msg)
    return axis, (slice(None),) * axis + (idx,)


class IndexAddBackward0(Node):
    __slots__ = ("key", "alpha", "src_shape", "dtype")

    def backward(self, g):
        gs = g if self.next_functions[0][0] is not None else None
        gv = None
        if self.next_functions[1][0] is not None:
            gv = g[self.key].reshape(self.src_shape)
            if self.alpha != 1:
                gv = (gv * self.alpha).astype(self.dtype, copy=False)
        return gs, gv


class IndexCopyBackward0(Node):
    __slots__ = ("key", "src_shape")

    def backward(self, g):
        gs = gv = None
        if self.next_functions[0][0] is not None:
            gs = g.copy()
            gs[self.key] = 0
        if len(self.next_functions) > 1 and self.next_functions[1][0] is not None:
            gv = g[self.key].reshape(self.src_shape)
        return (gs, gv) if len(self.next_functions) > 1 else (gs,)


class IndexFillBackward0(IndexCopyBackward0):
    __slots__ = ()


class IndexFillBackward1(Node):
    __slots__ = ("key",)

    def backward(self, g):
        gs = None
        if self.next_functions[0][0] is not None:
            gs = g.copy()
            gs[self.key] = 0
        gv = None
        if self.next_functions[1][0] is not None:
            gv = np.asarray(g[self.key].sum(), dtype=g.dtype)
        return gs, gv


def _source_matches(fn: str, a: np.ndarray, axis: int, n: int, src: np.ndarray) -> None:
    want = a.shape[:axis] + (n,) + a.shape[axis + 1:]
    if src.shape != want and not (a.ndim == 0 and src.size == n):
        raise RuntimeError(f"{fn}(): Source/destination tensor must have same slice shapes. "
                           f"Destination slice shape: {list(a.shape[:axis] + a.shape[axis + 1:])} "
                           f"at dimension {axis} and source slice shape: "
                           f"{list(src.shape[:axis] + src.shape[axis + 1:])} at dimension 0.")


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` of ``dim``
    (repeated positions accumulate)."""
    a = input._data
    axis, key = _index_vector("index_add", input, dim, index)
    src = source._data
    _source_matches("index_add", a, axis, key[-1].size, src)
    res = a.copy()
    np.add.at(res if res.ndim else res.reshape(1), key if a.ndim else (key[-1],),
              (src if alpha == 1 else src * alpha).astype(a.dtype, copy=False))
    out = _fresh(input, res)
    if GRAD.enabled and (input._requires_grad or source._requires_grad):
        node = IndexAddBackward0()
        node.key, node.alpha, node.src_shape, node.dtype = key, alpha, src.shape, src.dtype
        record(out, node, input, source)
    return out


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with the slices of ``source`` written at positions ``index`` of
    ``dim``."""
    a = input._data
    axis, key = _index_vector("index_copy", input, dim, index)
    src = source._data
    _source_matches("index_copy", a, axis, key[-1].size, src)
    res = a.copy()
    res[key] = src.astype(a.dtype, copy=False)
    out = _fresh(input, res)
    if GRAD.enabled and (input._requires_grad or source._requires_grad):
        node = IndexCopyBackward0()
        node.key, node.src_shape = key, src.shape
        record(out, node, input, source)
    return out


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of ``input`` with ``value`` (a scalar or 0-d tensor) at positions ``index`` of
    ``dim``."""
    a = input._data
    axis, key = _index_vector("index_fill", input, dim, index)
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {vt._data.ndim} dimension(s).")
    res = a.copy()
    res[key] = np.asarray(vt._data if vt is not None else value).astype(a.dtype)
    out = _fresh(input, res)
    if GRAD.enabled and (input._requires_grad or (vt is not None and vt._requires_grad)):
        if vt is None:
            node = IndexFillBackward0()
            node.key, node.src_shape = key, None
            record(out, node, input)
        else:
            node = IndexFillBackward1()
            node.key = key
            record(out, node, input, vt)
    return out


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None, *,
                   out=None) -> Tensor:
    """Values of ``input`` at ``indices`` along ``dim`` (broadcast against each other apart
    from ``dim``), or of the flattened input when ``dim`` is None."""
    from .shape import expand, reshape
    if dim is None:
        return _write_out(gather(reshape(input, (-1,)), 0, reshape(indices, (-1,))), out)
    a, i = input._data, indices._data
    if a.ndim != i.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {a.ndim} dimensions for input, and "
                           f"{i.ndim} dimensions for indices")
    axis = _wrap(dim, a.ndim)
    a_shape = list(np.broadcast_shapes(a.shape[:axis] + (1,) + a.shape[axis + 1:],
                                       i.shape[:axis] + (1,) + i.shape[axis + 1:]))
    i_shape = list(a_shape)
    a_shape[axis], i_shape[axis] = a.shape[axis], i.shape[axis]
    src = input if list(a.shape) == a_shape else expand(input, a_shape)
    idx = indices if list(i.shape) == i_shape else expand(indices, i_shape)
    return _write_out(gather(src, axis, idx), out)


scatter_reduce_ = inplace_of(scatter_reduce, "scatter_reduce_")
index_add_ = inplace_of(index_add, "index_add_")
index_copy_ = inplace_of(index_copy, "index_copy_")
index_fill_ = inplace_of(index_fill, "index_fill_")
