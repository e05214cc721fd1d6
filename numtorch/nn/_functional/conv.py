"""Convolutions as one batched matrix multiply over a strided view of the input.

``im2col`` turns the (padded) input into columns ``(N, G, Cg*kh*kw, OH*OW)`` with one copy of a
strided view; the weight ``(G, Og, Cg*kh*kw)`` multiplies them in one ``np.matmul``. Backward is
matmuls too, and ``col2im`` scatters column gradients back by one strided add per kernel offset.
Conv1d is Conv2d with a height of one.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

import warnings

from ._argcheck import CONV_OVERLOADS, check_tensors, invalid_combination
from ._common import Node, Tensor, needs_grad, record, tuple_arg, wants, wrap
from ._dtype_checks import check_conv_bias_dtype, check_conv_weight_dtype

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


# ---------------------------------------------------------------------- array kernels
def im2col(xp: np.ndarray, groups: int, kernel: tuple, stride: tuple, dilation: tuple,
           out_hw: tuple, ones_row: bool = False) -> np.ndarray:
    """Columns ``(N, G, Cg*kh*kw, OH*OW)`` of the padded input ``xp`` (N, C, Hp, Wp).

    With ``ones_row`` a last row of ones is appended (``K + 1`` rows), so a weight matrix with
    the bias as its last column adds the bias inside the same matmul."""
    n, c, _, _ = xp.shape
    kh, kw = kernel
    oh, ow = out_hw
    s_n, s_c, s_h, s_w = xp.strides
    cg = c // groups
    k = cg * kh * kw
    cols = np.empty((n, groups, k + ones_row, oh * ow), dtype=xp.dtype)
    it = cols.itemsize
    length = oh * ow * it
    dest_strides = (cols.strides[0], cols.strides[1], kh * kw * length, kw * length, length)
    if stride[1] == 1 and xp.flags.c_contiguous:
        # one output row of the columns is ``ow`` consecutive input elements: copy it as one
        # ``ow``-element record, so the copy loops over rows, not over single elements
        row = np.dtype((np.void, ow * it))
        src = np.ndarray(shape=(n, groups, cg, kh, kw, oh), dtype=row, buffer=xp,
                         strides=(s_n, cg * s_c, s_c, dilation[0] * s_h, dilation[1] * s_w,
                                  stride[0] * s_h))
        dest = np.ndarray(shape=src.shape, dtype=row, buffer=cols,
                          strides=dest_strides + (ow * it,))
    else:
        src = as_strided(xp, (n, groups, cg, kh, kw, oh, ow),
                         (s_n, cg * s_c, s_c, dilation[0] * s_h, dilation[1] * s_w,
                          stride[0] * s_h, stride[1] * s_w), writeable=False)
        dest = as_strided(cols, src.shape, dest_strides + (ow * it, it))
    np.copyto(dest, src)
    if ones_row:
        cols[:, :, k, :] = 1
    return cols


def col2im(cols: np.ndarray, shape: tuple, groups: int, kernel: tuple, stride: tuple,
           dilation: tuple, out_hw: tuple) -> np.ndarray:
    """Sum column gradients ``(N, G, Cg*kh*kw, OH*OW)`` back into an array of ``shape``."""
    n, c, hp, wp = shape
    kh, kw = kernel
    oh, ow = out_hw
    sh, sw = stride
    dh, dw = dilation
    cg = c // groups
    out = np.zeros(shape, dtype=cols.dtype)
    c7 = cols.reshape(n, groups, cg, kh, kw, oh, ow)
    o5 = out.reshape(n, groups, cg, hp, wp)
    h_span, w_span = sh * (oh - 1) + 1, sw * (ow - 1) + 1
    for i in range(kh):
        for j in range(kw):
            o5[:, :, :, i * dh:i * dh + h_span:sh, j * dw:j * dw + w_span:sw] += c7[:, :, :, i, j]
    return out


def pad_input(x: np.ndarray, pads: tuple) -> np.ndarray:
    """Zero-pad the last two dims by ``(top, bottom, left, right)``."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    xp[:, :, top:top + h, left:left + w] = x
    return xp


_KEEP_COLS_BYTES = 64 << 20


def _out_size(size: int, k: int, s: int, d: int) -> int:
    return (size - d * (k - 1) - 1) // s + 1


