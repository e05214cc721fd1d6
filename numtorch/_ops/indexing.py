"""Differentiable indexing: ``tensor[key]`` and ``tensor[key] = value`` with torch's semantics
(basic indexing gives views sharing memory and version; advanced indexing copies), and the
index-driven ops gather, scatter, index_select, masked_fill, where, nonzero.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._device import META
from .._tensor import _NP2DT, Tensor, edge
from ._shape_util import _fresh, _view, inplace_of
from ._util import (GRAD, Node, check_view_inplace, out_into, rebase_view, record,
                    refresh_views, unbroadcast)
from ._views import check_no_overlap, writable_data
from . import scatter as _scatter

__all__ = ["where", "nonzero", "argwhere", "masked_fill", "masked_select", "take"] + \
    _scatter.__all__
TENSOR_METHODS = [n for n in __all__ if n != "where"] + ["masked_fill_"] + [
    n for n in _scatter.TENSOR_METHODS if n not in _scatter.__all__]
METHOD_ALIASES = {"__getitem__": "getitem", "__setitem__": "setitem", "where": "_where_method"}

_NEW = object.__new__
_INT_KINDS = "iu"
_C10_NAMES = {"float32": "float", "float64": "double", "float16": "half", "bfloat16": "BFloat16",
              "int64": "long", "int32": "int", "int16": "short", "int8": "signed char",
              "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>"}
_LEAF_VIEW_INPLACE = ("a view of a leaf Variable that requires grad is being used in an in-place "
                      "operation.")
_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


# ---------------------------------------------------------------------- key conversion
def _bad_index(item) -> IndexError:
    return IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                      f"Variables are valid indices (got {type(item).__name__})")


def _as_index_array(item):
    """An index given as a tensor/array/list: a bool mask, an integer array, or an int."""
    if isinstance(item, Tensor):
        arr = item._data
        if arr.dtype.kind == "b" or arr.dtype == np.uint8:
            return arr if arr.dtype.kind == "b" else arr.astype(bool)
        if arr.dtype.kind not in _INT_KINDS:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return int(arr) if arr.ndim == 0 else arr
    arr = np.asarray(item)
    if arr.dtype.kind == "b":
        return arr
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind not in _INT_KINDS:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return arr


def _as_tuple(key) -> tuple:
    if type(key) is tuple:
        return key
    if isinstance(key, list) and len(key) < 32 and any(
            isinstance(k, (Tensor, list, tuple, slice, np.ndarray)) or k is None or k is Ellipsis
            for k in key):
        return tuple(key)     # torch's legacy reading of a sequence holding indices
    return (key,)


def convert_key(shape: tuple, key) -> tuple:
    """``key`` as a NumPy index for an array of ``shape`` plus whether it is advanced and the
    torch grad_fn name of basic indexing. Raises torch's IndexError/ValueError for bad keys."""
    items = []
    advanced = False
    consumed = 0
    for item in _as_tuple(key):
        if item is None:
            items.append(None)
        elif item is Ellipsis:
            items.append(Ellipsis)
        elif isinstance(item, slice):
            if item.step is not None and item.step.__index__() <= 0:
                if item.step.__index__() == 0:
                    raise ValueError("slice step cannot be zero")
                raise ValueError("step must be greater than zero")
            items.append(item)
            consumed += 1
        elif isinstance(item, bool):
            items.append(item)
            advanced = True
        elif isinstance(item, (int, np.integer)):
            items.append(int(item))
            consumed += 1
        elif isinstance(item, (Tensor, list, tuple, np.ndarray)):
            arr = _as_index_array(item)
            if isinstance(arr, int):
                items.append(arr)
                consumed += 1
                continue
            items.append(arr)
            advanced = True
            consumed += arr.ndim if arr.dtype.kind == "b" else 1
        elif isinstance(item, str):
            raise TypeError(f"new(): invalid data type '{type(item).__name__}'")
        else:
            raise _bad_index(item)
    ndim = len(shape)
    if consumed > ndim:
        if ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    _check_bounds(shape, items, ndim - consumed)
    if advanced:
        return tuple(items), True, "Index"
    return tuple(items), False, _basic_name(shape, items, type(key) is slice)


