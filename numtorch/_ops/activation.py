"""Pointwise activations (relu, gelu, silu, softplus, elu ...), erf, clamp, softmax.

These are the functional forms; nn's layer classes call them.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .._tensor import _CPP_TYPE_NAMES
from ._select import select
from ._util import (GRAD, NP2DT, Node, Tensor, apply_inplace, out_into as _out, record,
                    result_dtype, scalar_operand, type_word, wrap)
from .elementwise import _fit
from .reduce import normalize_dims

# exported as numtorch.<name> (those torch has at top level); the rest are functional forms for
# numtorch.nn.functional
__all__ = ["erf", "erfc", "relu", "relu_", "clamp", "clip", "clamp_min", "clamp_max", "clamp_",
           "clip_", "clamp_min_", "clamp_max_", "selu", "celu", "softmax", "log_softmax"]
TENSOR_METHODS = ["erf", "erfc", "erf_", "erfc_", "relu", "relu_", "clamp", "clip",
                  "clamp_min", "clamp_max", "clamp_", "clip_", "clamp_min_", "clamp_max_",
                  "softmax", "log_softmax"]

_HALF = (np.dtype(np.float16), D.bfloat16.np)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)

# ---------------------------------------------------------------------- erf (W. J. Cody, 1969)
# Rational Chebyshev approximations of erf on |x| <= 0.46875 and of erfc on (0.46875, 4] and
# (4, inf), accurate to float64 precision (Cody, Math. Comp. 23 (1969) 631-637; as in CALERF).
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)
_INV_SQRT_PI = 5.6418958354775628695e-1
_TWO_OVER_SQRT_PI = 2.0 * _INV_SQRT_PI


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 0.46875."""
    z = x * x
    num, den = _A[4] * z, z
    for i in range(3):
        num = (num + _A[i]) * z
        den = (den + _B[i]) * z
    return x * (num + _A[3]) / (den + _B[3])


def _erfc_scaled_tail(y: np.ndarray) -> np.ndarray:
    """erfc(y) / exp(-y*y) for y > 0.46875 (y >= 0)."""
    mid = y <= 4.0
    out = np.empty_like(y)
    if mid.any():
        ym = y[mid] if not mid.all() else y
        num, den = _C[8] * ym, ym
        for i in range(7):
            num = (num + _C[i]) * ym
            den = (den + _D[i]) * ym
        r = (num + _C[7]) / (den + _D[7])
        if mid.all():
            return r
        out[mid] = r
    big = ~mid
    yb = y[big]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = 1.0 / (yb * yb)
        num, den = _P[5] * z, z
        for i in range(4):
            num = (num + _P[i]) * z
            den = (den + _Q[i]) * z
        r = z * (num + _P[4]) / (den + _Q[4])
        out[big] = np.where(np.isinf(yb), 0.0, (_INV_SQRT_PI - r) / yb)
    return out


def _exp_neg_square(y: np.ndarray) -> np.ndarray:
    """exp(-y*y) computed in two parts to keep float64 precision (Cody's trick)."""
    ys = np.trunc(y * 16.0) / 16.0
    with np.errstate(invalid="ignore"):
        return np.exp(-ys * ys) * np.exp(-(y - ys) * (y + ys))


def erf_array(x: np.ndarray) -> np.ndarray:
    """Vectorised erf in float64 (any float input), accurate to about 1 ulp."""
    x = np.asarray(x, dtype=_F64)
    y = np.abs(x)
    small = y <= 0.46875
    if small.all():
        return _erf_small(x)
    out = np.empty_like(x)
    if small.any():
        out[small] = _erf_small(x[small])
    rest = ~small
    yr = np.minimum(y[rest], 40.0)  # erfc underflows to 0 long before; keeps inf finite
    erfc = _erfc_scaled_tail(yr) * _exp_neg_square(yr)
    out[rest] = np.copysign(0.5 - erfc + 0.5, x[rest])
    return out


def erfc_array(x: np.ndarray) -> np.ndarray:
    """Vectorised erfc in float64, accurate in the tails (no cancellation)."""
    x = np.asarray(x, dtype=_F64)
    y = np.abs(x)
    small = y <= 0.46875
    out = np.empty_like(x)
    if small.any():
        out[small] = 1.0 - _erf_small(x[small])
    rest = ~small
    if rest.any():
        yr = np.minimum(y[rest], 40.0)
        e = _erfc_scaled_tail(yr) * _exp_neg_square(yr)
        out[rest] = np.where(x[rest] < 0, 2.0 - e, e)
    return out


