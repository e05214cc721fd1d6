"""Elementwise arithmetic with broadcasting and torch's type promotion: binary operators,
comparisons, logical and bitwise ops, and their in-place forms. Unary math lives in unary.py."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._device import CPU
from ..autograd.grad_mode import INFERENCE_OPEN, mark_if_inference
from ._select import select
from ._util import (GRAD, Node, Tensor, apply_inplace, binary_operands, broadcast_error,
                    check_broadcast, check_same_device, out_into, record, scalar_operand,
                    snapshot, type_word, unbroadcast, wrap)

__all__ = ["add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
           "floor_divide", "pow", "remainder", "fmod", "maximum", "minimum", "eq", "ne", "lt",
           "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "logical_not",
           "logical_and", "logical_or", "logical_xor", "equal"]
TENSOR_METHODS = [n for n in __all__ if n != "rsub"] + [
    "add_", "sub_", "subtract_", "mul_", "multiply_", "div_", "divide_", "true_divide_",
    "floor_divide_", "pow_", "remainder_", "fmod_", "eq_", "ne_", "lt_", "le_", "gt_", "ge_",
    "bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_not_", "logical_not_",
    "logical_and_", "logical_or_", "logical_xor_"]


_NEW = object.__new__


def _fit(g: np.ndarray, shape: tuple, dt) -> np.ndarray:
    """``g`` reduced to an input's shape and cast to its dtype."""
    if g.shape != shape:
        g = unbroadcast(g, shape)
    return g if g.dtype == dt else g.astype(dt)


def _operands(input, other):
    """``(a_array, b_array_or_scalar, a_tensor_or_None, b_tensor_or_None)`` for ``input op
    other``, cast to torch's result dtype; either side (not both) may be a Python scalar."""
    if isinstance(input, Tensor):
        ad = input._data
        if isinstance(other, Tensor):
            if other._device is not input._device:
                check_same_device(input, other)
            bd = other._data
            if ad.dtype == bd.dtype:
                return ad, bd, input, other
        elif (type(other) is float or type(other) is int) and ad.dtype.kind in "fc":
            return ad, other, input, None
        ad, bd, bt = binary_operands(input, other)
        return ad, bd, input, bt
    if isinstance(other, Tensor):
        bd, ad, _ = binary_operands(other, input)
        return ad, bd, None, other
    raise TypeError(f"expected Tensor as element 0 in argument 0, but got {type(input).__name__}")


def _result(arr, at, bt) -> Tensor:
    """Wrap a ufunc result (NumPy scalars become 0-d arrays) on the operands' device."""
    t = _NEW(Tensor)
    t._data = arr if type(arr) is np.ndarray else np.asarray(arr)
    dev = (at if at is not None else bt)._device
    if dev is not CPU:
        t._device = dev
    elif bt is not None and bt._device is not CPU:     # a CPU 0-d tensor meets another device
        t._device = bt._device
    if INFERENCE_OPEN[0]:
        mark_if_inference(t)
    return t


def _dt(ad, bd) -> np.dtype:
    """The result dtype of operands from :func:`_operands` (one may be a Python scalar)."""
    return ad.dtype if type(ad) is np.ndarray else bd.dtype


def _is_bool(v) -> bool:
    """Whether an operand (tensor or scalar) is boolean."""
    return type(v) is bool or (isinstance(v, Tensor) and v._data.dtype == np.bool_)


def _not_implemented(kernel: str, dt) -> None:
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_word(dt)}'")


def _like(at, bt):
    return at if at is not None else bt


def _rg(t) -> bool:
    return t is not None and t._requires_grad


# ---------------------------------------------------------------------- linear ops
class AddBackward0(Node):
    """Gradient of ``fa * a + fb * b``: ``specs`` holds (shape, dtype, factor) per input."""
    __slots__ = ("specs",)

    def backward(self, g):
        nf = self.next_functions
        return tuple(None if nf[i][0] is None else _fit(g if f == 1 else g * f, shape, dt)
                     for i, (shape, dt, f) in enumerate(self.specs))


