"""More pointwise math: float tests (isnan, isfinite ...), nan_to_num, isclose/allclose, lerp,
addcmul/addcdiv, atan2, hypot, logaddexp, copysign, xlogy, float_power, with in-place forms."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from ._util import (GRAD, NP2DT, Node, Tensor, apply_inplace, check_broadcast, out_into, record,
                    scalar_operand, wrap)
from .elementwise import _fit, _operands

__all__ = ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "nan_to_num",
           "isclose", "allclose", "lerp", "addcmul", "addcdiv", "atan2", "arctan2", "hypot",
           "logaddexp", "copysign", "xlogy", "float_power"]
TENSOR_METHODS = __all__ + ["nan_to_num_", "lerp_", "addcmul_", "addcdiv_", "atan2_",
                            "arctan2_", "hypot_", "copysign_", "xlogy_", "float_power_"]


# ---------------------------------------------------------------------- float tests
def _test(fn, name: str, int_value):
    def op(input: Tensor) -> Tensor:
        x = input._data
        if x.dtype.kind in "biu":
            return wrap(np.full(x.shape, int_value, dtype=bool), input)
        return wrap(fn(x.astype(np.float32) if x.dtype.kind == "V" else x), input)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` as a bool tensor."
    return op


isnan = _test(np.isnan, "isnan", False)
isinf = _test(np.isinf, "isinf", False)
isfinite = _test(np.isfinite, "isfinite", True)
isposinf = _test(np.isposinf, "isposinf", False)
isneginf = _test(np.isneginf, "isneginf", False)


def signbit(input: Tensor) -> Tensor:
    """Whether each element's sign bit is set (``-0.0`` included)."""
    x = input._data
    return wrap(np.signbit(x.astype(np.float32) if x.dtype.kind == "V" else x), input)


class NanToNumBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        return (g * np.isfinite(x._data),)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """Replace NaN by ``nan`` and infinities by ``posinf``/``neginf`` (default: the dtype's
    largest/lowest finite values)."""
    x = input._data
    if x.dtype.kind in "biu":
        return wrap(x.copy(), input)
    info = np.finfo(np.float32 if x.dtype.kind == "V" else x.dtype)
    if x.dtype.kind == "V":
        import ml_dtypes
        info = ml_dtypes.finfo(x.dtype)
    hi = float(info.max) if posinf is None else posinf
    lo = float(info.min) if neginf is None else neginf
    r = np.where(np.isnan(x), nan, np.where(np.isposinf(x), hi, np.where(np.isneginf(x), lo, x)))
    res = wrap(r.astype(x.dtype, copy=False), input)
    if GRAD.enabled and input._requires_grad:
        node = NanToNumBackward0()
        node.save(input)
        record(res, node, input)
    return res