def _basic_name(shape: tuple, items: tuple, single_slice: bool) -> str:
    """The grad_fn torch shows for basic indexing: its last view op that did something."""
    if single_slice:
        return "Slice"
    name = "Alias"
    ell = len(shape) - sum(1 for i in items if i is not None and i is not Ellipsis)
    dim = 0
    for it in items:
        if it is None:
            name = "Unsqueeze"
        elif it is Ellipsis:
            dim += ell
        elif type(it) is int:
            name = "Select"
            dim += 1
        else:
            if not _covers(it, shape[dim]):
                name = "Slice"
            dim += 1
    return name


def _covers(sl: slice, length: int) -> bool:
    """Whether torch skips ``sl`` as selecting all of a dimension of ``length``."""
    return sl.start in (None, 0) and sl.step in (None, 1) and (sl.stop is None or
                                                               sl.stop == length)


def _check_bounds(shape, items, ellipsis_dims: int) -> None:
    dim = 0
    for it in items:
        if it is None or isinstance(it, (bool, slice)):
            dim += isinstance(it, slice)
        elif it is Ellipsis:
            dim += ellipsis_dims
        elif isinstance(it, int):
            size = shape[dim]
            if not -size <= it < size:
                raise IndexError(f"index {it} is out of bounds for dimension {dim} with size "
                                 f"{size}")
            dim += 1
        elif it.dtype.kind == "b":
            want = shape[dim:dim + it.ndim]
            if it.shape != want:
                bad = next(i for i, (a, b) in enumerate(zip(it.shape, want)) if a != b)
                raise IndexError(f"The shape of the mask {list(it.shape)} at index {bad} does not "
                                 f"match the shape of the indexed tensor {list(shape)} at index "
                                 f"{dim + bad}")
            dim += it.ndim
        else:                       # integer arrays: NumPy checks their range
            dim += 1


def split_key(np_key: tuple):
    """For an advanced key holding ints: the basic key torch applies first and the advanced key
    it then applies to that view (ints never join advanced indexing in torch); else None."""
    if not any(type(k) is int for k in np_key):
        return None
    basic, adv = [], []
    for k in np_key:
        if type(k) is int:
            basic.append(k)
        elif k is None or isinstance(k, slice):
            basic.append(k)
            adv.append(slice(None))
        elif k is Ellipsis:
            basic.append(k)
            adv.append(k)
        elif isinstance(k, bool):
            adv.append(k)
        else:
            basic += [slice(None)] * (k.ndim if k.dtype.kind == "b" else 1)
            adv.append(k)
    return tuple(basic), tuple(adv)


# ---------------------------------------------------------------------- __getitem__
class _BasicIndexNode(Node):
    """Backward of basic indexing: the gradient placed at the window in a zero array."""
    __slots__ = ("shape", "key")

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        out[self.key] = g
        return (out,)


class SelectBackward0(_BasicIndexNode):
    __slots__ = ()


class SliceBackward0(_BasicIndexNode):
    __slots__ = ()


class UnsqueezeBackward0(_BasicIndexNode):
    __slots__ = ()


class AliasBackward0(_BasicIndexNode):
    __slots__ = ()


_BASIC_NODES = {"Select": SelectBackward0, "Slice": SliceBackward0,
                "Unsqueeze": UnsqueezeBackward0, "Alias": AliasBackward0}


class IndexBackward0(Node):
    """Backward of advanced indexing: gradients of repeated indices add up."""
    __slots__ = ("shape", "key", "unique")

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        if self.unique:
            out[self.key] = g
        else:
            np.add.at(out, self.key, g)
        return (out,)