class SubBackward0(AddBackward0):
    __slots__ = ()


class RsubBackward1(AddBackward0):
    __slots__ = ()


def _record_linear(node, res, at, bt, fa, fb) -> None:
    pairs = [(t, f) for t, f in ((at, fa), (bt, fb)) if t is not None]
    node.specs = tuple((t._data.shape, t._data.dtype, f) for t, f in pairs)
    record(res, node, *(t for t, _ in pairs))


def _check_alpha(alpha, dtype) -> None:
    if isinstance(alpha, float) and dtype.kind in "biu":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if isinstance(alpha, bool) and dtype.kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")


def add(input: Tensor, other, *, alpha=1, out=None) -> Tensor:
    """``input + alpha * other`` with broadcasting and type promotion."""
    ad, bd, at, bt = _operands(input, other)
    if alpha != 1 or type(alpha) is bool:
        _check_alpha(alpha, _dt(ad, bd))
        bd = bd * scalar_operand(alpha, _dt(ad, bd))
    try:
        r = np.add(ad, bd)
    except ValueError:
        raise broadcast_error(ad, bd) from None
    res = _result(r, at, bt)
    if GRAD.enabled and ((at is not None and at._requires_grad) or
                         (bt is not None and bt._requires_grad)):
        _record_linear(AddBackward0(), res, at, bt, 1, alpha)
    return res if out is None else _out(res, out)


def _check_bool_sub(ad, bd) -> None:
    if _is_bool(ad) and _is_bool(bd):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if _is_bool(ad) or _is_bool(bd):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def sub(input: Tensor, other, *, alpha=1, out=None) -> Tensor:
    """``input - alpha * other``."""
    if _is_bool(input) or _is_bool(other):
        _check_bool_sub(input, other)
    ad, bd, at, bt = _operands(input, other)
    if alpha != 1 or type(alpha) is bool:
        _check_alpha(alpha, _dt(ad, bd))
        bd = bd * scalar_operand(alpha, _dt(ad, bd))
    try:
        r = np.subtract(ad, bd)
    except ValueError:
        raise broadcast_error(ad, bd) from None
    res = _result(r, at, bt)
    if GRAD.enabled and ((at is not None and at._requires_grad) or
                         (bt is not None and bt._requires_grad)):
        _record_linear(SubBackward0() if at is not None else RsubBackward1(), res, at, bt, 1,
                       -alpha)
    return res if out is None else _out(res, out)


subtract = sub


def rsub(input: Tensor, other, alpha=1) -> Tensor:
    """``other - alpha * input``."""
    if _is_bool(input) or _is_bool(other):
        _check_bool_sub(other, input)
    ad, bd, at, bt = _operands(input, other)
    if alpha != 1 or type(alpha) is bool:
        _check_alpha(alpha, _dt(ad, bd))
        ad = ad * scalar_operand(alpha, _dt(ad, bd))
    try:
        r = np.subtract(bd, ad)
    except ValueError:
        raise broadcast_error(bd, ad) from None
    res = wrap(r, _like(at, bt))
    if GRAD.enabled and (_rg(at) or _rg(bt)):
        node = RsubBackward1() if bt is None else SubBackward0()
        _record_linear(node, res, at, bt, -alpha, 1)
    return res


# ---------------------------------------------------------------------- products & quotients
class MulBackward0(Node):
    """Gradient of ``a * b``; saves whichever factor the other input's gradient needs."""
    __slots__ = ("scalar", "metas")

    def backward(self, g):
        if self.scalar is not None:
            self.check_not_freed()  # torch saves the scalar: a second backward raises
            shape, dt = self.metas[0]
            return (_fit(g * self.scalar, shape, dt),)
        return _product_grads(self, g, np.multiply)


