"""Differentiable dtype casts and device moves (``Tensor.to`` and friends)."""
from __future__ import annotations

import numpy as np

from .._device import META
from ._util import GRAD, Node, Tensor, record, wrap


class ToCopyBackward0(Node):
    __slots__ = ("src_dtype",)

    def backward(self, g):
        return (g.astype(self.src_dtype, copy=False),)


def cast_array(a: np.ndarray, np_dtype) -> np.ndarray:
    """``a`` converted to ``np_dtype`` as torch converts (complex to real keeps the real part)."""
    if a.dtype.kind == "c" and np.dtype(np_dtype).kind != "c":
        a = a.real
    return a.astype(np_dtype, copy=True)


def to_copy(t: Tensor, np_dtype, device) -> Tensor:
    """A copy of ``t`` with dtype ``np_dtype`` on ``device``, recorded for autograd."""
    if device is META:
        arr = np.broadcast_to(np.zeros((), dtype=np_dtype), t._data.shape)
    else:
        arr = cast_array(t._data, np_dtype)
    out = wrap(arr)
    out._device = device
    if GRAD.enabled and t._requires_grad and np.dtype(np_dtype).kind in "fcV":
        node = ToCopyBackward0()
        node.src_dtype = t._data.dtype
        record(out, node, t)
    return out