def getitem(self: Tensor, key) -> Tensor:
    """``self[key]``: views for ints, slices, None and ``...``; copies for masks and integer
    arrays (as torch)."""
    a = self._data
    if type(key) is int and a.ndim:        # the common x[i]
        size = a.shape[0]
        if not -size <= key < size:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {size}")
        out = _view(self, a[key, ...])      # "..." keeps a 0-d result a view, not a scalar
        if GRAD.enabled and self._requires_grad:
            node = SelectBackward0()
            node.shape, node.key = a.shape, key
            record(out, node, self)
        return out
    if type(key) is Tensor and key._data.dtype.kind == "i" and key._data.ndim and a.ndim:
        return _take_rows(self, key._data)
    arr = _basic_fast(a, key) if type(key) is tuple else None
    if arr is not None:
        out = _view(self, arr)
        if GRAD.enabled and self._requires_grad:
            node = _BASIC_NODES[_basic_name(a.shape, key, False)]()
            node.shape, node.key = a.shape, key
            record(out, node, self)
        return out
    np_key, advanced, name = convert_key(a.shape, key)
    if not advanced:
        out = _view(self, a[_as_view_key(np_key)])
        if GRAD.enabled and self._requires_grad:
            node = _BASIC_NODES[name]()
            node.shape, node.key = a.shape, np_key
            record(out, node, self)
        return out
    staged = split_key(np_key)
    if staged is not None:               # torch selects with the ints first, then indexes
        return getitem(getitem(self, staged[0]), staged[1])
    out = _fresh(self, _fancy(a, np_key))
    if GRAD.enabled and self._requires_grad:
        node = IndexBackward0()
        node.shape, node.key = a.shape, np_key
        node.unique = all(not isinstance(k, np.ndarray) or k.dtype.kind == "b" for k in np_key)
        record(out, node, self)
    return out


def _as_view_key(key: tuple) -> tuple:
    """``key`` with a trailing ``...`` when it has none, so NumPy returns a 0-d view rather than
    a scalar copy when every dimension is indexed by an int."""
    for k in key:
        if k is Ellipsis:
            return key
    return key + (Ellipsis,)


def _basic_fast(a: np.ndarray, key: tuple):
    """``a[key]`` for a tuple of Python ints, forward slices, None and ``...``; None when the
    key needs the general path (other items, or an error to report in torch's words)."""
    for k in key:
        t = type(k)
        if t is slice:
            if k.step is not None and (type(k.step) is not int or k.step <= 0):
                return None
        elif t is not int and k is not None and k is not Ellipsis:
            return None
    try:
        return a[_as_view_key(key)]
    except IndexError:
        return None


def _fancy(a: np.ndarray, np_key):
    """``a[np_key]`` with torch's wording for out-of-range indices."""
    try:
        return a[np_key]
    except IndexError as exc:
        raise _index_bounds_error(a.shape, np_key, exc) from None


def _index_bounds_error(shape: tuple, np_key, exc: IndexError) -> IndexError:
    """torch's error for an out-of-range integer index array: it numbers dimensions among the
    advanced indices (a k-dim mask counts k) and reports the first bad element."""
    items = [k for k in (np_key if isinstance(np_key, tuple) else (np_key,))
             if k is not None and type(k) is not bool]
    widths = [0 if k is Ellipsis else (k.ndim if k.dtype.kind == "b" else 1)
              if isinstance(k, np.ndarray) else 1 for k in items]
    dim, position, arrays = 0, 0, []
    for k, n in zip(items, widths):
        if k is Ellipsis:
            dim += len(shape) - sum(widths)
        elif isinstance(k, np.ndarray):
            if k.dtype.kind != "b":
                arrays.append((k, position, shape[dim]))
            dim, position = dim + n, position + n
        else:
            dim += 1
    # torch sees a k-dim mask as k index tensors of its nonzeros
    shapes = [s for k in items if isinstance(k, np.ndarray) for s in
              ([(int(k.sum()),)] * k.ndim if k.dtype.kind == "b" else [k.shape])]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return IndexError("shape mismatch: indexing tensors could not be broadcast together "
                          "with shapes " + ", ".join(str(list(s)) for s in shapes))
    if not arrays:
        return IndexError(str(exc).replace(" axis ", " dimension "))
    full = np.broadcast_shapes(*(k.shape for k, _, _ in arrays))
    bad = [np.broadcast_to((k < -n) | (k >= n), full).reshape(-1) for k, _, n in arrays]
    first = int(np.argmax(np.logical_or.reduce(bad)))
    for (k, pos, n), b in zip(arrays, bad):
        if b[first]:
            value = int(np.broadcast_to(k, full).reshape(-1)[first])
            return IndexError(f"index {value} is out of bounds for dimension {pos} with size {n}")
    return IndexError(str(exc).replace(" axis ", " dimension "))