def _product_grads(node, g, combine_b):
    """Shared backward of mul (combine_b=multiply) and div (grad_b needs a and b)."""
    saved = node.saved_tensors_checked()
    (sa, da), (sb, db) = node.metas
    nf = node.next_functions
    ga = gb = None
    if combine_b is np.multiply:
        i = 0
        if nf[0][0] is not None:
            ga = _fit(g * saved[0]._data, sa, da)
            i = 1
        if nf[1][0] is not None:
            gb = _fit(g * saved[i]._data, sb, db)
        return ga, gb
    a, b = saved
    bd = b._data
    if nf[0][0] is not None:
        ga = _fit(g / bd, sa, da)
    if nf[1][0] is not None:
        gb = _fit(-g * a._data / (bd * bd), sb, db)
    return ga, gb


def _save_pair(node, at, bt, res) -> None:
    node.scalar = None
    node.metas = ((at._data.shape, at._data.dtype), (bt._data.shape, bt._data.dtype))
    saved = ()
    if at._requires_grad:
        saved += (bt,)
    if bt._requires_grad:
        saved += (at,)
    node.save(*saved)
    record(res, node, at, bt)


def mul(input: Tensor, other, *, out=None) -> Tensor:
    """Elementwise product with broadcasting."""
    ad, bd, at, bt = _operands(input, other)
    if at is None:
        ad, bd, at, bt = bd, ad, bt, None
    try:
        r = np.multiply(ad, bd)
    except ValueError:
        raise broadcast_error(ad, bd) from None
    res = _result(r, at, bt)
    if GRAD.enabled and (at._requires_grad or (bt is not None and bt._requires_grad)):
        node = MulBackward0()
        if bt is None:
            node.scalar = bd
            node.metas = ((at._data.shape, at._data.dtype),)
            record(res, node, at)
        else:
            _save_pair(node, at, bt, res)
    return res if out is None else _out(res, out)


multiply = mul


class DivBackward0(Node):
    __slots__ = ("scalar", "metas")

    def backward(self, g):
        if self.scalar is not None:
            self.check_not_freed()  # torch saves the scalar: a second backward raises
            shape, dt = self.metas[0]
            return (_fit(g / self.scalar, shape, dt),)
        return _product_grads(self, g, np.divide)


def div(input: Tensor, other, *, rounding_mode: str | None = None, out=None) -> Tensor:
    """True division (integers promote to the default float), or rounded division."""
    if rounding_mode is not None:
        res = _rounding_div(input, other, rounding_mode)
        return res if out is None else _out(res, out)
    if not isinstance(input, Tensor):
        from .unary import reciprocal
        return mul(reciprocal(other), input)
    ad, bd, at, bt = _operands(input, other)
    if ad.dtype.kind in "biu":
        ft = D.get_default_dtype().np
        ad = ad.astype(ft)
        bd = bd.astype(ft) if bt is not None else other
    try:
        r = np.true_divide(ad, bd)
    except ValueError:
        raise broadcast_error(ad, bd) from None
    res = _result(r, at, bt)
    if GRAD.enabled and (at._requires_grad or (bt is not None and bt._requires_grad)):
        node = DivBackward0()
        if bt is None:
            node.scalar = bd
            node.metas = ((at._data.shape, at._data.dtype),)
            record(res, node, at)
        else:
            node.scalar = None
            node.metas = ((at._data.shape, at._data.dtype), (bt._data.shape, bt._data.dtype))
            node.save(at, bt)
            record(res, node, at, bt)
    return res if out is None else _out(res, out)


divide = div


def true_divide(input: Tensor, other, *, out=None) -> Tensor:
    """Alias of :func:`div` without rounding."""
    return div(input, other, out=out)


class DivBackward2(Node):
    """Rounded division: the gradient is zero almost everywhere."""
    __slots__ = ("metas",)

    def backward(self, g):
        nf = self.next_functions
        return tuple(None if nf[i][0] is None else np.zeros(s, dtype=d)
                     for i, (s, d) in enumerate(self.metas))


class NotImplementedBackward(Node):
    """torch::autograd::NotImplemented: ops whose derivative torch does not define."""
    __slots__ = ("op",)

    def name(self) -> str:
        return "torch::autograd::NotImplemented"

    def backward(self, g):
        raise RuntimeError(f"the derivative for '{self.op}' is not implemented.")