def nan_to_num_(input: Tensor, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> Tensor:
    """In-place :func:`nan_to_num`; returns self."""
    return apply_inplace(input, nan_to_num, nan, posinf, neginf)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` elementwise (exact for equal values)."""
    if input._data.dtype != other._data.dtype:
        raise RuntimeError(f"{input.dtype} did not match {other.dtype}")
    a, b = input._data, other._data
    if a.dtype.kind == "V":
        a, b = a.astype(np.float32), b.astype(np.float32)
    if a.dtype.kind in "biu":
        a, b = a.astype(np.float64), b.astype(np.float64)
    check_broadcast(a, b)
    return wrap(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan), input)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether :func:`isclose` holds for every element."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


# ---------------------------------------------------------------------- lerp, addcmul, addcdiv
def _three(input: Tensor, t1, t2):
    """Arrays of three operands cast to torch's common result dtype."""
    ts = [t for t in (input, t1, t2) if isinstance(t, Tensor)]
    dims = [NP2DT[t._data.dtype] for t in ts if t._data.ndim]
    zeros = [NP2DT[t._data.dtype] for t in ts if not t._data.ndim]
    scalars = [v for v in (t1, t2) if not isinstance(v, Tensor)]
    rt = D.result_type(dims, zeros, scalars).np
    return tuple(v._data.astype(rt, copy=False) if isinstance(v, Tensor) else
                 scalar_operand(v, rt) for v in (input, t1, t2))


class LerpBackward0(Node):
    """Gradient of ``a + w * (b - a)`` for a number ``w``."""
    __slots__ = ("weight", "metas")

    def backward(self, g):
        (sa, da), (sb, db) = self.metas
        nf = self.next_functions
        return (None if nf[0][0] is None else _fit(g * (1 - self.weight), sa, da),
                None if nf[1][0] is None else _fit(g * self.weight, sb, db))


class LerpBackward1(Node):
    """Gradient of ``a + w * (b - a)`` for a tensor ``w``."""
    __slots__ = ()

    def backward(self, g):
        a, b, w = self.saved_tensors_checked()
        ad, bd, wd = a._data, b._data, w._data
        nf = self.next_functions
        return (None if nf[0][0] is None else _fit(g * (1 - wd), ad.shape, ad.dtype),
                None if nf[1][0] is None else _fit(g * wd, bd.shape, bd.dtype),
                None if nf[2][0] is None else _fit(g * (bd - ad), wd.shape, wd.dtype))


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """``input + weight * (end - input)``, computed as torch does for stability."""
    a, b, w = _three(input, end, weight)
    check_broadcast(a, b)
    diff = b - a
    r = np.where(np.abs(w) < 0.5, a + w * diff, b - diff * (1 - w)).astype(a.dtype, copy=False)
    res = wrap(r, input)
    tensors = (input, end) + ((weight,) if isinstance(weight, Tensor) else ())
    if GRAD.enabled and any(t._requires_grad for t in tensors):
        if isinstance(weight, Tensor):
            node = LerpBackward1()
            node.save(input, end, weight)
        else:
            node = LerpBackward0()
            node.weight = weight
            node.metas = tuple((t._data.shape, t._data.dtype) for t in tensors)
        record(res, node, *tensors)
    return res


class AddcmulBackward0(Node):
    __slots__ = ("value", "shape", "dtype")

    def backward(self, g):
        t1, t2 = self.saved_tensors_checked()
        a, b = t1._data, t2._data
        nf = self.next_functions
        return (None if nf[0][0] is None else _fit(g, self.shape, self.dtype),
                None if nf[1][0] is None else _fit(g * self.value * b, a.shape, a.dtype),
                None if nf[2][0] is None else _fit(g * self.value * a, b.shape, b.dtype))


class AddcdivBackward0(AddcmulBackward0):
    __slots__ = ()

    def backward(self, g):
        t1, t2 = self.saved_tensors_checked()
        a, b = t1._data, t2._data
        nf = self.next_functions
        return (None if nf[0][0] is None else _fit(g, self.shape, self.dtype),
                None if nf[1][0] is None else _fit(g * self.value / b, a.shape, a.dtype),
                None if nf[2][0] is None else _fit(-g * self.value * a / (b * b), b.shape,
                                                   b.dtype))


def _addc(input, tensor1, tensor2, value, divide: bool):
    x, a, b = _three(input, tensor1, tensor2)
    if divide and a.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  "
                           "release addcdiv will perform a true division of tensor1 and tensor2. "
                           "The historic addcdiv behavior can be implemented as (input + value * "
                           "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs "
                           "and as (input + value * tensor1 / tensor2) for float inputs. The "
                           "future addcdiv behavior is just the latter implementation: (input + "
                           "value * tensor1 / tensor2), for all dtypes.")
    check_broadcast(x, a)
    check_broadcast(a, b)
    v = scalar_operand(value, x.dtype)
    r = x + v * (a / b if divide else a * b)
    res = wrap(np.asarray(r).astype(x.dtype, copy=False), input)
    if GRAD.enabled and (input._requires_grad or tensor1._requires_grad or
                         tensor2._requires_grad):
        node = AddcdivBackward0() if divide else AddcmulBackward0()
        node.value, node.shape, node.dtype = value, input._data.shape, input._data.dtype
        node.save(tensor1, tensor2)
        record(res, node, input, tensor1, tensor2)
    return res


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    return _addc(input, tensor1, tensor2, value, False)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2``."""
    return _addc(input, tensor1, tensor2, value, True)


# ---------------------------------------------------------------------- binary float math
def _float_pair(input, other):
    ad, bd, at, bt = _operands(input, other)
    if np.result_type(ad, bd).kind in "biu":
        ft = D.get_default_dtype().np
        ad, bd = np.asarray(ad, dtype=ft), np.asarray(bd, dtype=ft)
    return ad, bd, at, bt


def _pair_node(name, grads):
    """A node for ``f(a, b)`` whose partial derivatives are ``grads(g, a, b, out)``."""
    def backward(self, g):
        saved = self.saved_tensors_checked()
        a, b, out = (t._data for t in saved)
        ga, gb = grads(g, a.astype(out.dtype, copy=False), b.astype(out.dtype, copy=False),
                       out)
        nf = self.next_functions
        return (None if nf[0][0] is None else _fit(ga, a.shape, a.dtype),
                None if nf[1][0] is None else _fit(gb, b.shape, b.dtype))
    return type(name, (Node,), {"__slots__": (), "backward": backward})


Atan2Backward0 = _pair_node("Atan2Backward0", lambda g, a, b, o: (
    g * b / (a * a + b * b), -g * a / (a * a + b * b)))
HypotBackward0 = _pair_node("HypotBackward0", lambda g, a, b, o: (g * a / o, g * b / o))
LogaddexpBackward0 = _pair_node("LogaddexpBackward0", lambda g, a, b, o: (
    g * np.exp(a - o), g * np.exp(b - o)))
XlogyBackward0 = _pair_node("XlogyBackward0", lambda g, a, b, o: (
    g * np.where((a == 0) & ~np.isnan(b), 0, np.log(b)), g * a / b))
CopysignBackward0 = _pair_node("CopysignBackward0", lambda g, a, b, o: (
    g * np.where(a == 0, 0, o / np.where(a == 0, 1, a)), np.zeros_like(g)))


def _binary_float(name, fn, node_cls, tensors_only=True):
    def op(input, other, *, out=None) -> Tensor:
        if tensors_only and not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                            f"{type(other).__name__}")
        ad, bd, at, bt = _float_pair(input, other)
        check_broadcast(ad, bd)
        res = wrap(np.asarray(fn(ad, bd)), at if at is not None else bt)
        if GRAD.enabled and ((at is not None and at._requires_grad) or
                             (bt is not None and bt._requires_grad)):
            node = node_cls()
            a = at if at is not None else wrap(np.asarray(ad))
            b = bt if bt is not None else wrap(np.asarray(bd))
            node.save(a, b, res)
            record(res, node, a, b)
        return res if out is None else out_into(res, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` with broadcasting (integers promote to float)."
    return op


def _xlogy(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((a == 0) & ~np.isnan(b), 0, a * np.log(b)).astype(
            np.result_type(a, b), copy=False)


atan2 = arctan2 = _binary_float("atan2", np.arctan2, Atan2Backward0)
hypot = _binary_float("hypot", np.hypot, HypotBackward0)
logaddexp = _binary_float("logaddexp", np.logaddexp, LogaddexpBackward0)
copysign = _binary_float("copysign", np.copysign, CopysignBackward0, tensors_only=False)
xlogy = _binary_float("xlogy", _xlogy, XlogyBackward0, tensors_only=False)


def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in double precision (complex128 for complex inputs)."""
    from .elementwise import pow as _pow
    from .convert import to_copy
    wide = np.complex128 if any(isinstance(v, Tensor) and v._data.dtype.kind == "c" or
                                isinstance(v, complex) for v in (input, exponent)) else np.float64

    def up(v):
        if isinstance(v, Tensor):
            return v if v._data.dtype == wide else to_copy(v, wide, v._device)
        return v
    return _pow(up(input), up(exponent))


def _inplace(op, name):
    def method(self: Tensor, *args, **kwargs) -> Tensor:
        return apply_inplace(self, op, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place :func:`{op.__name__}`; returns self."
    return method


lerp_ = _inplace(lerp, "lerp_")
addcmul_ = _inplace(addcmul, "addcmul_")
addcdiv_ = _inplace(addcdiv, "addcdiv_")
atan2_ = arctan2_ = _inplace(atan2, "atan2_")
hypot_ = _inplace(hypot, "hypot_")
copysign_ = _inplace(copysign, "copysign_")
xlogy_ = _inplace(xlogy, "xlogy_")
float_power_ = _inplace(float_power, "float_power_")