def _take_rows(self: Tensor, idx: np.ndarray) -> Tensor:
    """``self[index_tensor]`` for an integer index tensor (the common advanced case)."""
    out = _fresh(self, _fancy(self._data, idx))
    if GRAD.enabled and self._requires_grad:
        node = IndexBackward0()
        node.shape, node.key, node.unique = self._data.shape, (idx,), False
        record(out, node, self)
    return out


# ---------------------------------------------------------------------- __setitem__
class CopySlices(Node):
    """Backward of ``self[key] = value``: the overwritten part of self gets no gradient, the
    value gets the gradient of where it landed."""
    __slots__ = ("keys", "value_shape", "value_dtype")

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def backward(self, g):
        gs = gv = None
        if self.next_functions[0][0] is not None:
            gs = g.copy()
            target, last = _walk(gs, self.keys)
            target[last] = 0
        if self.next_functions[1][0] is not None:
            target, last = _walk(g, self.keys)
            gv = _reduce_to(np.asarray(target[last]), self.value_shape).astype(self.value_dtype,
                                                                              copy=False)
        return gs, gv


class CopyBackwards(CopySlices):
    __slots__ = ()

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"


class IndexPutBackward0(CopySlices):
    __slots__ = ()

    def name(self) -> str:
        return "IndexPutBackward0"


def _walk(arr: np.ndarray, keys: tuple):
    """The view reached by all but the last key, and the last key."""
    for k in keys[:-1]:
        arr = arr[k]
    return arr, keys[-1]


def _reduce_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """``g`` summed down to ``shape`` (which may carry extra leading size-1 dims)."""
    extra = len(shape) - g.ndim
    if extra > 0:
        return unbroadcast(g, shape[extra:]).reshape(shape)
    return unbroadcast(g, shape)


def setitem(self: Tensor, key, value) -> None:
    """``self[key] = value`` in place (value broadcast and cast to self's dtype); recorded for
    autograd when ``self`` or ``value`` requires grad."""
    a = self._data
    np_key, advanced, name = convert_key(a.shape, key)
    vt = value if isinstance(value, Tensor) else None
    if vt is None:
        _check_plain_value(self, key, value)
    grad = GRAD.enabled and (self._requires_grad or (vt is not None and vt._requires_grad))
    if grad:
        if self._requires_grad and self.grad_fn is None:
            raise RuntimeError(_LEAF_INPLACE if advanced else _LEAF_VIEW_INPLACE)
        geometry = check_view_inplace(self) if self._base is not None else None
        prev_edge = edge(self)
    w = writable_data(self, check_overlap=False)
    if w is None and self._device is not META:
        raise RuntimeError("numtorch cannot write into this tensor's memory (it is read-only)")
    if w is None:           # meta: nothing to store (one scratch element stands for all)
        w = np.lib.stride_tricks.as_strided(np.empty(1, a.dtype), a.shape, (0,) * a.ndim)
    staged = split_key(np_key) if advanced else None
    keys = staged if staged is not None else (np_key,)
    target, last = _walk(w, keys)
    if not advanced and self._device is not META:   # torch refuses to copy into repeats
        check_no_overlap(target[last])
    try:
        _assign(target, last, vt._data if vt is not None else value)
    except IndexError as exc:
        raise _index_bounds_error(target.shape, last, exc) from None
    self._bump()
    if grad:
        if advanced:
            node = CopySlices() if _views_first(a.shape, np_key) else IndexPutBackward0()
        else:               # torch copies straight into self when the key selects all of it
            whole = _basic_name(a.shape, np_key, False) == "Alias"
            node = CopyBackwards() if whole else CopySlices()
        node.keys = keys
        if vt is not None:
            node.value_shape, node.value_dtype = vt._data.shape, vt._data.dtype
        node.next_functions = (prev_edge, edge(vt) if vt is not None else (None, 0))
        self.grad_fn = node
        self._output_nr = 0
        self._requires_grad = True
        if geometry is not None:        # a view: the base's history is rewritten too
            rebase_view(self, node, geometry)
        elif self._views:
            refresh_views(self)