def _rounding_div(input, other, mode: str, node_cls=DivBackward2) -> Tensor:
    if mode not in ("floor", "trunc"):
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                           f"found '{mode}'")
    ad, bd, at, bt = _operands(input, other)
    check_broadcast(ad, bd)
    if _dt(ad, bd).kind in "bc":
        _not_implemented("div_floor_cpu" if mode == "floor" else "div_trunc_cpu", _dt(ad, bd))
    if _dt(ad, bd).kind in "iub":
        if np.any(np.asarray(bd) == 0):
            raise RuntimeError("ZeroDivisionError")
        if _dt(ad, bd).kind == "b":
            ad, bd = np.asarray(ad, dtype=np.int64), np.asarray(bd, dtype=np.int64)
        q = np.floor_divide(ad, bd)
        if mode == "trunc":
            q = q + ((np.remainder(ad, bd) != 0) & ((ad < 0) != (np.asarray(bd) < 0)))
        return wrap(q, _like(at, bt))
    q = np.floor_divide(ad, bd) if mode == "floor" else np.trunc(np.true_divide(ad, bd))
    res = wrap(q, _like(at, bt))
    if GRAD.enabled and (_rg(at) or _rg(bt)):
        node = node_cls()
        ts = [t for t in (at, bt) if t is not None]
        if node_cls is DivBackward2:
            node.metas = tuple((t._data.shape, t._data.dtype) for t in ts)
        else:
            node.op = "floor_divide"
        record(res, node, *ts)
    return res


def floor_divide(input: Tensor, other, *, out=None) -> Tensor:
    """Division rounded toward negative infinity (Python's ``//``)."""
    res = _rounding_div(input, other, "floor", NotImplementedBackward)
    return res if out is None else _out(res, out)


# ---------------------------------------------------------------------- powers
class PowBackward0(Node):
    """Gradient of ``x ** c`` for a scalar exponent ``c``."""
    __slots__ = ("exponent",)

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        xd, c = x._data, self.exponent
        if c == 0:
            return (np.zeros(xd.shape, dtype=xd.dtype),)
        d = c * xd if c == 2 else c * np.power(xd, c - 1)
        return (_fit(g * d, xd.shape, xd.dtype),)


class PowBackward1(Node):
    """Gradient of ``a ** b`` for tensors ``a`` and ``b``."""
    __slots__ = ()

    def backward(self, g):
        a, b, out = self.saved_tensors_checked()
        ad, bd, od = a._data, b._data, out._data
        rt = od.dtype
        ac, bc = ad.astype(rt, copy=False), bd.astype(rt, copy=False)
        ga = gb = None
        if self.next_functions[0][0] is not None:
            d = np.where(bc == 0, 0, bc * np.power(ac, np.where(bc == 0, 1, bc - 1)))
            ga = _fit(g * d.astype(rt, copy=False), ad.shape, ad.dtype)
        if self.next_functions[1][0] is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                term = np.where((ac == 0) & (bc >= 0), 0, od * np.log(ac))
            gb = _fit(g * term.astype(rt, copy=False), bd.shape, bd.dtype)
        return ga, gb


class PowBackward2(Node):
    """Gradient of ``s ** x`` for a Python scalar base ``s``."""
    __slots__ = ("base",)

    def backward(self, g):
        x, out = self.saved_tensors_checked()
        xd, od = x._data, out._data
        if self.base == 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                d = np.where(xd >= 0, 0, od * np.log(np.asarray(0.0, dtype=od.dtype)))
        else:
            d = od * np.log(np.asarray(self.base, dtype=od.dtype))
        return (_fit(g * d.astype(od.dtype, copy=False), xd.shape, xd.dtype),)