class ConvolutionBackward0(Node):
    """Gradient of a (transposed) convolution with respect to input, weight and bias."""

    __slots__ = ("cols", "pads", "stride", "dilation", "groups", "in_shape", "one_d",
                 "transposed", "out_hw", "has_bias", "full_shape", "bias_dtype")

    def backward(self, g):
        x, w = self.saved_tensors_checked()[:2]
        if self.one_d:
            g = g[:, :, None, :]
        g = np.ascontiguousarray(g)
        xd = x._data
        if xd.ndim == w._data.ndim - 1:  # unbatched input
            xd = xd[None]
        gb = None
        if self.transposed:
            gx, gw = self._transposed_grads(g, xd, w._data)
        else:
            gx, gw, gb = self._grads(g, xd, w._data)
        if self.has_bias and wants(self, 2):
            if gb is None:
                gb = g.sum(axis=(0, 2, 3))
            if self.bias_dtype is not None:
                gb = gb.astype(self.bias_dtype)
        else:
            gb = None
        if self.one_d:
            gx = None if gx is None else gx[:, :, 0, :]
            gw = None if gw is None else gw[:, :, 0, :]
        if self.has_bias:
            return gx, gw, gb
        return gx, gw

    def _weight4(self, w: np.ndarray) -> np.ndarray:
        return w[:, :, None, :] if self.one_d else w

    def _grads(self, g, x, w):
        w4 = self._weight4(w)
        n, o, oh, ow = g.shape
        grp = self.groups
        g4 = g.reshape(n, grp, o // grp, oh * ow)
        gx = gw = gb = None
        if wants(self, 1):
            cols = self.cols
            if cols is None:
                x4 = x[:, :, None, :] if self.one_d else x
                cols = im2col(pad_input(x4, self.pads), grp, w4.shape[2:], self.stride,
                              self.dilation, (oh, ow))
            gw = np.matmul(g4, cols.transpose(0, 1, 3, 2)).sum(axis=0)
            k = w4[0].size
            if gw.shape[2] > k:  # the ones row of the columns: bias gradient for free
                gb = gw[:, :, k].reshape(o)
                gw = gw[:, :, :k]
            gw = gw.reshape(w4.shape)
        if wants(self, 0):
            w3 = w4.reshape(grp, o // grp, -1)
            gcols = np.matmul(w3.transpose(0, 2, 1), g4)
            gxp = col2im(gcols, self.full_shape, grp, w4.shape[2:], self.stride,
                         self.dilation, (oh, ow))
            top, _, left, _ = self.pads
            h, wd = self.in_shape
            gx = gxp[:, :, top:top + h, left:left + wd]
        return gx, gw, gb

    def _transposed_grads(self, g, x, w):
        # the input gradient of a transposed convolution is an ordinary convolution of g
        w4 = self._weight4(w)
        x4 = x[:, :, None, :] if self.one_d else x
        n, cin, h, wd = x4.shape
        grp = self.groups
        ph, pw = self.pads
        gp = pad_input(g, (ph, ph, pw, pw))
        gcols = im2col(gp, grp, w4.shape[2:], self.stride, self.dilation, (h, wd))
        gx = gw = None
        if wants(self, 0):
            w3 = w4.reshape(grp, cin // grp, -1)
            gx = np.matmul(w3, gcols).reshape(n, cin, h, wd)
        if wants(self, 1):
            x4g = x4.reshape(n, grp, cin // grp, h * wd)
            gw = np.matmul(x4g, gcols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w4.shape)
        return gx, gw


# ---------------------------------------------------------------------- argument checks
def _check_dims(input: Tensor, weight: Tensor, bias, nd: int, name: str) -> bool:
    """Validate the input's rank (and a plain convolution's bias dtype, which torch checks
    next); returns whether the input is batched."""
    x = input._data
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(x.shape)}")
    if bias is not None and not name.startswith("conv_transpose"):
        check_conv_bias_dtype(x.dtype, bias._data.dtype)
    return x.ndim == nd + 2


_warned_asymmetric_same = False


def _same_pads(kernel: tuple, dilation: tuple) -> tuple:
    global _warned_asymmetric_same
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    if not _warned_asymmetric_same and any(a != b for a, b in zip(pads[::2], pads[1::2])):
        _warned_asymmetric_same = True  # torch warns once per process
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may "
                      "require a zero-padded copy of the input be created", UserWarning,
                      stacklevel=5)
    return tuple(pads)


def _resolve_padding(padding, kernel, stride, dilation) -> tuple:
    """(top, bottom, left, right) pads for an int/tuple/'same'/'valid' padding argument."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        return _same_pads(kernel, dilation)
    ph, pw = padding
    if ph < 0 or pw < 0:
        raise RuntimeError("negative padding is not supported")
    return (ph, ph, pw, pw)


# ---------------------------------------------------------------------- convolution
def _conv(input: Tensor, weight: Tensor, bias, stride, padding, dilation, groups: int,
          one_d: bool) -> Tensor:
    nd = 1 if one_d else 2
    name = "conv1d" if one_d else "conv2d"
    batched = _check_dims(input, weight, bias, nd, name)
    x, w = input._data, weight._data
    if not batched:
        x = x[None]
    if one_d:
        x, w = x[:, :, None, :], w[:, :, None, :]
        stride = (1,) + tuple_arg(stride, 1, "stride")
        dilation = (1,) + tuple_arg(dilation, 1, "dilation")
        if not isinstance(padding, str):
            padding = (0,) + tuple_arg(padding, 1, "padding")
    else:
        stride = tuple_arg(stride, 2, "stride")
        dilation = tuple_arg(dilation, 2, "dilation")
        if not isinstance(padding, str):
            padding = tuple_arg(padding, 2, "padding")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    _check_channels(x, w, bias, groups, input, weight, one_d, batched)
    kernel = w.shape[2:]
    pads = _resolve_padding(padding, kernel, stride, dilation)
    xp = pad_input(x, pads)
    hp, wp = xp.shape[2:]
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if hp < eff[0] or wp < eff[1]:
        got = f"({hp} x {wp})" if not one_d else f"({wp})"
        kk = f"({eff[0]} x {eff[1]})" if not one_d else f"({eff[1]})"
        raise RuntimeError(f"Calculated padded input size per channel: {got}. Kernel size: {kk}. "
                           "Kernel size can't be greater than actual input size")
    check_conv_weight_dtype(x.dtype, w.dtype, None if bias is None else bias._data.dtype, False)
    oh = _out_size(hp, kernel[0], stride[0], dilation[0])
    ow = _out_size(wp, kernel[1], stride[1], dilation[1])
    fold = bias is not None
    cols = im2col(xp, groups, kernel, stride, dilation, (oh, ow), ones_row=fold)
    o = w.shape[0]
    w3 = w.reshape(groups, o // groups, -1)
    if fold:
        w3 = np.concatenate([w3, bias._data.reshape(groups, o // groups, 1)], axis=2)
    out = np.matmul(w3, cols).reshape(x.shape[0], o, oh, ow)
    if out.dtype != x.dtype:  # ml_dtypes' bfloat16 matmul returns float32
        out = out.astype(x.dtype)
    if one_d:
        out = out[:, :, 0, :]
    if not batched:
        out = out[0]
    res = wrap(out, input)
    if needs_grad(input, weight, bias):
        node = ConvolutionBackward0()
        node.pads, node.stride, node.dilation, node.groups = pads, stride, dilation, groups
        node.in_shape, node.one_d, node.transposed = x.shape[2:], one_d, False
        node.full_shape, node.has_bias, node.bias_dtype = xp.shape, bias is not None, None
        # keep the columns for the weight gradient unless they are large (then rebuilt)
        node.cols = cols if weight._requires_grad and cols.nbytes <= _KEEP_COLS_BYTES else None
        inputs = (input, weight) if bias is None else (input, weight, bias)
        node.save(input, weight)
        if not batched:
            return _record_unbatched(res, node, inputs)
        record(res, node, *inputs)
    return res


def _check_channels(x, w, bias, groups, input, weight, one_d, batched) -> None:
    c = x.shape[1]
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(weight.shape)}] "
                           "instead")
    if c != w.shape[1] * groups:
        shown = list(input.shape) if batched else [1] + list(input.shape)
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{shown} to have {w.shape[1] * groups} channels, but got {c} "
                           "channels instead")
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != w.shape[0]):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {w.shape[0]} elements, but got bias of size "
                           f"{list(bias.shape)} instead")


class _UnbatchedConvolutionBackward0(ConvolutionBackward0):
    """The same gradient for an input without its batch dimension."""

    __slots__ = ()

    def backward(self, g):
        grads = ConvolutionBackward0.backward(self, g[None])
        gx = grads[0]
        return (None if gx is None else gx[0],) + tuple(grads[1:])

    def name(self) -> str:
        return "SqueezeBackward1"


def _record_unbatched(res, node, inputs):
    node.__class__ = _UnbatchedConvolutionBackward0
    return record(res, node, *inputs)


_CONV_DEFAULTS = (None, 1, 0, 1, 1)  # of bias, stride, padding, dilation, groups


def conv_argument_error(name: str, args: tuple, given: int | None = None) -> TypeError:
    """torch's TypeError for a non-tensor input, weight or bias of ``conv1d``/``conv2d``, listing
    the first ``given`` arguments (default: up to the last one that differs from its default,
    since a Python function cannot tell a default from the same value passed explicitly)."""
    if given is None:
        given = len(args)
        while given > 2 and _is_default(args[given - 1], _CONV_DEFAULTS[given - 3]):
            given -= 1
    return invalid_combination(name, args[:given], {}, CONV_OVERLOADS)


def _is_default(value, default) -> bool:
    return value is default or (type(value) is int and value == default)


def _tensor_arguments(input, weight, bias) -> bool:
    return isinstance(input, Tensor) and isinstance(weight, Tensor) and (
        bias is None or isinstance(bias, Tensor))


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of ``(N, C, H, W)`` or ``(C, H, W)`` input.

    ``padding`` is an int, a pair, ``"valid"`` or ``"same"`` (stride 1 only)."""
    if not _tensor_arguments(input, weight, bias):
        raise conv_argument_error("conv2d", (input, weight, bias, stride, padding, dilation,
                                             groups))
    return _conv(input, weight, bias, stride, padding, dilation, groups, one_d=False)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution of ``(N, C, L)`` or ``(C, L)`` input."""
    if not _tensor_arguments(input, weight, bias):
        raise conv_argument_error("conv1d", (input, weight, bias, stride, padding, dilation,
                                             groups))
    return _conv(input, weight, bias, stride, padding, dilation, groups, one_d=True)


# ---------------------------------------------------------------------- transposed
def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    one_d: bool) -> Tensor:
    nd = 1 if one_d else 2
    name = "conv_transpose1d" if one_d else "conv_transpose2d"
    check_tensors(name, ("input", input), ("weight", weight), ("bias", bias), optional=1)
    batched = _check_dims(input, weight, bias, nd, name)
    x, w = input._data, weight._data
    if not batched:
        x = x[None]
    args = [tuple_arg(a, nd, n) for a, n in ((stride, "stride"), (padding, "padding"),
                                              (output_padding, "output_padding"),
                                              (dilation, "dilation"))]
    if one_d:
        x, w = x[:, :, None, :], w[:, :, None, :]
        args = [((1,) if n != 1 and n != 2 else (0,)) + a for n, a in enumerate(args)]
    stride, pads, out_pad, dilation = args
    for op, s, d in zip(out_pad, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation, "
                               f"but got output_padding_height: {out_pad[0]} output_padding_"
                               f"width: {out_pad[1]} stride_height: {stride[0]} stride_width: "
                               f"{stride[1]} dilation_height: {dilation[0]} dilation_width: "
                               f"{dilation[1]}")
    n, cin, h, wd = x.shape
    if cin != w.shape[0]:
        shown = list(input.shape) if batched else [1] + list(input.shape)
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{shown} to have {w.shape[0]} channels, but got {cin} channels "
                           "instead")
    bias_data = None if bias is None else bias._data
    if check_conv_weight_dtype(x.dtype, w.dtype, None if bias is None else bias_data.dtype, True):
        bias_data = bias_data.astype(x.dtype)
    kernel = w.shape[2:]
    cog = w.shape[1]
    full = tuple((sz - 1) * s + d * (k - 1) + 1 + op
                 for sz, s, d, k, op in zip((h, wd), stride, dilation, kernel, out_pad))
    xg = x.reshape(n, groups, cin // groups, h * wd)
    w3 = w.reshape(groups, cin // groups, -1)
    cols = np.matmul(w3.transpose(0, 2, 1), xg)
    outp = col2im(cols, (n, cog * groups) + full, groups, kernel, stride, dilation, (h, wd))
    oh, ow = full[0] - 2 * pads[0], full[1] - 2 * pads[1]
    out = outp[:, :, pads[0]:pads[0] + oh, pads[1]:pads[1] + ow]
    if bias is not None:
        out = out + bias_data[:, None, None]
    if one_d:
        out = out[:, :, 0, :]
    if not batched:
        out = out[0]
    res = wrap(np.ascontiguousarray(out, dtype=x.dtype), input)
    if needs_grad(input, weight, bias):
        node = ConvolutionBackward0()
        node.pads, node.stride, node.dilation, node.groups = pads, stride, dilation, groups
        node.one_d, node.transposed, node.has_bias, node.cols = one_d, True, bias is not None, None
        node.bias_dtype = None if bias_data is None or bias_data is bias._data else \
            bias._data.dtype
        node.save(input, weight)
        inputs = (input, weight) if bias is None else (input, weight, bias)
        if not batched:
            return _record_unbatched(res, node, inputs)
        record(res, node, *inputs)
    return res


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution; ``weight`` is ``(C_in, C_out / groups, kH, kW)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, one_d=False)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution; ``weight`` is ``(C_in, C_out / groups, kL)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, one_d=True)