def _views_first(shape: tuple, np_key: tuple) -> bool:
    """Whether torch narrows ``self`` to a view before indexing with the arrays of ``np_key``."""
    basic = []
    for k in np_key:
        if isinstance(k, np.ndarray):
            basic += [slice(None)] * (k.ndim if k.dtype.kind == "b" else 1)
        else:
            basic.append(None if isinstance(k, bool) else k)
    return _basic_name(shape, tuple(basic), False) != "Alias"


def _check_plain_value(self: Tensor, key, value) -> None:
    if isinstance(value, (list, tuple, np.ndarray)):
        kind = "numpy.ndarray" if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"can't assign a {kind} to a {self.type()}")
    if isinstance(key, Tensor) and key._data.dtype == np.uint8:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           "unsigned char")


def _assign(a: np.ndarray, np_key: tuple, v) -> None:
    try:
        if isinstance(v, np.ndarray) and v.dtype != a.dtype:
            v = v.astype(a.dtype)
        a[np_key] = v
    except ValueError:
        target = a[np_key].shape
        vshape = np.shape(v)
        core = vshape[max(0, len(vshape) - len(target)):]
        if len(vshape) > len(target) and any(s != 1 for s in vshape[:len(vshape) - len(target)]):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be "
                               f"broadcast to indexing result of shape {list(target)}") from None
        bad = next(i for i in range(len(core)) if core[-1 - i] not in (1, target[-1 - i]))
        dim = len(target) - 1 - bad
        raise RuntimeError(f"The expanded size of the tensor ({target[dim]}) must match the "
                           f"existing size ({core[-1 - bad]}) at non-singleton dimension {dim}.  "
                           f"Target sizes: {list(target)}.  Tensor sizes: {list(core)}") from None


# ---------------------------------------------------------------------- where / nonzero / masks
class WhereBackward0(Node):
    __slots__ = ("cond", "shapes", "dtypes")

    def backward(self, g):
        c = self.cond
        zero = np.zeros((), dtype=g.dtype)
        outs = []
        for i, pick in enumerate((c, ~c)):
            if self.next_functions[i][0] is None:
                outs.append(None)
                continue
            gi = unbroadcast(np.where(pick, g, zero), self.shapes[i])
            outs.append(gi.astype(self.dtypes[i], copy=False))
        return tuple(outs)