def pow(input, exponent, *, out=None) -> Tensor:
    """``input ** exponent``; either may be a Python scalar."""
    ad, ed, at, et = _operands(input, exponent)
    if _dt(ad, ed).kind == "b":
        if et is not None or at is None:
            _not_implemented("pow", np.dtype(bool))
        return wrap(ad.copy() if ed else np.ones_like(ad), at)
    if at is None:
        res = _scalar_pow(ad, ed, et)
    elif et is None:
        if ad.dtype.kind in "iu" and type(exponent) is int and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        res = wrap(np.multiply(ad, ad) if ed == 2 else np.power(ad, ed), at)
        if GRAD.enabled and at._requires_grad:
            node = PowBackward0()
            node.exponent = ed
            node.save(at)
            record(res, node, at)
    else:
        try:
            r = np.power(ad, ed)
        except ValueError:
            raise broadcast_error(ad, ed) from None
        res = wrap(r, at)
        if GRAD.enabled and (at._requires_grad or et._requires_grad):
            node = PowBackward1()
            node.save(at, et, res)
            record(res, node, at, et)
    return res if out is None else _out(res, out)


def _scalar_pow(base, ed: np.ndarray, et: Tensor) -> Tensor:
    if type(base) is np.ndarray or ed.dtype.kind == "V":
        base = np.asarray(base, dtype=ed.dtype)
    try:
        r = np.power(base, ed)
    except ValueError:
        raise broadcast_error(base, ed) from None
    res = wrap(r, et)
    if GRAD.enabled and et._requires_grad:
        node = PowBackward2()
        node.base = base
        node.save(et, res)
        record(res, node, et)
    return res


# ---------------------------------------------------------------------- remainders
class RemainderBackward0(Node):
    """``g`` for the dividend; ``-g * rounded(a / b)`` for a tensor divisor."""
    __slots__ = ("metas", "rounding")

    def backward(self, g):
        nf = self.next_functions
        if len(self.metas) == 1:
            shape, dt = self.metas[0]
            if self.rounding is None:
                return (_fit(g, shape, dt),)
            a, b = self.saved_tensors_checked()
            return (_fit(-g * self.rounding(a._data / b._data), shape, dt),)
        a, b = self.saved_tensors_checked()
        (sa, da), (sb, db) = self.metas
        ga = _fit(g, sa, da) if nf[0][0] is not None else None
        gb = None
        if nf[1][0] is not None:
            gb = _fit(-g * self.rounding(a._data / b._data), sb, db)
        return ga, gb


class RemainderBackward1(RemainderBackward0):
    __slots__ = ()


class FmodBackward0(RemainderBackward0):
    __slots__ = ()


class FmodBackward1(RemainderBackward0):
    __slots__ = ()


def _modulus(input, other, fn, scalar_cls, tensor_cls, rounding) -> Tensor:
    ad, bd, at, bt = _operands(input, other)
    if _dt(ad, bd).kind in "bc":
        _not_implemented(fn.__name__ + "_cpu", _dt(ad, bd))
    if _dt(ad, bd).kind in "iub" and np.any(np.asarray(bd) == 0):
        raise RuntimeError("ZeroDivisionError")
    try:
        r = fn(ad, bd)
    except ValueError:
        raise broadcast_error(ad, bd) from None
    res = wrap(r, _like(at, bt))
    if GRAD.enabled and at is None and bt._requires_grad:
        node = NotImplementedBackward()
        node.op = fn.__name__
        record(res, node, bt)
    elif GRAD.enabled and (_rg(at) or _rg(bt)):
        node = scalar_cls() if bt is None else tensor_cls()
        ts = [t for t in (at, bt) if t is not None]
        node.metas = tuple((t._data.shape, t._data.dtype) for t in ts)
        node.rounding = rounding if bt is not None else None
        if bt is not None:
            node.save(wrap(ad) if at is None else at, bt)
        record(res, node, *ts)
    return res


def remainder(input, other, *, out=None) -> Tensor:
    """Python-style modulus (the result takes the divisor's sign)."""
    res = _modulus(input, other, np.remainder, RemainderBackward0, RemainderBackward1, np.floor)
    return res if out is None else _out(res, out)


def fmod(input, other, *, out=None) -> Tensor:
    """C-style modulus (the result takes the dividend's sign)."""
    res = _modulus(input, other, np.fmod, FmodBackward0, FmodBackward1, np.trunc)
    return res if out is None else _out(res, out)


