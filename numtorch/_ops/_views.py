"""In-place changes through views, as torch's autograd records them.

A view and its base share memory. When an in-place op changes a view, the base's history becomes
a ``CopySlices`` node: the view's region of the base's gradient goes through the op's node, the
rest straight to the base's previous history. Every view of that base (the changed one included)
then reads its gradient from the base through an ``AsStridedBackward0`` node. Both work on the
base's memory ("storage"), so any strides (transposed, sliced, permuted bases) are handled.

Views that may need this are registered on their base (``record`` registers recorded views of
non-leaf bases; a base keeps weak references only).
"""
from __future__ import annotations

import weakref

import numpy as np

from .._device import META
from .._tensor import Tensor, edge
from ..autograd.graph import Node, _short_name

__all__ = ["check_view_inplace", "rebase_view", "register_view", "refresh_views",
           "writable_data", "check_no_overlap", "CopySlices", "AsStridedBackward0"]

_as_strided = np.lib.stride_tricks.as_strided

_MULTI_VIEW = ("This view is the output of a function that returns multiple views. Such "
               "functions do not allow the output views to be modified inplace. You should "
               "replace the inplace operation by an out-of-place one.")
_UNSUPPORTED = ("numtorch does not support in-place operations on this view of a tensor that "
                "requires grad (its dtype differs from its base's); apply the operation out of "
                "place, or clone() the view first.")


