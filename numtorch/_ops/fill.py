"""In-place overwrites: ``zero_``, ``fill_`` and ``copy_`` (broadcasting, dtype conversion)."""
from __future__ import annotations

import numpy as np

from ._util import GRAD, Node, Tensor, check_inplace, record, refuse_view_inplace, unbroadcast

__all__: list = []
TENSOR_METHODS = ["zero_", "fill_", "copy_"]


def _fit(g: np.ndarray, shape: tuple, dt) -> np.ndarray:
    if g.shape != shape:
        g = unbroadcast(g, shape)
    return g if g.dtype == dt else g.astype(dt)


def _prepare(self: Tensor) -> bool:
    """torch's leaf/view checks; True when the overwrite must be recorded."""
    record_it = check_inplace(self) if GRAD.enabled else False
    if GRAD.enabled and self._base is not None and (record_it or self._base._requires_grad):
        refuse_view_inplace(self._base)
    return record_it


class FillBackward2(Node):
    """``fill_``/``zero_`` with a constant: no gradient flows to the old value."""
    __slots__ = ()

    def backward(self, g):
        return (np.zeros_like(g),)


class FillBackward3(Node):
    """``fill_`` with a 0-d tensor value: the value receives the summed gradient."""
    __slots__ = ("value_dtype",)

    def backward(self, g):
        return (np.asarray(g.sum()).astype(self.value_dtype),)


class ZeroBackward0(FillBackward2):
    __slots__ = ()


def fill_(self: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d tensor); returns self."""
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value._data.ndim} dimensions.")
    record_it = _prepare(self)
    v = value._data if isinstance(value, Tensor) else value
    if self._data.flags.writeable:
        self._data.fill(v.astype(self._data.dtype) if type(v) is np.ndarray else v)
    else:
        self._data = np.full(self._data.shape, v, dtype=self._data.dtype)
    self._bump()
    grad_value = GRAD.enabled and isinstance(value, Tensor) and value._requires_grad
    if record_it or grad_value:
        if grad_value:
            node = FillBackward3()
            node.value_dtype = value._data.dtype
            record(self, node, value)
        else:
            record(self, FillBackward2(), self)
        self._output_nr = 0
    return self


def zero_(self: Tensor) -> Tensor:
    """Set every element to zero; returns self."""
    record_it = _prepare(self)
    if self._data.flags.writeable:
        self._data.fill(0)
    else:
        self._data = np.zeros(self._data.shape, dtype=self._data.dtype)
    self._bump()
    if record_it:
        record(self, ZeroBackward0(), self)
        self._output_nr = 0
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
    record_it = _prepare(self)
    if GRAD.enabled and src._requires_grad and self._base is not None:
        refuse_view_inplace(self._base)
    shape, sd = self._data.shape, src._data
    if sd.shape != shape:
        try:
            sd = np.broadcast_to(sd, shape)
        except ValueError:
            raise RuntimeError(f"The size of tensor a ({shape[-1] if shape else 1}) must match "
                               f"the size of tensor b ({sd.shape[-1] if sd.ndim else 1}) at "
                               "non-singleton dimension "
                               f"{len(shape) - 1 if shape else 0}") from None
    if sd.dtype.kind == "c" and self._data.dtype.kind != "c":
        sd = sd.real
    if self._data.flags.writeable:
        np.copyto(self._data, sd, casting="unsafe")
    else:
        self._data = np.array(sd, dtype=self._data.dtype)
    self._bump()
    if GRAD.enabled and (record_it or src._requires_grad):
        node = CopyBackwards()
        node.src_shape, node.src_dtype = src._data.shape, src._data.dtype
        record(self, node, self, src)
        if not record_it:
            node.next_functions = ((None, 0), node.next_functions[1])
        self._output_nr = 0
    return self