def where(condition: Tensor, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (broadcast, dtypes
    promoted; either may be a Python scalar). With only ``condition``: ``nonzero(as_tuple=True)``.
    """
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    cd = condition._data
    if cd.dtype.kind != "b":
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {_type_word(cd.dtype)}")
    xt = input if isinstance(input, Tensor) else None
    yt = other if isinstance(other, Tensor) else None
    dims, zero, scalars = [], [], []
    for v in (input, other):
        if isinstance(v, Tensor):
            (dims if v._data.ndim else zero).append(_NP2DT[v._data.dtype])
        else:
            scalars.append(v)
    rt = D.result_type(dims, zero, scalars).np
    xd = np.asarray(xt._data if xt is not None else input, dtype=rt)
    yd = np.asarray(yt._data if yt is not None else other, dtype=rt)
    try:
        res = np.where(cd, xd, yd)
    except ValueError:
        _broadcast_error(cd.shape, xd.shape, yd.shape)
    like = xt if xt is not None else (yt if yt is not None else condition)
    result = _fresh(like, res)
    if GRAD.enabled and ((xt is not None and xt._requires_grad) or
                         (yt is not None and yt._requires_grad)):
        node = WhereBackward0()
        node.cond = cd
        node.shapes = (xd.shape, yd.shape)
        node.dtypes = (xd.dtype if xt is None else xt._data.dtype,
                       yd.dtype if yt is None else yt._data.dtype)
        node.next_functions = (edge(xt) if xt is not None else (None, 0),
                               edge(yt) if yt is not None else (None, 0))
        result.grad_fn = node
        result._requires_grad = True
    if out is not None:
        return out_into(result, out)
    return result


def _where_method(self: Tensor, condition: Tensor, other) -> Tensor:
    return where(condition, self, other)


def _type_word(np_dtype) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
            "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(_NP2DT[np.dtype(np_dtype)].name, str(np_dtype))


def _broadcast_error(*shapes):
    out = []
    for shp in shapes:
        pad = (1,) * (max(map(len, shapes)) - len(shp)) + tuple(shp)
        out.append(pad)
    for i in range(len(out[0]) - 1, -1, -1):
        sizes = [s[i] for s in out]
        big = [s for s in sizes if s != 1]
        if big and any(s != big[0] for s in big):
            a, b = [s for s in sizes if s != 1][:2] if len(big) >= 2 else (sizes[0], sizes[1])
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) "
                               f"at non-singleton dimension {i}")
    raise RuntimeError(f"shapes {[list(s) for s in shapes]} cannot be broadcast together")


def nonzero(input: Tensor, *, as_tuple: bool = False, out=None):
    """Indices of the non-zero elements: one row per element (int64), or a tuple of index
    tensors per dimension with ``as_tuple=True``."""
    a = input._data
    if as_tuple:
        if a.ndim == 0:
            return (_fresh(input, np.nonzero(a.reshape(1))[0]),)
        return tuple(_fresh(input, i.astype(np.int64, copy=False)) for i in np.nonzero(a))
    res = np.argwhere(a) if a.ndim else np.zeros((int(bool(a)), 0), dtype=np.int64)
    return _fresh(input, res.astype(np.int64, copy=False))


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``."""
    return nonzero(input)


class MaskedFillBackward0(Node):
    __slots__ = ("mask", "shape")

    def backward(self, g):
        gi = None
        if self.next_functions[0][0] is not None:
            gi = unbroadcast(np.where(self.mask, np.zeros((), g.dtype), g), self.shape)
        if len(self.next_functions) == 1:
            return (gi,)
        gv = None
        if self.next_functions[1][0] is not None:
            gv = np.asarray(np.where(self.mask, g, np.zeros((), g.dtype)).sum(), dtype=g.dtype)
        return gi, gv


class MaskedFillBackward1(MaskedFillBackward0):
    __slots__ = ()


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """A copy of ``input`` with ``value`` (a scalar or 0-d tensor) where ``mask`` is True."""
    md = mask._data
    if md.dtype.kind != "b":
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_C10_NAMES.get(_NP2DT[md.dtype].name, md.dtype)}")
    vt = value if isinstance(value, Tensor) else None
    if vt is not None and vt._data.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {vt._data.ndim} dimension(s).")
    a = input._data
    fill = np.asarray(vt._data if vt is not None else value).astype(a.dtype)
    try:
        res = np.where(md, fill, a)
    except ValueError:
        _broadcast_error(a.shape, md.shape)
    out = _fresh(input, res)
    need_v = vt is not None and vt._requires_grad
    if GRAD.enabled and (input._requires_grad or need_v):
        node = MaskedFillBackward1() if vt is not None else MaskedFillBackward0()
        node.mask, node.shape = md, a.shape
        if vt is not None:
            record(out, node, input, vt)
        else:
            record(out, node, input)
    return out


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` (broadcast) is True, as a 1-D tensor."""
    md = mask._data
    if md.dtype.kind != "b":
        raise RuntimeError(f"masked_select: expected BoolTensor for mask")
    shape = np.broadcast_shapes(input._data.shape, md.shape)
    src = input if input._data.shape == shape else _expand_to(input, shape)
    return getitem(src, np.broadcast_to(md, shape))


def _expand_to(t: Tensor, shape) -> Tensor:
    from .shape import expand
    return expand(t, shape)


def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened ``input`` at ``index``, shaped like ``index``."""
    from .shape import reshape
    flat = reshape(input, (-1,))
    return getitem(flat, index)


masked_fill_ = inplace_of(masked_fill, "masked_fill_")

globals().update({n: getattr(_scatter, n) for n in _scatter.TENSOR_METHODS})
