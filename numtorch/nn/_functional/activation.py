"""Activation functions and softmax, each one fused node named as torch names it."""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..._ops._util import check_inplace, finish_inplace, float_array
from ..._ops._select import select
from ..._ops.activation import relu_array, relu_grad
from ._argcheck import check_tensors, not_tensor, touch
from ._common import Node, Tensor, needs_grad, record, wants, wrap
from ._dtype_checks import check_prelu_dtypes, not_implemented_unless_float

__all__ = ["relu", "relu_", "leaky_relu", "leaky_relu_", "prelu", "gelu", "silu", "tanh",
           "sigmoid", "softmax", "log_softmax", "erf_array"]


def _inplace_result(input: Tensor, result: Tensor) -> Tensor:
    """Write ``result`` into ``input`` as an in-place op would."""
    check_inplace(input)
    return finish_inplace(input, result)


# ---------------------------------------------------------------------- relu family
class ReluBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (out,) = self.saved_tensors_checked()
        return relu_grad(g, out._data),


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)`` elementwise."""
    try:
        x = input._data
    except AttributeError:
        raise not_tensor("relu_" if inplace else "relu", "input", 1, input) from None
    out = relu_array(x) if x.dtype.kind != "b" else x.copy()
    res = wrap(out.astype(x.dtype, copy=False), input)
    if needs_grad(input):
        node = ReluBackward0()
        node.save(res)  # before record(), which keeps an alias: no node/output cycle
        record(res, node, input)
    if inplace:
        return _inplace_result(input, res)
    return res


def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu`."""
    return relu(input, inplace=True)


class LeakyReluBackward0(Node):
    __slots__ = ("slope",)

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        xd = x._data
        with np.errstate(invalid="ignore", over="ignore"):  # torch: inf * 0 slope is NaN
            negative = g * np.asarray(self.slope, dtype=g.dtype)
        return select(xd > 0, g, negative),


class LeakyReluBackward1(LeakyReluBackward0):
    """The in-place form's node (torch saves the result there)."""

    __slots__ = ()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    if not isinstance(input, Tensor):
        raise not_tensor("leaky_relu_" if inplace else "leaky_relu", "input", 1, input)
    x = input._data
    out = select(x > 0, x, x * np.asarray(negative_slope, dtype=x.dtype))
    res = wrap(out.astype(x.dtype, copy=False), input)
    if needs_grad(input):
        node = LeakyReluBackward1() if inplace else LeakyReluBackward0()
        node.slope = negative_slope
        node.save(input if not inplace else wrap(x.copy(), input))
        record(res, node, input)
    if inplace:
        return _inplace_result(input, res)
    return res


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


class PreluKernelBackward0(Node):
    __slots__ = ("wshape", "axes")

    def backward(self, g):
        x, w = self.saved_tensors_checked()
        xd, wd = x._data, w._data.reshape(self.wshape)
        pos = xd > 0
        gx = select(pos, g, g * wd) if wants(self, 0) else None
        gw = None
        if wants(self, 1):
            gw = select(~pos, g * xd).sum(axis=self.axes).reshape(w._data.shape)
        return gx, gw


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where positive, ``weight * x`` elsewhere; ``weight`` has 1 or C (dim 1) entries."""
    check_tensors("prelu", ("input", input), ("weight", weight))
    x, w = input._data, weight._data
    check_prelu_dtypes(x.dtype, w.dtype)
    c = w.size
    if c != 1:
        if x.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = x.shape[1] if x.ndim >= 2 else 1
        if c != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {c} and channel size = {channels}.")
    if w.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {w.ndim}")
    not_implemented_unless_float("prelu_cpu", x.dtype)
    wshape = (1,) * x.ndim if c == 1 else tuple(c if i == 1 else 1 for i in range(x.ndim))
    out = select(x > 0, x, x * w.reshape(wshape))
    res = wrap(out, input)
    if needs_grad(input, weight):
        node = PreluKernelBackward0()
        node.wshape = wshape
        node.axes = tuple(i for i in range(x.ndim) if wshape[i] == 1)
        node.save(input, weight)
        record(res, node, input, weight)
    return res


# ---------------------------------------------------------------------- smooth activations
_SQRT_PI = math.sqrt(math.pi)


def erf_array(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, to double precision (no SciPy needed).

    A positive-term series serves ``|x| < 2.5``; a continued fraction for erfc the rest."""
    xd = np.asarray(x, dtype=np.float64)
    a = np.abs(xd)
    small = a < 2.5
    s = np.where(small, a, 0.0)
    term = s.copy()
    total = s.copy()
    s2 = 2.0 * s * s
    for n in range(1, 60):
        term = term * s2 / (2 * n + 1)
        total += term
    erf_small = 2.0 / _SQRT_PI * np.exp(-s * s) * total
    big = np.where(small, 2.5, a)
    t = big.copy()
    for k in range(80, 0, -1):
        t = big + (k / 2.0) / t
    erfc_big = np.exp(-big * big) / _SQRT_PI / t
    r = np.where(small, erf_small, 1.0 - erfc_big)
    return np.copysign(r, xd)