# ---------------------------------------------------------------------- layouts in storage
def _storage(base: np.ndarray) -> tuple:
    """``(extent, base layout, dtype, plain)`` of the memory ``base`` spans; a layout is
    ``(offset, shape, strides)`` in elements from the lowest address (``plain``: C order)."""
    item = base.itemsize
    low = sum(min(0, (n - 1) * s) for n, s in zip(base.shape, base.strides)) if base.size else 0
    span = sum(abs((n - 1) * s) for n, s in zip(base.shape, base.strides))
    extent = span // item + 1 if base.size else 0
    layout = (-low // item, base.shape, tuple(s // item for s in base.strides))
    plain = bool(base.flags.c_contiguous) and low == 0
    return extent, layout, base.dtype, plain


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _region(base: np.ndarray, storage: tuple, view: np.ndarray):
    """The layout of ``view`` in ``base``'s storage, or None when it cannot be expressed."""
    item = base.itemsize
    if view.dtype != base.dtype or any(s % item for s in view.strides):
        return None
    extent, (base_off, _, _), _, _ = storage
    start = (_address(view) - _address(base)) // item + base_off
    if view.size:
        low = start + sum(min(0, (n - 1) * s) for n, s in zip(view.shape, view.strides)) // item
        high = start + sum(max(0, (n - 1) * s) for n, s in zip(view.shape, view.strides)) // item
        if low < 0 or high >= extent:
            return None
    return start, view.shape, tuple(s // item for s in view.strides)


def _window(buf: np.ndarray, layout: tuple) -> np.ndarray:
    """The part of the flat ``buf`` a layout covers, as a writable strided view."""
    off, shape, strides = layout
    item = buf.itemsize
    return _as_strided(buf[off:], shape, tuple(s * item for s in strides))


def _to_storage(g: np.ndarray, storage: tuple) -> np.ndarray:
    """A fresh flat storage buffer holding the base-shaped ``g`` where the base lies."""
    extent, layout, dtype, plain = storage
    if plain:
        return np.array(g, dtype=dtype, order="C").reshape(-1)
    buf = np.zeros(extent, dtype=dtype)
    _window(buf, layout)[...] = g
    return buf


def _from_storage(buf: np.ndarray, storage: tuple) -> np.ndarray:
    """The base-shaped (C-ordered) contents of a storage buffer."""
    extent, layout, _, plain = storage
    if plain:
        return buf.reshape(layout[1])
    return np.array(_window(buf, layout), order="C")


def _overlaps(layout: tuple) -> bool:
    """Whether some storage element appears more than once in the layout (expand, unfold)."""
    _, shape, strides = layout
    reach = 0
    for stride, n in sorted((abs(s), n) for s, n in zip(strides, shape) if n > 1):
        if stride <= reach:
            return True
        reach += (n - 1) * stride
    return False


def _indices(layout: tuple) -> np.ndarray:
    """The storage index of every element of a layout, in its shape."""
    off, shape, strides = layout
    idx = np.full(shape, off, dtype=np.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        idx += (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(shape) - d - 1))
    return idx


class _Memory:
    """Exposes an existing memory block to NumPy as a new (writable) array."""

    def __init__(self, interface: dict, owner: np.ndarray) -> None:
        self.__array_interface__ = interface
        self.owner = owner


_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")


def writable_data(t: Tensor, check_overlap: bool = True):
    """An array through which ``t``'s elements can be written: its own, or for a read-only view
    (an expand) one over its base's memory; None when there is no writable memory (meta,
    read-only NumPy memory). torch's error, when ``check_overlap``, if ``t`` repeats elements
    through zero strides."""
    a = t._data
    if a.flags.writeable:
        return a
    if t._device is META:
        return None
    if check_overlap:
        check_no_overlap(a)
    base = t._base
    if base is None or not base._data.flags.writeable or base._device is not t._device:
        return None
    if _region(base._data, _storage(base._data), a) is None:
        return None
    interface = dict(a.__array_interface__)
    interface["data"] = (interface["data"][0], False)
    return np.asarray(_Memory(interface, base._data))


def check_no_overlap(a: np.ndarray) -> None:
    """torch's error for writing to an array that repeats elements through zero strides."""
    if any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
        raise RuntimeError(_OVERLAP)


# ---------------------------------------------------------------------- nodes
class CopySlices(Node):
    """The base's history after an in-place op (``fn``) on one of its views: the view's region
    of the gradient goes through ``fn``, the rest to the base's previous history."""

    __slots__ = ("fn", "storage", "region")

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def backward(self, g):
        buf = _to_storage(g, self.storage)
        region = _window(buf, self.region)
        grads = self.fn.backward(np.array(region))
        if self.next_functions[0][0] is None:
            return (None,) + tuple(grads[1:])
        region[...] = 0 if grads[0] is None else grads[0]
        return (_from_storage(buf, self.storage),) + tuple(grads[1:])

    def release(self) -> None:
        Node.release(self)
        self.fn.release()


class AsStridedBackward0(Node):
    """A view's history once its base's history was rewritten: its gradient lands in its
    region of the base (summed where the view repeats elements)."""

    __slots__ = ("storage", "region", "overlap")

    def backward(self, g):
        buf = np.zeros(self.storage[0], dtype=self.storage[2])
        if self.overlap:
            np.add.at(buf, _indices(self.region), g)
        else:
            _window(buf, self.region)[...] = g
        return (_from_storage(buf, self.storage),)


class _ChangedMultiView(AsStridedBackward0):
    """The history of an output of split/unbind/chunk after its base changed in place: torch
    forbids using it."""

    __slots__ = ("message",)

    def name(self) -> str:
        return "AsStridedBackward0"

    def backward(self, g):
        raise RuntimeError(self.message)


_ChangedMultiView.__name__ = _ChangedMultiView.__qualname__ = "AsStridedBackward0"


# ---------------------------------------------------------------------- checks and rewrites
def check_view_inplace(view: Tensor) -> tuple:
    """Where ``view`` lies in its base's storage, as ``(storage, region)``; torch's errors for
    views of leaves that require grad and for outputs of multi-view ops, numtorch's for views
    whose dtype differs from the base's."""
    base = view._base
    if base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if isinstance(view.grad_fn, _ChangedMultiView):
        raise RuntimeError(view.grad_fn.message)
    if _from_multi_view(view):
        raise RuntimeError(f"Output {view._output_nr} of {_short_name(view.grad_fn.name())} is "
                           f"a view and is being modified inplace. {_MULTI_VIEW}")
    storage = _storage(base._data)
    region = _region(base._data, storage, view._data)
    if region is None:
        raise RuntimeError(_UNSUPPORTED)
    return storage, region


def _from_multi_view(view: Tensor) -> bool:
    """Whether ``view`` comes (through views) from an op returning several views (split,
    unbind, chunk), which torch forbids changing in place."""
    views = view._base._views
    entry = None if views is None else views.get(id(view))
    return entry is not None and entry[1] and entry[0]() is view


def register_view(base: Tensor, view: Tensor, source: Tensor | None = None) -> None:
    """Remember ``view`` (weakly) so a later in-place change of ``base`` updates its history;
    ``source`` is the tensor it was taken from (a view of a multi-view output is one too)."""
    views = base._views
    if views is None:
        views = base._views = {}
    multi = view.grad_fn is not None and view.grad_fn.num_outputs > 1
    if not multi and source is not None and source is not base:
        multi = _from_multi_view(source)
    views[id(view)] = (weakref.ref(view), multi)


def refresh_views(base: Tensor) -> None:
    """Point every live view of ``base`` that is part of the graph at ``base``'s (new)
    history, as torch does for views whose base changed in place."""
    views = base._views
    if not views:
        return
    live = {}
    storage = None
    for key, entry in views.items():
        view = entry[0]()
        if view is None or not view._requires_grad:
            continue
        live[key] = entry
        if isinstance(view.grad_fn, _ChangedMultiView):
            continue
        if storage is None:
            storage = _storage(base._data)
        region = _region(base._data, storage, view._data)
        if region is None:
            continue
        if entry[1]:
            node = _ChangedMultiView()
            node.message = (f"Output {view._output_nr} of {_short_name(view.grad_fn.name())} is "
                            "a view and its base or another view of its base has been modified "
                            f"inplace. {_MULTI_VIEW}")
        else:
            node = AsStridedBackward0()
        node.storage, node.region, node.overlap = storage, region, _overlaps(region)
        node.next_functions = (edge(base),)
        view.grad_fn, view._output_nr = node, 0
    base._views = live


def rebase_view(view: Tensor, fn: Node, geometry: tuple) -> None:
    """Rewrite histories after ``fn`` (whose input 0 is the view's old value) changed ``view`` in
    place: the base gets a CopySlices node and its views read their gradient from the base."""
    base = view._base
    cs = CopySlices()
    cs.fn, (cs.storage, cs.region) = fn, geometry
    cs.next_functions = (edge(base),) + tuple(fn.next_functions[1:])
    base.grad_fn, base._output_nr, base._requires_grad = cs, 0, True
    view._requires_grad = True
    if base._views is None or id(view) not in base._views:
        register_view(base, view)
    refresh_views(base)