# ---------------------------------------------------------------------- helpers
def _float_input(input: Tensor, name: str) -> np.ndarray:
    x = input._data
    if x.dtype.kind not in "fV":
        raise NotImplementedError(f"\"{name}\" not implemented for '{type_word(x.dtype)}'")
    return x


def _work(x: np.ndarray) -> np.ndarray:
    """The array to compute on: half types widen to float32."""
    return x.astype(_F32) if x.dtype in _HALF else x


def _done(r: np.ndarray, dt) -> np.ndarray:
    return r if r.dtype == dt else r.astype(dt)


class _Saved(Node):
    """Node keeping the input (and parameters) for a pointwise backward ``grad(g, x)``."""
    __slots__ = ("params",)

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        xd = x._data
        return (_done(self.grad(_work(g), _work(xd), *self.params), xd.dtype),)


def _pointwise(input: Tensor, name: str, fwd, node_cls, params=(), out=None) -> Tensor:
    x = _float_input(input, name)
    res = wrap(_done(fwd(_work(x), *params), x.dtype), input)
    if GRAD.enabled and input._requires_grad:
        node = node_cls()
        node.params = params
        node.save(input)
        record(res, node, input)
    return res if out is None else _out(res, out)


# ---------------------------------------------------------------------- erf family
class ErfBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x):
        return g * (_TWO_OVER_SQRT_PI * np.exp(-x * x))


class ErfcBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x):
        return g * (-_TWO_OVER_SQRT_PI * np.exp(-x * x))


def _promote_float(input: Tensor) -> Tensor:
    if input._data.dtype.kind in "biu":
        return wrap(input._data.astype(D.get_default_dtype().np), input)
    return input


def erf(input: Tensor, *, out=None) -> Tensor:
    """The error function, elementwise (integers promote to the default float dtype)."""
    return _pointwise(_promote_float(input), "erf", lambda x: erf_array(x), ErfBackward0,
                      out=out)


def erfc(input: Tensor, *, out=None) -> Tensor:
    """The complementary error function ``1 - erf(x)``, accurate in the tails."""
    return _pointwise(_promote_float(input), "erfc", lambda x: erfc_array(x), ErfcBackward0,
                      out=out)


def erf_(self: Tensor) -> Tensor:
    """In-place :func:`erf`; returns self."""
    return apply_inplace(self, erf)


def erfc_(self: Tensor) -> Tensor:
    """In-place :func:`erfc`; returns self."""
    return apply_inplace(self, erfc)


# ---------------------------------------------------------------------- relu family
_ZEROS: dict = {}
_ZEROS_CHUNK = 1 << 20  # elements: a cached run of zeros per dtype at most this long


def _zeros(dtype: np.dtype, n: int) -> np.ndarray:
    """``n`` (at most ``_ZEROS_CHUNK``) read-only zeros of ``dtype``, from a cached buffer."""
    z = _ZEROS.get(dtype)
    if z is None or z.size < n:
        z = np.zeros(min(max(n, 4096), _ZEROS_CHUNK), dtype)
        z.flags.writeable = False
        _ZEROS[dtype] = z
    return z[:n]


def relu_array(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` as torch computes it (``-0.0`` stays ``-0.0``, NaN stays NaN).

    NumPy's maximum against a scalar runs an unvectorised loop; against an array of zeros it
    is vectorised and 2-3x faster, so contiguous input meets cached zeros chunk by chunk."""
    if (x.dtype.kind == "f" and x.itemsize < 4) or x.dtype.kind == "V":
        return select(~np.less(x, 0), x)  # no fast maximum to lose here
    if not x.flags.c_contiguous or x.size == 0:
        return np.maximum(np.zeros((), x.dtype), x)
    if x.size <= _ZEROS_CHUNK:
        return np.maximum(_zeros(x.dtype, x.size).reshape(x.shape), x)
    out = np.empty_like(x)
    flat_x, flat_out = x.reshape(-1), out.reshape(-1)
    for i in range(0, x.size, _ZEROS_CHUNK):
        part = flat_x[i:i + _ZEROS_CHUNK]
        np.maximum(_zeros(x.dtype, part.size), part, out=flat_out[i:i + _ZEROS_CHUNK])
    return out


def relu_grad(g: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The gradient through ``relu`` given its output: exactly zero where the output is zero
    (the output is never negative), ``g`` itself where it is positive or NaN, as in torch."""
    return select(np.not_equal(out, 0), g)


class ReluBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (y,) = self.saved_tensors_checked()
        return (relu_grad(g, y._data),)


def relu(input: Tensor) -> Tensor:
    """``max(x, 0)`` elementwise."""
    x = input._data
    if x.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    res = wrap(relu_array(x), input)
    if GRAD.enabled and input._requires_grad:
        node = ReluBackward0()
        node.save(res)
        record(res, node, input)
    return res


def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu`; returns self."""
    return apply_inplace(input, relu)


class GeluBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x, approximate):
        if approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = np.tanh(k * (x + 0.044715 * x * x * x))
            d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        else:
            cdf = _done(0.5 * (1.0 + erf_array(x * (1 / math.sqrt(2.0)))), x.dtype)
            d = cdf + x * np.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return g * _done(d, g.dtype)


def _gelu(x, approximate):
    if approximate == "tanh":
        k = math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1 + np.tanh(k * (x + 0.044715 * x * x * x)))
    return x * _done(0.5 * (1.0 + erf_array(x * (1 / math.sqrt(2.0)))), x.dtype)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit, exact (erf) or with the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh.")
    return _pointwise(input, "GeluKernelImpl", _gelu, GeluBackward0, (approximate,))


def _sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


class SiluBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x):
        s = _sigmoid(x)
        return g * (s * (1 + x * (1 - s)))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)``."""
    if inplace:
        return apply_inplace(input, silu)
    res = _pointwise(input, "silu", lambda x: x * _sigmoid(x), SiluBackward0)
    return res




class MishBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x):
        sp = np.logaddexp(0, x)
        t = np.tanh(sp)
        return g * (t + x * (1 - t * t) * _sigmoid(x))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    if inplace:
        return apply_inplace(input, mish)
    res = _pointwise(input, "mish", lambda x: x * np.tanh(np.logaddexp(0, x)), MishBackward0)
    return res


class SoftplusBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x, beta, threshold):
        z = x * beta
        return g * select(z > threshold, 1, _sigmoid(z)).astype(g.dtype)


def _softplus(x, beta, threshold):
    z = x * beta
    return select(z > threshold, x, np.logaddexp(0, z) / beta).astype(x.dtype, copy=False)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    return _pointwise(input, "softplus", _softplus, SoftplusBackward0, (beta, threshold))


class LogSigmoidBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x):
        return g * _sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    return _pointwise(input, "log_sigmoid_forward", lambda x: -np.logaddexp(0, -x),
                      LogSigmoidBackward0)


class LeakyReluBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x, slope):
        return select(x > 0, g, g * slope).astype(g.dtype, copy=False)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    if inplace:
        return apply_inplace(input, leaky_relu, negative_slope)
    res = _pointwise(input, "leaky_relu", lambda x, s: select(x > 0, x, x * s).astype(
        x.dtype, copy=False), LeakyReluBackward0, (negative_slope,))
    return res


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place :func:`leaky_relu`; returns self."""
    return apply_inplace(input, leaky_relu, negative_slope)


class EluBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x, alpha, scale, input_scale):
        neg = g * (scale * alpha * input_scale) * np.exp(x * input_scale)
        return select(x <= 0, neg, g * scale).astype(g.dtype, copy=False)  # NaN: g * scale


def _elu(x, alpha, scale, input_scale):
    return select(x > 0, x * scale, (scale * alpha) * np.expm1(x * input_scale)).astype(
        x.dtype, copy=False)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    if inplace:
        return apply_inplace(input, elu, alpha)
    res = _pointwise(input, "elu", _elu, EluBackward0, (alpha, 1.0, 1.0))
    return res


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`elu`; returns self."""
    return apply_inplace(input, elu, alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Scaled ELU with the self-normalising constants."""
    if inplace:
        return apply_inplace(input, selu)
    res = _pointwise(input, "elu", _elu, EluBackward0, (_SELU_ALPHA, _SELU_SCALE, 1.0))
    return res


class CeluBackward0(EluBackward0):
    __slots__ = ()

    @staticmethod
    def grad(g, x, alpha, scale, input_scale):
        # torch's derivative formula takes 1 / alpha with alpha rounded to float32
        return EluBackward0.grad(g, x, alpha, scale, 1.0 / float(np.float32(alpha)))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if inplace:
        return apply_inplace(input, celu, alpha)
    res = _pointwise(input, "elu", _elu, CeluBackward0, (alpha, 1.0, 1.0 / alpha))
    return res


class HardtanhBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x, lo, hi):
        return select(~((x <= lo) | (x >= hi)), g)  # NaN passes, as in torch


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``; the gradient is zero at and beyond the edges."""
    if inplace:
        return apply_inplace(input, hardtanh, min_val, max_val)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    x = input._data
    if x.dtype.kind in "iu":
        res = wrap(np.clip(x, min_val, max_val).astype(x.dtype), input)
        return res
    res = _pointwise(input, "hardtanh", lambda v, lo, hi: np.clip(v, lo, hi).astype(
        v.dtype, copy=False), HardtanhBackward0, (min_val, max_val))
    return res


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place :func:`hardtanh`; returns self."""
    return apply_inplace(input, hardtanh, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))


class HardsigmoidBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x):
        # torch's kernel multiplies by 1/6 rounded to float32, for every dtype
        return select((x > -3) & (x < 3), g * np.asarray(_ONE_SIXTH_F32, dtype=g.dtype))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    if inplace:
        return apply_inplace(input, hardsigmoid)
    res = _pointwise(input, "hardsigmoid", lambda x: (np.clip(x + 3, 0, 6) / 6).astype(
        x.dtype, copy=False), HardsigmoidBackward0)
    return res


class HardswishBackward0(_Saved):
    __slots__ = ()

    @staticmethod
    def grad(g, x):
        # torch: zero up to -3 (included), g * (x / 3 + 1/2) inside, g from 3 (included)
        inside = g * (x / 3 + 0.5).astype(g.dtype, copy=False)
        return select(~(x <= -3), select(x < 3, inside, g))  # NaN: g, as in torch


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    if inplace:
        return apply_inplace(input, hardswish)
    res = _pointwise(input, "hardswish", lambda x: (x * np.clip(x + 3, 0, 6) / 6).astype(
        x.dtype, copy=False), HardswishBackward0)
    return res


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    from .unary import abs as _abs
    return input / (_abs(input) + 1)


# ---------------------------------------------------------------------- clamp
class ClampBackward1(Node):
    """Clamp to scalar bounds: the gradient passes where ``min <= x <= max``."""
    __slots__ = ("lo", "hi")

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        xd = x._data
        mask = np.ones(xd.shape, dtype=bool)
        if self.lo is not None:
            mask &= xd >= self.lo
        if self.hi is not None:
            mask &= xd <= self.hi
        return (_fit(select(mask, g), xd.shape, xd.dtype),)


class ClampMinBackward0(ClampBackward1):
    __slots__ = ()


class ClampMaxBackward0(ClampBackward1):
    __slots__ = ()


class ClampBackward0(Node):
    """Clamp to tensor bounds: gradient to x inside, to min below, to max above."""
    __slots__ = ("has",)

    def backward(self, g):
        saved = self.saved_tensors_checked()
        x = saved[0]._data
        lo = saved[1]._data if self.has[0] else None
        hi = saved[1 + self.has[0]]._data if self.has[1] else None
        # torch's masks: x inside [lo, hi] (NaN is not); lo only below an ordered range
        # (lo < hi), hi above it or wherever the range is reversed
        if lo is not None and hi is not None:
            keep = (x >= lo) & (x <= hi)
            masks = ((x < lo) & (lo < hi), (x > hi) | (hi < lo))
        elif lo is not None:
            keep, masks = x >= lo, (x < lo, None)
        else:
            keep, masks = x <= hi, (None, x > hi)
        out = [_fit(select(keep, g), x.shape, x.dtype)]
        nf = self.next_functions
        i = 1
        for bound, mask in zip((lo, hi), masks):
            if bound is not None:
                out.append(None if nf[i][0] is None else _fit(select(mask, g), bound.shape,
                                                              bound.dtype))
                i += 1
        return tuple(out)


def _bound(v, x: np.ndarray, rt):
    if isinstance(v, Tensor):
        return v._data.astype(rt, copy=False)
    return np.asarray(scalar_operand(v, rt), dtype=rt)


def clamp(input: Tensor, min=None, max=None, *, out=None, _clamp_node=ClampBackward1) -> Tensor:
    """Clip values into ``[min, max]`` (numbers or tensors; either may be None)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if min is not None and max is not None and isinstance(min, Tensor) != isinstance(max, Tensor):
        raise TypeError("clamp() received an invalid combination of arguments - got (Tensor, "
                        "min, max) with one bound a Tensor and the other a number; pass both as "
                        "tensors or both as numbers")
    x = input._data
    rt = x.dtype
    for v in (min, max):
        if v is not None:
            rt = result_dtype(x.astype(rt, copy=False), v._data if isinstance(v, Tensor) else v)
    if x.dtype.kind == "b" and rt.kind == "b" and not isinstance(min, Tensor) and \
            not isinstance(max, Tensor):
        kernel = "clamp" if min is not None and max is not None else \
            "clamp_min" if min is not None else "clamp_max"
        raise NotImplementedError(f"\"{kernel}_scalar_cpu\" not implemented for 'Bool'")
    xc = x.astype(rt, copy=False)
    lo = None if min is None else _bound(min, x, rt)
    hi = None if max is None else _bound(max, x, rt)
    r = xc
    if lo is not None:
        r = np.maximum(r, lo)
    if hi is not None:
        r = np.minimum(r, hi)
    res = wrap(r if r is not x else x.copy(), input)
    tensors = [t for t in (min, max) if isinstance(t, Tensor)]
    if GRAD.enabled and (input._requires_grad or any(t._requires_grad for t in tensors)):
        if tensors:
            node = ClampBackward0()
            node.has = (isinstance(min, Tensor), isinstance(max, Tensor))
            node.save(input, *tensors)
            record(res, node, input, *tensors)
        else:
            node = _clamp_node()
            node.lo, node.hi = min, max
            node.save(input)
            record(res, node, input)
    return res if out is None else _out(res, out)


clip = clamp


def clamp_min(input: Tensor, min) -> Tensor:
    """``max(x, min)``."""
    return clamp(input, min, None, _clamp_node=ClampMinBackward0)


def clamp_max(input: Tensor, max) -> Tensor:
    """``min(x, max)``."""
    return clamp(input, None, max, _clamp_node=ClampMaxBackward0)


def _check_scalar_bounds_fit(input: Tensor, *bounds) -> None:
    """torch's error (naming the C++ type) when number bounds promote an in-place clamp past
    the tensor's dtype."""
    x = input._data
    rt = x.dtype
    for v in bounds:
        if v is not None and not isinstance(v, Tensor):
            rt = result_dtype(x.astype(rt, copy=False), v)
    if NP2DT[rt]._category > NP2DT[x.dtype]._category:
        raise RuntimeError(f"result type {type_word(rt)} can't be cast to the desired output "
                           f"type {_CPP_TYPE_NAMES[NP2DT[x.dtype].name]}")


def clamp_(input: Tensor, min=None, max=None) -> Tensor:
    """In-place :func:`clamp`; returns self."""
    if not isinstance(min, Tensor) and not isinstance(max, Tensor):
        _check_scalar_bounds_fit(input, min, max)
    return apply_inplace(input, clamp, min, max)


clip_ = clamp_


def clamp_min_(input: Tensor, min) -> Tensor:
    """In-place :func:`clamp_min`; returns self."""
    if not isinstance(min, Tensor):
        _check_scalar_bounds_fit(input, min)
    return apply_inplace(input, clamp_min, min)


def clamp_max_(input: Tensor, max) -> Tensor:
    """In-place :func:`clamp_max`; returns self."""
    if not isinstance(max, Tensor):
        _check_scalar_bounds_fit(input, max)
    return apply_inplace(input, clamp_max, max)


# ---------------------------------------------------------------------- softmax
class SoftmaxBackward0(Node):
    __slots__ = ("axis", "dtype")

    def backward(self, g):
        (y,) = self.saved_tensors_checked()
        yd = _work(y._data)
        g = _work(g)
        r = yd * (g - (g * yd).sum(axis=self.axis, keepdims=True))
        return (_done(r, self.dtype),)


class LogSoftmaxBackward0(SoftmaxBackward0):
    __slots__ = ()

    def backward(self, g):
        (y,) = self.saved_tensors_checked()
        g = _work(g)
        r = g - np.exp(_work(y._data)) * g.sum(axis=self.axis, keepdims=True)
        return (_done(r, self.dtype),)


def _softmax_common(input: Tensor, dim, dtype, name: str, log: bool) -> Tensor:
    if dtype is not None:
        from .convert import to_copy
        input = to_copy(input, D.to_numpy_dtype(dtype), input._device)
    x = input._data
    if x.dtype.kind not in "fV":
        raise NotImplementedError(f"\"{name}_lastdim_kernel_impl\" not implemented for "
                           f"'{type_word(x.dtype)}'")
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1
    (axis,) = normalize_dims(dim, x.ndim) or (None,)
    xw = _work(x)
    if x.ndim == 0:
        r = np.zeros_like(xw) if log else np.ones_like(xw)
    elif x.size == 0:
        r = xw.copy()
    else:
        m = xw.max(axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        shifted = xw - m
        e = np.exp(shifted)
        s = e.sum(axis=axis, keepdims=True)
        r = shifted - np.log(s) if log else e / s
    res = wrap(_done(r, x.dtype), input)
    if GRAD.enabled and input._requires_grad:
        node = LogSoftmaxBackward0() if log else SoftmaxBackward0()
        node.axis, node.dtype = axis, x.dtype
        node.save(res)
        record(res, node, input)
    return res


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably."""
    return _softmax_common(input, dim, dtype, "softmax", False)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``."""
    return _softmax_common(input, dim, dtype, "log_softmax", True)
