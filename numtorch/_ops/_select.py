"""Choosing between two arrays element by element, exactly and without branches.

Gradients of clipping and selecting ops (relu, hardtanh, clamp, maximum, max) pass ``g`` in one
region and zero (or another value) elsewhere. A product with a 0/1 mask is wrong there: an
infinite or NaN ``g`` times zero is NaN, where torch gives an exact zero. ``np.where`` is exact
but branches per element, which costs about 3 ns an element on a random mask; :func:`select`
copies bits through an all-ones/all-zeros integer mask instead, in a few vectorised passes.
"""
from __future__ import annotations

import numpy as np

__all__ = ["select"]

_SAME_SIZE_INT = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}


def select(keep, a, b=None) -> np.ndarray:
    """``np.where(keep, a, b)``: ``a`` where ``keep`` is true, else ``b`` (exact zeros of
    ``a``'s dtype when ``b`` is None), broadcast together, in ``np.where``'s result dtype; a new
    array whose elements are bit-exact copies."""
    if b is None:
        a = np.asarray(a)
        dtype = a.dtype
    else:
        dtype = np.result_type(a, b)
        a = np.asarray(a).astype(dtype, copy=False)
        b = np.asarray(b).astype(dtype, copy=False)
    ints = _SAME_SIZE_INT.get(dtype.itemsize) if dtype.kind in "fiuV" else None
    if ints is None:
        return np.where(keep, a, np.zeros((), dtype) if b is None else b).astype(dtype,
                                                                                copy=False)
    keep = np.asarray(keep, dtype=np.bool_)
    shape = np.broadcast_shapes(keep.shape, a.shape, () if b is None else b.shape)
    bits = np.asarray(np.negative(np.broadcast_to(keep, shape).view(np.int8))).astype(ints)
    av = np.broadcast_to(a, shape).view(ints)  # bits: 0 or all ones
    if b is None:
        return np.bitwise_and(av, bits, out=bits).view(dtype)
    bv = np.broadcast_to(b, shape).view(ints)
    mixed = np.bitwise_xor(av, bv)
    np.bitwise_and(mixed, bits, out=bits)
    return np.bitwise_xor(bits, bv, out=bits).view(dtype)  # b ^ ((a ^ b) & mask)