# ---------------------------------------------------------------------- maximum / minimum
class MaximumBackward0(Node):
    """Gradient to the larger (smaller) input; ties split it evenly; where either is NaN both
    get all of it, as in torch."""
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved_tensors_checked()
        ad, bd = a._data, b._data
        shared = select(ad == bd, g * np.asarray(0.5, dtype=g.dtype), g)
        loses_a, loses_b = (np.less, np.greater) if type(self) is MaximumBackward0 else \
            (np.greater, np.less)
        nf = self.next_functions
        ga = _fit(select(~loses_a(ad, bd), shared), ad.shape, ad.dtype) \
            if nf[0][0] is not None else None
        gb = _fit(select(~loses_b(ad, bd), shared), bd.shape, bd.dtype) \
            if nf[1][0] is not None else None
        return ga, gb


class MinimumBackward0(MaximumBackward0):
    __slots__ = ()


def _minmax(input: Tensor, other: Tensor, fn, node_cls, name):
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    ad, bd, bt = binary_operands(input, other)
    try:
        r = fn(ad, bd)
    except ValueError:
        raise broadcast_error(ad, bd) from None
    res = wrap(r, input)
    if GRAD.enabled and (input._requires_grad or bt._requires_grad):
        node = node_cls()
        node.save(input, bt)
        record(res, node, input, bt)
    return res


