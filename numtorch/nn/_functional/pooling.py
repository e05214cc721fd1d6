"""Pooling: max and average over sliding windows, adaptive average pooling.

Windows are visited one kernel offset at a time: each offset is one strided slice of the
(padded) input covering every output position, so the work is ``kh * kw`` whole-array NumPy
operations, never a loop over elements.
"""
from __future__ import annotations

import sys

import numpy as np

from ._argcheck import not_tensor, touch
from ._common import Node, Tensor, needs_grad, record, tuple_arg, wrap

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d"]


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_args(kernel_size, stride, padding, dilation, name: str):
    k = tuple_arg(kernel_size, 2, "kernel_size")
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        tuple_arg(stride, 2, "stride")
    p = tuple_arg(padding, 2, "padding")
    d = tuple_arg(dilation, 2, "dilation")
    if 0 in s:
        raise RuntimeError("stride should not be zero")
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} kW: "
                           f"{k[1]}")
    if any(v < 0 for v in s):
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} "
                           f"dilationW: {d[1]}")
    for pi, ki, di in zip(p, k, d):
        if pi > (di * (ki - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di}")
    return k, s, p, d


def _prepare(input: Tensor, name: str) -> tuple:
    x = input._data
    if x.ndim not in (3, 4) or x.size == 0:
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    return (x, True) if x.ndim == 4 else (x[None], False)


def _sizes(x, k, s, p, d, ceil_mode):
    h, w = x.shape[2:]
    oh = _pool_out(h, k[0], s[0], p[0], d[0], ceil_mode)
    ow = _pool_out(w, k[1], s[1], p[1], d[1], ceil_mode)
    if oh <= 0 or ow <= 0:
        raise RuntimeError(f"Given input size: ({x.shape[1]}x{h}x{w}). Calculated output size: "
                           f"({x.shape[1]}x{oh}x{ow}). Output size is too small")
    return oh, ow


def _padded(x, p, k, s, d, out_hw, fill) -> np.ndarray:
    """``x`` padded so every window of every output position lies inside it."""
    h, w = x.shape[2:]
    need_h = (out_hw[0] - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (out_hw[1] - 1) * s[1] + d[1] * (k[1] - 1) + 1
    bottom = max(need_h - h - p[0], 0)
    right = max(need_w - w - p[1], 0)
    if not (p[0] or p[1] or bottom or right):
        return x
    xp = np.full(x.shape[:2] + (h + p[0] + bottom, w + p[1] + right), fill, dtype=x.dtype)
    xp[:, :, p[0]:p[0] + h, p[1]:p[1] + w] = x
    return xp


def _offset(a, i, j, s, d, out_hw):
    """The slice of ``a`` holding kernel offset ``(i, j)`` of every window."""
    return a[:, :, i * d[0]:i * d[0] + (out_hw[0] - 1) * s[0] + 1:s[0],
             j * d[1]:j * d[1] + (out_hw[1] - 1) * s[1] + 1:s[1]]


# ---------------------------------------------------------------------- max pooling
# A window's maximum is found separably: first along the width (one running maximum over kw
# strided slices for every padded row), then along the height over those row maxima. Keeping
# the first strict maximum at each stage picks the window's first maximum in row-major order,
# the element torch picks. Backward scatters the same way, height then width.
def _along(a: np.ndarray, axis: int, start: int, step: int, count: int) -> np.ndarray:
    """The ``count`` positions ``start, start + step, ...`` of (4-d) ``a`` along axis 2 or 3."""
    if axis == 3:
        return a[:, :, :, start:start + step * (count - 1) + 1:step]
    return a[:, :, start:start + step * (count - 1) + 1:step]


def _running_max(a: np.ndarray, axis: int, k: int, s: int, d: int, count: int, need_arg: bool,
                 nan_aware: bool = False):
    """Maximum over ``k`` offsets (dilation ``d``) of ``count`` windows (stride ``s``) along
    ``axis``, and the offset of each first maximum (int8) when ``need_arg``.

    ``nan_aware`` moves the offset to every NaN met, as torch does; without it a NaN can leave
    the offset elsewhere (callers check the result for NaN and redo it)."""
    first = _along(a, axis, 0, s, count)
    if k == 1:
        return first.copy(), None  # the only offset is 0
    cand = _along(a, axis, d, s, count)
    arg = None
    if need_arg:
        better = np.greater(cand, first)
        if nan_aware:
            better |= np.isnan(cand)
        arg = better.view(np.int8)
    best = np.maximum(first, cand)
    for j in range(2, k):
        cand = _along(a, axis, j * d, s, count)
        if need_arg:
            better = np.greater(cand, best)
            if nan_aware:
                better |= np.isnan(cand)
            arg += better * (np.int8(j) - arg)
        np.maximum(best, cand, out=best)
    return best, arg


def _window_max(xp, k, s, d, out_hw, need_arg: bool, nan_aware: bool = False):
    """Window maxima of the padded input and the (height, width) offsets of the first maxima."""
    rows, arg_w = _running_max(xp, 3, k[1], s[1], d[1], out_hw[1], need_arg, nan_aware)
    out, arg_h = _running_max(rows, 2, k[0], s[0], d[0], out_hw[0], need_arg, nan_aware)
    return out, arg_h, arg_w


class MaxPool2DWithIndicesBackward0(Node):
    __slots__ = ("arg_h", "arg_w", "geom", "padded_shape", "in_hw", "batched", "pairs")

    def backward(self, g):
        if not self.batched:
            g = g[None]
        if self.pairs:
            gx = _scatter_pairs(g, self.arg_h, self.pairs)
            if gx.shape != self.padded_shape:  # an odd last row or column: in no window
                full = np.zeros(self.padded_shape, dtype=gx.dtype)
                full[:, :, :gx.shape[2], :gx.shape[3]] = gx
                gx = full
            return (gx if self.batched else gx[0]),
        k, s, p, d, (oh, ow) = self.geom
        n, c, hp, wp = self.padded_shape
        rows = _scatter(g, self.arg_h, 2, k[0], s[0], d[0], oh, (n, c, hp, ow))
        gx = _scatter(rows, self.arg_w, 3, k[1], s[1], d[1], ow, self.padded_shape)
        h, w = self.in_hw
        gx = gx[:, :, p[0]:p[0] + h, p[1]:p[1] + w]
        return (gx if self.batched else gx[0]),


# The common 2x2, stride 2 pooling, in whole-array passes over the flattened input (NumPy is
# fast on long contiguous loops and slow on short strided ones). The maximum of each element
# and its right neighbour and whether the neighbour is greater are computed at every position,
# and the even positions kept by a narrowing cast of element pairs; the same is then done
# between each row and the one below, and the even rows kept by copying rows as records.
# Comparisons are strict, width first, so ties keep the first maximum in row-major order as
# torch does.
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _evens(a: np.ndarray) -> np.ndarray:
    """``a[0::2]`` of a contiguous even-length 1-d ``a``, as a new contiguous array."""
    it = a.itemsize
    if 2 * it in _UINT and sys.byteorder == "little":  # the low half of a pair is its first
        return a.view(_UINT[2 * it]).astype(_UINT[it]).view(a.dtype)
    return a[0::2].copy()


def _even_rows(a: np.ndarray, rows: int, width: int) -> np.ndarray:
    """Rows ``0, 2, 4, ...`` (``rows`` of them, ``width`` elements each) of flat ``a``."""
    record = np.dtype((np.void, width * a.itemsize))
    src = np.ndarray((rows,), record, buffer=a, strides=(2 * width * a.itemsize,))
    return src.copy().view(a.dtype)


def _neighbours(f: np.ndarray, shift: int, need_arg: bool):
    """``max(f[i], f[i + shift])`` and (``need_arg``) ``f[i + shift] > f[i]`` for each ``i``
    (the last ``shift`` entries are unspecified)."""
    best = np.empty_like(f)
    np.maximum(f[:-shift], f[shift:], out=best[:-shift])
    if not need_arg:
        return best, None
    beats = np.zeros(f.size, dtype=np.bool_)
    np.greater(f[shift:], f[:-shift], out=beats[:-shift])
    return best, beats


def _pairs_max(x: np.ndarray, need_arg: bool = True):
    """2x2 stride-2 window maxima of C-contiguous ``x`` (N, C, H, W) with H and W even, and
    (``need_arg``) each maximum's flat offset from its window's corner: 0, 1, W or W + 1
    (else None)."""
    n, c, h, w = x.shape
    ow, rows = w // 2, n * c * (h // 2)
    shape = (n, c, h // 2, ow)
    pair, right = _neighbours(x.reshape(-1), 1, need_arg)
    pair = _evens(pair)  # each row-pair's maximum: (N * C * H, W / 2)
    best, lower = _neighbours(pair, ow, need_arg)
    out = _even_rows(best, rows, ow).reshape(shape)
    if not need_arg:
        return out, None
    right = _evens(right)
    col = np.bitwise_xor(right[:-ow], right[ow:])  # the chosen row's right[]
    col &= lower[:-ow]
    col ^= right[:-ow]
    code = np.min_scalar_type(w + 1)
    off = np.multiply(lower.view(np.uint8), w, dtype=code)
    off[:-ow] += col.view(np.uint8)
    return out, _even_rows(off, rows, ow).reshape(shape)


_corner_cache: dict = {}


def _corners(shape: tuple) -> np.ndarray:
    """Flat positions of the 2x2 windows' corners in an array of ``shape`` (the last shape's
    kept: one train loop's)."""
    hit = _corner_cache.get(shape)
    if hit is None:
        n, c, h, w = shape
        hit = (np.arange(n * c, dtype=np.intp).reshape(n, c, 1, 1) * (h * w)
               + np.arange(h // 2, dtype=np.intp).reshape(-1, 1) * (2 * w)
               + np.arange(w // 2, dtype=np.intp) * 2)
        _corner_cache.clear()
        _corner_cache[shape] = hit
    return hit


def _scatter_pairs(g: np.ndarray, off: np.ndarray, shape: tuple) -> np.ndarray:
    """Backward of :func:`_pairs_max`: ``g`` sent to each window's chosen element."""
    idx = np.add(_corners(shape), off)
    gx = np.zeros(shape, dtype=g.dtype)
    gx.reshape(-1)[idx.reshape(-1)] = g.reshape(-1)
    return gx


def _scatter(g, arg, axis, k, s, d, count, shape):
    """Send ``g`` to the offset ``arg`` of each window along ``axis`` (inverse of
    ``_running_max``)."""
    covered = d == 1 and s == k and shape[axis] == s * count  # each position in one window
    out = np.empty(shape, dtype=g.dtype) if covered else np.zeros(shape, dtype=g.dtype)
    if arg is None:
        if covered:
            out[...] = 0
        _along(out, axis, 0, s, count)[...] += g
    elif s >= (k - 1) * d + 1:  # windows do not overlap: every position is written once
        for j in range(k):
            np.multiply(g, arg == j, out=_along(out, axis, j * d, s, count))
    else:
        for j in range(k):
            _along(out, axis, j * d, s, count)[...] += g * (arg == j)
    return out


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over ``kernel_size`` windows of ``(N, C, H, W)`` or ``(C, H, W)`` input; with
    ``return_indices`` also the flat ``H*W`` index of each maximum."""
    if not isinstance(input, Tensor):
        raise not_tensor("max_pool2d_with_indices" if return_indices else "max_pool2d", "input",
                         1, input)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, "max_pool2d")
    x, batched = _prepare(input, "max_pool2d")
    oh, ow = _sizes(x, k, s, p, d, ceil_mode)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = _padded(x, p, k, s, d, (oh, ow), fill)
    grad = needs_grad(input)
    need_arg = grad or return_indices
    pairs = None
    if k == (2, 2) and s == (2, 2) and d == (1, 1) and xp is x and x.dtype.kind in "fiu":
        even = x if x.shape[2:] == (2 * oh, 2 * ow) else x[:, :, :2 * oh, :2 * ow]
        even = np.ascontiguousarray(even)
        pairs = even.shape
        out, arg_h = _pairs_max(even, need_arg)
        arg_w = None
    else:
        out, arg_h, arg_w = _window_max(xp, k, s, d, (oh, ow), need_arg)
    if need_arg and x.dtype.kind == "f" and np.isnan(out).any():
        pairs = None
        out, arg_h, arg_w = _window_max(xp, k, s, d, (oh, ow), need_arg, nan_aware=True)
    res = wrap(out if batched else out[0], input)
    if grad:
        node = MaxPool2DWithIndicesBackward0()
        node.arg_h, node.arg_w, node.pairs = arg_h, arg_w, pairs
        node.geom, node.padded_shape = (k, s, p, d, (oh, ow)), xp.shape
        node.in_hw, node.batched = x.shape[2:], batched
        record(res, node, input)
    if not return_indices:
        return res
    if pairs:
        lower, col = np.divmod(arg_h.astype(np.int64), 2 * ow)
        idx = (np.arange(oh).reshape(oh, 1) * 2 + lower) * x.shape[3] + np.arange(ow) * 2 + col
    else:
        idx = _flat_indices(arg_h, arg_w, x.shape[3], k, s, p, d, (oh, ow))
    return res, wrap(idx if batched else idx[0], input)


def _flat_indices(arg_h, arg_w, width, k, s, p, d, out_hw) -> np.ndarray:
    """Flat ``H*W`` positions (in the unpadded input) of the chosen maxima."""
    oh, ow = out_hw
    i = 0 if arg_h is None else arg_h.astype(np.int64)
    prow = np.arange(oh)[:, None] * s[0] + i * d[0]  # row in the padded input
    if arg_w is None:
        j = 0
    else:
        j = np.take_along_axis(arg_w, np.broadcast_to(prow, arg_w.shape[:2] + (oh, ow)),
                               axis=2).astype(np.int64)
    col = np.arange(ow)[None, :] * s[1] + j * d[1] - p[1]
    return ((prow - p[0]) * width + col).astype(np.int64)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over windows of ``(N, C, L)`` or ``(C, L)`` input."""
    if not isinstance(input, Tensor):
        raise not_tensor("max_pool1d_with_indices" if return_indices else "max_pool1d", "input",
                         1, input)
    one = lambda v: (1, v) if isinstance(v, int) else (1,) + tuple(v)  # noqa: E731
    st = None if stride is None or (not isinstance(stride, int) and not stride) else one(stride)
    x = input.unsqueeze(-2)
    r = max_pool2d(x, one(kernel_size), st, (0, padding) if isinstance(padding, int) else
                   (0,) + tuple(padding), one(dilation), ceil_mode, return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)


# ---------------------------------------------------------------------- average pooling
class AvgPool2DBackward0(Node):
    __slots__ = ("geom", "padded_shape", "in_hw", "divisor", "batched")

    def backward(self, g):
        k, s, p, d, out_hw = self.geom
        if not self.batched:
            g = g[None]
        share = g / self.divisor
        gx = np.zeros(self.padded_shape, dtype=g.dtype)
        for i in range(k[0]):
            for j in range(k[1]):
                _offset(gx, i, j, s, d, out_hw)[...] += share
        h, w = self.in_hw
        gx = gx[:, :, p[0]:p[0] + h, p[1]:p[1] + w]
        return (gx if self.batched else gx[0]),


def _avg_divisor(h, w, k, s, p, out_hw, count_include_pad, divisor_override, dtype):
    if divisor_override:
        return np.asarray(divisor_override, dtype=dtype)
    counts = []
    for size, ki, si, pi, o in zip((h, w), k, s, p, out_hw):
        start = np.arange(o) * si - pi
        end = np.minimum(start + ki, size + pi)
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, size) - np.maximum(start, 0))
    return (counts[0][:, None] * counts[1][None, :]).astype(dtype)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Average over ``kernel_size`` windows of ``(N, C, H, W)`` or ``(C, H, W)`` input."""
    if not isinstance(input, Tensor):
        raise not_tensor("avg_pool2d", "input", 1, input)
    k, s, p, d = _pool_args(kernel_size, stride, padding, 1, "avg_pool2d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    x, batched = _prepare(input, "avg_pool2d")
    out_hw = _sizes(x, k, s, p, d, ceil_mode)
    xp = _padded(x, p, k, s, d, out_hw, 0)
    total = _offset(xp, 0, 0, s, d, out_hw).copy()
    for i in range(k[0]):
        for j in range(k[1]):
            if i or j:
                total += _offset(xp, i, j, s, d, out_hw)
    divisor = _avg_divisor(x.shape[2], x.shape[3], k, s, p, out_hw, count_include_pad,
                           divisor_override, x.dtype)
    out = total / divisor
    res = wrap(out if batched else out[0], input)
    if needs_grad(input):
        node = AvgPool2DBackward0()
        node.geom, node.padded_shape, node.in_hw = (k, s, p, d, out_hw), xp.shape, x.shape[2:]
        node.divisor, node.batched = divisor, batched
        record(res, node, input)
    return res


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Average over windows of ``(N, C, L)`` or ``(C, L)`` input."""
    if not isinstance(input, Tensor):
        raise not_tensor("avg_pool1d", "input", 1, input)
    one = lambda v: (1, v) if isinstance(v, int) else (1,) + tuple(v)  # noqa: E731
    st = None if stride is None or (not isinstance(stride, int) and not stride) else one(stride)
    r = avg_pool2d(input.unsqueeze(-2), one(kernel_size), st,
                   (0, padding) if isinstance(padding, int) else (0,) + tuple(padding),
                   ceil_mode, count_include_pad)
    return r.squeeze(-2)


# ---------------------------------------------------------------------- adaptive
class AdaptiveAvgPool2DBackward0(Node):
    __slots__ = ("ah", "aw", "batched")

    def backward(self, g):
        gx = np.matmul(np.matmul(self.ah.T, g), self.aw)
        return gx,


def _averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """``(out, size)`` matrix whose row ``i`` averages torch's adaptive window ``i``."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    pos = np.arange(size)
    inside = (pos[None, :] >= start[:, None]) & (pos[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed ``output_size`` (int or pair; None keeps that dimension)."""
    if not isinstance(input, Tensor):
        touch(input, "size", function="adaptive_avg_pool2d")  # torch's wrapper: input.size()
    x = input._data
    if x.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{list(x.shape)}")
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    oh, ow = (x.shape[-2] if output_size[0] is None else output_size[0],
              x.shape[-1] if output_size[1] is None else output_size[1])
    if oh == 1 and ow == 1:
        from ..._ops.reduce import mean
        return mean(input, (-2, -1), keepdim=True)
    ah = _averaging_matrix(x.shape[-2], oh, x.dtype)
    aw = _averaging_matrix(x.shape[-1], ow, x.dtype)
    out = np.matmul(np.matmul(ah, x), aw.T)
    res = wrap(out, input)
    if needs_grad(input):
        node = AdaptiveAvgPool2DBackward0()
        node.ah, node.aw = ah, aw
        record(res, node, input)
    return res


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling of ``(N, C, L)`` input to ``output_size`` positions."""
    if not isinstance(input, Tensor):
        raise not_tensor("adaptive_avg_pool1d", "input", 1, input)
    size = output_size if isinstance(output_size, int) else output_size[0]
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)
