"""In-place overwrites: ``zero_``, ``fill_`` and ``copy_`` (broadcasting, dtype conversion)."""
from __future__ import annotations

import numpy as np

from ._util import (GRAD, Node, Tensor, broadcast_error, check_inplace, check_view_inplace,
                    rebase_view, record, refresh_views, unbroadcast)
from ._views import writable_data

__all__: list = []
TENSOR_METHODS = ["zero_", "fill_", "copy_"]


def _fit(g: np.ndarray, shape: tuple, dt) -> np.ndarray:
    if g.shape != shape:
        g = unbroadcast(g, shape)
    return g if g.dtype == dt else g.astype(dt)


def _prepare(self: Tensor, other_needs_grad: bool = False) -> tuple:
    """torch's leaf/view checks. Returns (whether the old value's history must be recorded,
    the view geometry when self is a view whose base history must be rewritten, else None)."""
    if not GRAD.enabled:
        return False, None
    record_it = check_inplace(self)
    geometry = None
    if self._base is not None and (record_it or other_needs_grad or self._base._requires_grad):
        geometry = check_view_inplace(self)
    return record_it, geometry


def _record_overwrite(self: Tensor, node: Node, geometry, *others: Tensor) -> None:
    """Record ``node`` (input 0: self's old value) as self's history; on a view, rebase."""
    record(self, node, self, *others)
    self._output_nr = 0
    if geometry is not None:
        rebase_view(self, node, geometry)
    elif self._views:
        refresh_views(self)


class FillBackward2(Node):
    """``fill_``/``zero_`` with a constant: no gradient flows to the old value."""
    __slots__ = ()

    def backward(self, g):
        return (None if self.next_functions[0][0] is None else np.zeros_like(g),)


class FillBackward3(Node):
    """``fill_`` with a 0-d tensor value: the value receives the summed gradient."""
    __slots__ = ("value_dtype",)

    def backward(self, g):
        old = None if self.next_functions[0][0] is None else np.zeros_like(g)
        return old, np.asarray(g.sum()).astype(self.value_dtype)


class ZeroBackward0(FillBackward2):
    __slots__ = ()


def _write(self: Tensor, values, check_overlap: bool = False) -> None:
    """Store ``values`` (broadcastable, any dtype) into self's array and bump its version (torch
    fills expanded tensors, but refuses to copy into them)."""
    target = writable_data(self, check_overlap)
    if target is not None:
        np.copyto(target, values, casting="unsafe")
    else:
        self._data = np.array(np.broadcast_to(values, self._data.shape), dtype=self._data.dtype)
    self._bump()


def fill_(self: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d tensor); returns self."""
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value._data.ndim} dimensions.")
    grad_value = GRAD.enabled and isinstance(value, Tensor) and value._requires_grad
    record_it, geometry = _prepare(self, grad_value)
    v = value._data if isinstance(value, Tensor) else value
    _write(self, np.asarray(v).astype(self._data.dtype) if type(v) is not bool else v)
    if grad_value:
        node = FillBackward3()
        node.value_dtype = value._data.dtype
        _record_overwrite(self, node, geometry, value)
        if not record_it:
            node.next_functions = ((None, 0), node.next_functions[1])
    elif record_it:
        _record_overwrite(self, FillBackward2(), geometry)
    return self


def zero_(self: Tensor) -> Tensor:
    """Set every element to zero; returns self."""
    record_it, geometry = _prepare(self)
    _write(self, 0)
    if record_it:
        _record_overwrite(self, ZeroBackward0(), geometry)
    return self


class CopyBackwards(Node):
    """``copy_``: the gradient goes to the source (reduced to its shape, in its dtype)."""
    __slots__ = ("src_shape", "src_dtype")

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"

    def backward(self, g):
        prev = None if self.next_functions[0][0] is None else np.zeros_like(g)
        src = None if self.next_functions[1][0] is None else _fit(g, self.src_shape,
                                                                   self.src_dtype)
        return prev, src


def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src``'s values into self, broadcasting and converting dtype; returns self."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(src).__name__}")
    src_grad = GRAD.enabled and src._requires_grad
    record_it, geometry = _prepare(self, src_grad)
    shape, sd = self._data.shape, src._data
    if sd.shape != shape:
        try:
            sd = np.broadcast_to(sd, shape)
        except ValueError:
            raise broadcast_error(self._data, sd) from None
    if sd.dtype.kind == "c" and self._data.dtype.kind != "c":
        sd = sd.real
    _write(self, sd, check_overlap=True)
    if record_it or src_grad:
        node = CopyBackwards()
        node.src_shape, node.src_dtype = src._data.shape, src._data.dtype
        _record_overwrite(self, node, geometry, src)
        if not record_it:
            node.next_functions = ((None, 0), node.next_functions[1])
    return self