def maximum(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Elementwise maximum (NaN propagates)."""
    res = _minmax(input, other, np.maximum, MaximumBackward0, "maximum")
    return res if out is None else _out(res, out)


def minimum(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Elementwise minimum (NaN propagates)."""
    res = _minmax(input, other, np.minimum, MinimumBackward0, "minimum")
    return res if out is None else _out(res, out)


# ---------------------------------------------------------------------- comparison & logic
def _compare(fn, name):
    ordered = name not in ("eq", "ne")

    def op(input: Tensor, other, *, out=None) -> Tensor:
        ad, bd, at, bt = _operands(input, other)
        if ordered and _dt(ad, bd).kind == "c":
            _not_implemented(name + "_cpu", _dt(ad, bd))
        try:
            r = fn(ad, bd)
        except ValueError:
            raise broadcast_error(ad, bd) from None
        res = _result(r, at, bt)
        return res if out is None else _out(res, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` as a bool tensor (never differentiable)."
    return op


eq = _compare(np.equal, "eq")
ne = not_equal = _compare(np.not_equal, "ne")
lt = less = _compare(np.less, "lt")
le = less_equal = _compare(np.less_equal, "le")
gt = greater = _compare(np.greater, "gt")
ge = greater_equal = _compare(np.greater_equal, "ge")


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and elements."""
    if input._data.shape != other._data.shape:
        return False
    ad, bd, _ = binary_operands(input, other)
    return bool(np.array_equal(ad, bd))


def _bitwise(fn, name):
    def op(input: Tensor, other, *, out=None) -> Tensor:
        ad, bd, at, bt = _operands(input, other)
        if _dt(ad, bd).kind in "fcV":
            _not_implemented(name + "_cpu", _dt(ad, bd))
        try:
            r = fn(ad, bd)
        except ValueError:
            raise broadcast_error(ad, bd) from None
        res = wrap(r, _like(at, bt))
        return res if out is None else _out(res, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of integer or bool tensors."
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input: Tensor, *, out=None) -> Tensor:
    """Bitwise NOT for integer and bool tensors."""
    if input._data.dtype.kind in "fcV":
        _not_implemented("bitwise_not_cpu", input._data.dtype)
    res = wrap(np.invert(input._data), input)
    return res if out is None else _out(res, out)


def invert(input: Tensor) -> Tensor:
    """``~tensor``: bitwise NOT, refused for floating and complex tensors in torch's words."""
    if input._data.dtype.kind in "fcV":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(input)


def _logical(fn, name):
    def op(input: Tensor, other: Tensor, *, out=None) -> Tensor:
        if not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not "
                            f"{type(other).__name__}")
        try:
            r = fn(input._data, other._data)
        except ValueError:
            raise broadcast_error(input._data, other._data) from None
        res = wrap(r, input)
        return res if out is None else _out(res, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` as a bool tensor (nonzero counts as True)."
    return op


logical_and = _logical(np.logical_and, "logical_and")
logical_or = _logical(np.logical_or, "logical_or")
logical_xor = _logical(np.logical_xor, "logical_xor")


def logical_not(input: Tensor, *, out=None) -> Tensor:
    """Elementwise logical NOT as a bool tensor."""
    res = wrap(np.logical_not(input._data), input)
    return res if out is None else _out(res, out)


# ---------------------------------------------------------------------- in-place
# (names kept for modules that import them from here)
_out = out_into
_snapshot = snapshot


def _inplace(op, name=None):
    def method(self: Tensor, *args, **kwargs) -> Tensor:
        return apply_inplace(self, op, *args, **kwargs)
    method.__name__ = method.__qualname__ = name or op.__name__ + "_"
    method.__doc__ = f"In-place :func:`{op.__name__}`; returns self."
    return method


def _fast_inplace(ufunc, op, tensor_kinds: str, with_alpha: bool):
    """In-place arithmetic writing straight into ``self`` when nothing needs recording and no
    promotion changes the dtype (the optimizer path); otherwise the general route, which raises
    torch's errors."""
    def method(self: Tensor, other, *, alpha=1) -> Tensor:
        a = self._data
        to = type(other)
        if to is float or to is int:
            fast = a.dtype.kind in "fc"
            bd = other
        elif isinstance(other, Tensor):
            bd = other._data
            fast = bd.dtype == a.dtype and a.dtype.kind in tensor_kinds and not (
                GRAD.enabled and other._requires_grad)
        else:
            fast = False
        if fast and not (GRAD.enabled and (self._requires_grad or (
                self._base is not None and self._base._requires_grad))):
            if alpha != 1:
                fast = a.dtype.kind in "fc" and type(alpha) is not bool
                bd = bd * alpha
            if fast and a.flags.writeable and (type(bd) is not np.ndarray or bd.shape == a.shape
                                               or _broadcasts_to(bd.shape, a.shape)):
                ufunc(a, bd, out=a)
                self._bump()
                return self
        if with_alpha:
            return apply_inplace(self, op, other, alpha=alpha)
        return apply_inplace(self, op, other)
    method.__name__ = method.__qualname__ = op.__name__ + "_"
    method.__doc__ = f"In-place :func:`{op.__name__}`; returns self."
    return method


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


add_ = _fast_inplace(np.add, add, "fciu", True)
_sub_fast = _fast_inplace(np.subtract, sub, "fciu", True)


def sub_(self: Tensor, other, *, alpha=1) -> Tensor:
    """In-place :func:`sub`; returns self."""
    if _is_bool(self) or _is_bool(other):
        _check_bool_sub(self, other)
    return _sub_fast(self, other, alpha=alpha)


subtract_ = sub_
mul_ = multiply_ = _fast_inplace(np.multiply, mul, "fciub", False)
_div_fast = _fast_inplace(np.true_divide, div, "fc", False)


def div_(self: Tensor, other, *, rounding_mode: str | None = None) -> Tensor:
    """In-place :func:`div`; returns self."""
    if rounding_mode is None:
        return _div_fast(self, other)
    return apply_inplace(self, div, other, rounding_mode=rounding_mode)


divide_ = true_divide_ = div_

floor_divide_ = _inplace(floor_divide)
pow_ = _inplace(pow, "pow_")
remainder_ = _inplace(remainder)
fmod_ = _inplace(fmod)
eq_, ne_, lt_, le_, gt_, ge_ = (_inplace(f, f.__name__ + "_") for f in (eq, ne, lt, le, gt, ge))
bitwise_and_ = _inplace(bitwise_and)
bitwise_or_ = _inplace(bitwise_or)
bitwise_xor_ = _inplace(bitwise_xor)
bitwise_not_ = _inplace(bitwise_not)
logical_and_ = _inplace(logical_and)
logical_or_ = _inplace(logical_or)
logical_xor_ = _inplace(logical_xor)
logical_not_ = _inplace(logical_not)