_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gelu_cdf(x: np.ndarray) -> np.ndarray:
    """``0.5 * (1 + erf(x / sqrt(2)))`` in ``x``'s dtype, the formula torch evaluates (so its
    rounding in the far negative tail is torch's too)."""
    e = erf_array(x * x.dtype.type(math.sqrt(0.5))).astype(x.dtype)
    return x.dtype.type(0.5) * (x.dtype.type(1.0) + e)


_GELU_C = math.sqrt(2.0 / math.pi)


class GeluBackward0(Node):
    __slots__ = ("approximate",)

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        xd = x._data
        if self.approximate == "tanh":
            inner = _GELU_C * (xd + 0.044715 * xd ** 3)
            th = np.tanh(inner)
            d = 0.5 * (1 + th) + 0.5 * xd * (1 - th * th) * _GELU_C * (1 + 3 * 0.044715 * xd * xd)
        else:
            d = _gelu_cdf(xd) + xd * np.exp(-0.5 * xd * xd) * xd.dtype.type(_INV_SQRT_2PI)
        return (g * d).astype(g.dtype, copy=False),


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)`` (``approximate="tanh"``: tanh formula)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    if not isinstance(input, Tensor):
        raise not_tensor("gelu", "input", 1, input)
    not_implemented_unless_float("GeluKernelImpl", input._data.dtype)
    x = float_array(input._data)
    if approximate == "tanh":
        out = 0.5 * x * (1 + np.tanh(_GELU_C * (x + 0.044715 * x ** 3)))
    else:
        out = x * _gelu_cdf(x)
    res = wrap(out.astype(x.dtype, copy=False), input)
    if needs_grad(input):
        node = GeluBackward0()
        node.approximate = approximate
        node.save(input)
        record(res, node, input)
    return res


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


class SiluBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        s = _sigmoid(x._data)
        return (g * s * (1 + x._data * (1 - s))).astype(g.dtype, copy=False),


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)``."""
    if not isinstance(input, Tensor):
        raise not_tensor("silu_" if inplace else "silu", "input", 1, input)
    x = float_array(input._data)
    res = wrap((x * _sigmoid(x)).astype(x.dtype, copy=False), input)
    if needs_grad(input):
        node = SiluBackward0()
        node.save(input if not inplace else wrap(x.copy(), input))
        record(res, node, input)
    if inplace:
        return _inplace_result(input, res)
    return res


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    if not isinstance(input, Tensor):
        touch(input, "tanh")  # torch's F.tanh is input.tanh()
    import numtorch
    return numtorch.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    """Logistic sigmoid."""
    if not isinstance(input, Tensor):
        touch(input, "sigmoid")  # torch's F.sigmoid is input.sigmoid()
    import numtorch
    return numtorch.sigmoid(input)


# ---------------------------------------------------------------------- softmax
def _softmax_dim(name: str, ndim: int, stacklevel: int = 4) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _prepare_softmax(input: Tensor, dim, dtype, name: str):
    from ..._dtype import to_numpy_dtype
    if not isinstance(input, Tensor):
        # torch's wrapper reads input.dim() (no dim given), then calls input.softmax(...)
        touch(input, "dim" if dim is None else name)
    x = input._data
    if dim is None:
        dim = _softmax_dim(name, x.ndim)
    n = max(x.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    if dtype is not None:
        x = x.astype(to_numpy_dtype(dtype))
    elif x.dtype.kind not in "fV":
        raise RuntimeError(f"\"{name}_lastdim_kernel_impl\" not implemented for "
                           f"'{_long_name(x)}'")
    return x, (dim % n if x.ndim else None)


def _long_name(x) -> str:
    from ._common import torch_dtype_name
    return torch_dtype_name(x)


class SoftmaxBackward0(Node):
    __slots__ = ("dim", "in_dtype")

    def backward(self, g):
        (out,) = self.saved_tensors_checked()
        y = out._data
        gy = g * y
        r = gy - y * gy.sum(axis=self.dim, keepdims=True)
        return r.astype(self.in_dtype, copy=False),


class LogSoftmaxBackward0(Node):
    __slots__ = ("dim", "in_dtype")

    def backward(self, g):
        (out,) = self.saved_tensors_checked()
        r = g - np.exp(out._data) * g.sum(axis=self.dim, keepdims=True)
        return r.astype(self.in_dtype, copy=False),


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    x, axis = _prepare_softmax(input, dim, dtype, "softmax")
    shifted = x - x.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    e /= e.sum(axis=axis, keepdims=True)
    res = wrap(e, input)
    if needs_grad(input):
        node = SoftmaxBackward0()
        node.dim, node.in_dtype = axis, input._data.dtype
        node.save(res)
        record(res, node, input)
    return res


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably."""
    x, axis = _prepare_softmax(input, dim, dtype, "log_softmax")
    shifted = x - x.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    res = wrap(shifted, input)
    if needs_grad(input):
        node = LogSoftmaxBackward0()
        node.dim, node.in_dtype = axis, input._data.dtype
        node.save(res)
        record(res, node, input)
    return res
