"""Elementwise arithmetic with broadcasting: binary operators, their in-place forms, unary math."""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from ._util import (GRAD, Node, Tensor, binary_operands, check_inplace, check_inplace_dtype,
                    finish_inplace, float_array, record, unbroadcast, wrap)

_NO_GRAD = (None, 0)


def _cast_grad(g: np.ndarray, like: np.ndarray) -> np.ndarray:
    if g.dtype != like.dtype:
        return g.astype(like.dtype)
    return g


# ---------------------------------------------------------------------- binary nodes
class AddBackward0(Node):
    __slots__ = ("shapes", "alpha", "dtypes")

    def backward(self, g):
        sa, sb = self.shapes
        gb = unbroadcast(g, sb) if sb is not None else None
        if gb is not None and self.alpha != 1:
            gb = gb * self.alpha
        return unbroadcast(g, sa), gb


class SubBackward0(AddBackward0):
    __slots__ = ()

    def backward(self, g):
        sa, sb = self.shapes
        gb = None
        if sb is not None:
            gb = unbroadcast(g, sb)
            gb = -gb if self.alpha == 1 else gb * -self.alpha
        return unbroadcast(g, sa), gb


class RsubBackward1(Node):
    __slots__ = ("shape",)

    def backward(self, g):
        return (-g,)


class MulBackward0(Node):
    __slots__ = ("scalar",)

    def backward(self, g):
        if self._saved is None or len(self._saved) == 1:
            if self._freed:
                self.saved_tensors_checked()
            return (g * self.scalar,)
        a, b = self.saved_tensors_checked()
        ad, bd = a._data, b._data
        ga = unbroadcast(g * bd, ad.shape) if self.next_functions[0][0] is not None else None
        gb = unbroadcast(g * ad, bd.shape) if self.next_functions[1][0] is not None else None
        return (None if ga is None else _cast_grad(ga, ad)), (None if gb is None else
                                                              _cast_grad(gb, bd))


class DivBackward0(Node):
    __slots__ = ("scalar",)

    def backward(self, g):
        if self._saved is None or len(self._saved) == 0:
            if self._freed:
                self.saved_tensors_checked()
            return (g / self.scalar,)
        a, b = self.saved_tensors_checked()
        ad, bd = a._data, b._data
        ga = gb = None
        if self.next_functions[0][0] is not None:
            ga = _cast_grad(unbroadcast(g / bd, ad.shape), ad)
        if self.next_functions[1][0] is not None:
            gb = _cast_grad(unbroadcast(-g * ad / (bd * bd), bd.shape), bd)
        return ga, gb


class PowBackward0(Node):
    """Gradient of ``x ** c`` for a scalar exponent ``c``."""
    __slots__ = ("exponent",)

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        c = self.exponent
        if c == 0:
            return (np.zeros_like(g),)
        xd = x._data
        return (_cast_grad(g * (c * xd ** (c - 1)), xd),)


class PowBackward1(Node):
    """Gradient of ``a ** b`` for tensors (or a scalar base) ``a`` and ``b``."""
    __slots__ = ("base_scalar",)

    def backward(self, g):
        saved = self.saved_tensors_checked()
        if len(saved) == 2:
            a, b, out = saved[0]._data, saved[1]._data, None
        else:
            a, b = self.base_scalar, saved[0]._data
        out = np.power(a, b)
        ga = gb = None
        if len(saved) == 2 and self.next_functions[0][0] is not None:
            safe = np.where(b == 0, 0, b * np.power(a, np.where(b == 0, 1, b - 1)))
            ga = _cast_grad(unbroadcast(g * safe, a.shape), a)
        idx = 1 if len(saved) == 2 else 0
        if self.next_functions[idx][0] is not None:
            la = np.log(a) if len(saved) == 2 else np.log(np.asarray(a, dtype=b.dtype))
            term = np.where((np.asarray(a) == 0) & (b >= 0), 0, out * la)
            gb = _cast_grad(unbroadcast(g * term, b.shape), b)
        return (ga, gb) if len(saved) == 2 else (gb,)


class MaximumBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        a, b = self.saved_tensors_checked()
        ad, bd = a._data, b._data
        fn = np.greater if type(self) is MaximumBackward0 else np.less
        wa = fn(ad, bd) + 0.5 * (ad == bd)
        ga = _cast_grad(unbroadcast(g * wa, ad.shape), ad)
        gb = _cast_grad(unbroadcast(g * (1 - wa), bd.shape), bd)
        return ga, gb


class MinimumBackward0(MaximumBackward0):
    __slots__ = ()


# ---------------------------------------------------------------------- binary ops
def add(input: Tensor, other, *, alpha=1, out=None) -> Tensor:
    """``input + alpha * other`` with broadcasting and type promotion."""
    if not isinstance(input, Tensor):
        input, other = _swap_scalar(input, other)
    ad, bd, bt = binary_operands(input, other)
    if alpha != 1:
        bd = bd * alpha
    res = wrap(np.add(ad, bd), input)
    if GRAD.enabled and (input._requires_grad or (bt is not None and bt._requires_grad)):
        node = AddBackward0()
        node.alpha = alpha
        if bt is None:
            node.shapes = (ad.shape, None)
            node.next_functions = ()
            record(res, node, input)
        else:
            node.shapes = (ad.shape, bt._data.shape)
            record(res, node, input, bt)
    return _out(res, out)


def sub(input: Tensor, other, *, alpha=1, out=None) -> Tensor:
    """``input - alpha * other``."""
    if not isinstance(input, Tensor):
        input, other = _swap_scalar(input, other)
    ad, bd, bt = binary_operands(input, other)
    if ad.dtype == np.bool_ and (bt is None or bd.dtype == np.bool_):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if alpha != 1:
        bd = bd * alpha
    res = wrap(np.subtract(ad, bd), input)
    if GRAD.enabled and (input._requires_grad or (bt is not None and bt._requires_grad)):
        node = SubBackward0()
        node.alpha = alpha
        if bt is None:
            node.shapes = (ad.shape, None)
            record(res, node, input)
        else:
            node.shapes = (ad.shape, bt._data.shape)
            record(res, node, input, bt)
    return _out(res, out)


def rsub(input: Tensor, other, alpha=1) -> Tensor:
    """``other - alpha * input``."""
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    ad, bd, _ = binary_operands(input, other)
    res = wrap(np.subtract(bd, ad * alpha if alpha != 1 else ad), input)
    if GRAD.enabled and input._requires_grad:
        node = RsubBackward1() if alpha == 1 else MulBackward0()
        if alpha != 1:
            node.scalar = -alpha
        record(res, node, input)
    return res


def mul(input: Tensor, other, *, out=None) -> Tensor:
    """Elementwise product with broadcasting."""
    if not isinstance(input, Tensor):
        input, other = _swap_scalar(input, other)
    ad, bd, bt = binary_operands(input, other)
    res = wrap(np.multiply(ad, bd), input)
    if GRAD.enabled and (input._requires_grad or (bt is not None and bt._requires_grad)):
        node = MulBackward0()
        if bt is None:
            node.scalar = bd
            record(res, node, input)
        else:
            node.save(input if input._data is ad else wrap(ad), bt if bt._data is bd else wrap(bd))
            if input._data is not ad or bt._data is not bd:
                node._versions = (input._version, bt._version)
            record(res, node, input, bt)
    return _out(res, out)


def div(input: Tensor, other, *, rounding_mode: str | None = None, out=None) -> Tensor:
    """True division (integers promote to float), or floor/trunc division by rounding_mode."""
    if rounding_mode is not None:
        return _rounding_div(input, other, rounding_mode)
    if not isinstance(input, Tensor):
        from .creation import scalar_tensor_like
        input = scalar_tensor_like(input, other)
    ad, bd, bt = binary_operands(input, other)
    if ad.dtype.kind in "biu":
        ad = float_array(ad)
        bd = bd.astype(ad.dtype) if isinstance(bd, np.ndarray) else bd
    res = wrap(np.true_divide(ad, bd), input)
    if GRAD.enabled and (input._requires_grad or (bt is not None and bt._requires_grad)):
        node = DivBackward0()
        if bt is None:
            node.scalar = bd
            record(res, node, input)
        else:
            node.save(wrap(ad) if ad is not input._data else input,
                      wrap(bd) if bd is not bt._data else bt)
            node._versions = (input._version, bt._version)
            node._saved[0]._vc, node._saved[1]._vc = input._vc, bt._vc
            record(res, node, input, bt)
    return _out(res, out)


def _rounding_div(input, other, mode):
    if mode not in ("floor", "trunc"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{mode}'")
    if not isinstance(input, Tensor):
        from .creation import scalar_tensor_like
        input = scalar_tensor_like(input, other)
    ad, bd, bt = binary_operands(input, other)
    if ad.dtype.kind in "iu":
        if np.any(np.asarray(bd) == 0):
            raise RuntimeError("ZeroDivisionError")
        q = np.floor_divide(ad, bd) if mode == "floor" else _trunc_int_div(ad, bd)
        return wrap(q, input)
    q = np.true_divide(ad, bd)
    q = np.floor(q) if mode == "floor" else np.trunc(q)
    res = wrap(q.astype(ad.dtype, copy=False), input)
    if GRAD.enabled and (input._requires_grad or (bt is not None and bt._requires_grad)):
        node = (DivBackward1 if bt is None else DivBackward0Rounded)()
        record(res, node, *([input] if bt is None else [input, bt]))
    return res


class DivBackward1(Node):
    """Rounded division by a scalar: zero gradient almost everywhere."""
    __slots__ = ()

    def backward(self, g):
        return (np.zeros_like(g),)


class DivBackward0Rounded(Node):
    __slots__ = ()

    def name(self) -> str:
        return "DivBackward0"

    def backward(self, g):
        return np.zeros_like(g), None


class RemainderBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return (g,)


def _trunc_int_div(a, b):
    q = np.floor_divide(a, b)
    fix = (np.remainder(a, b) != 0) & ((a < 0) != (np.asarray(b) < 0))
    return q + fix


def true_divide(input, other):
    return div(input, other)


def floor_divide(input, other):
    """Division rounded toward negative infinity."""
    return div(input, other, rounding_mode="floor")


def pow(input, exponent, *, out=None) -> Tensor:
    """``input ** exponent``; either may be a scalar."""
    if not isinstance(input, Tensor):
        return _scalar_pow(input, exponent)
    ad, ed, et = binary_operands(input, exponent)
    if et is None and ad.dtype.kind in "iu" and isinstance(ed, int) and ed < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if et is None and ed == 2 and ad.dtype.kind != "V":
        res_arr = np.multiply(ad, ad)
    elif et is None and ed == 0.5:
        res_arr = np.sqrt(ad)
    else:
        res_arr = np.power(ad, ed)
    res = wrap(res_arr, input)
    if GRAD.enabled and (input._requires_grad or (et is not None and et._requires_grad)):
        if et is None:
            node = PowBackward0()
            node.exponent = ed
            node.save(input)
            record(res, node, input)
        else:
            node = PowBackward1()
            node.save(input if ad is input._data else wrap(ad),
                      et if ed is et._data else wrap(ed))
            node._versions = (input._version, et._version)
            record(res, node, input, et)
    return _out(res, out)


def _scalar_pow(base, exponent: Tensor) -> Tensor:
    ed = exponent._data
    if isinstance(base, float) and ed.dtype.kind in "biu":
        ed = ed.astype(D.get_default_dtype().np)
    res = wrap(np.power(np.asarray(base, dtype=ed.dtype) if ed.dtype.kind in "fcV" else base, ed),
               exponent)
    if GRAD.enabled and exponent._requires_grad:
        node = PowBackward1()
        node.base_scalar = base
        node.save(exponent if ed is exponent._data else wrap(ed))
        node._versions = (exponent._version,)
        record(res, node, exponent)
    return res


def _minmax(input: Tensor, other: Tensor, fn, node_cls):
    if not isinstance(other, Tensor):
        raise TypeError(f"{fn.__name__}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    ad, bd, bt = binary_operands(input, other)
    res = wrap(fn(ad, bd), input)
    if GRAD.enabled and (input._requires_grad or bt._requires_grad):
        node = node_cls()
        node.save(input if ad is input._data else wrap(ad), bt if bd is bt._data else wrap(bd))
        node._versions = (input._version, bt._version)
        record(res, node, input, bt)
    return res


def maximum(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Elementwise maximum (NaN propagates)."""
    return _out(_minmax(input, other, np.maximum, MaximumBackward0), out)


def minimum(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Elementwise minimum (NaN propagates)."""
    return _out(_minmax(input, other, np.minimum, MinimumBackward0), out)


def _swap_scalar(scalar, tensor):
    from .creation import scalar_tensor_like
    return scalar_tensor_like(scalar, tensor), tensor


def _out(res: Tensor, out) -> Tensor:
    if out is None:
        return res
    if GRAD.enabled and (res._requires_grad or out._requires_grad):
        raise RuntimeError("out=... arguments don't support automatic differentiation, but one "
                           "of the arguments requires grad.")
    check_inplace_dtype(out, res._data.dtype)
    if out._data.shape != res._data.shape:
        out._data = np.empty(res._data.shape, dtype=out._data.dtype)
    np.copyto(out._data, res._data, casting="unsafe")
    out._bump()
    return out


# ---------------------------------------------------------------------- comparison & logic
def _compare(fn):
    def op(input: Tensor, other) -> Tensor:
        ad, bd, _ = binary_operands(input, other)
        return wrap(fn(ad, bd), input)
    op.__name__ = fn.__name__
    op.__doc__ = f"Elementwise ``{fn.__name__}`` as a bool tensor (never differentiable)."
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)


def _bitwise(fn, name):
    def op(input: Tensor, other) -> Tensor:
        ad, bd, _ = binary_operands(input, other)
        if ad.dtype.kind in "fcV":
            word = D.from_numpy_dtype(ad.dtype).name.capitalize()
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{word}\'')
        return wrap(fn(ad, bd), input)
    op.__name__ = name
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def logical_not(input: Tensor) -> Tensor:
    """Elementwise logical NOT as a bool tensor."""
    return wrap(np.logical_not(input._data), input)


def bitwise_not(input: Tensor) -> Tensor:
    """Bitwise NOT for integer and bool tensors."""
    if input._data.dtype.kind in "fcV":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return wrap(np.invert(input._data), input)


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    return wrap(np.logical_and(input._data, other._data), input)


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    return wrap(np.logical_or(input._data, other._data), input)


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    return wrap(np.logical_xor(input._data, other._data), input)


def remainder(input, other) -> Tensor:
    """Python-style modulus (sign of the divisor)."""
    if not isinstance(input, Tensor):
        input, other = _swap_scalar(input, other)
    ad, bd, bt = binary_operands(input, other)
    res = wrap(np.remainder(ad, bd), input)
    if GRAD.enabled and input._requires_grad and bt is None:
        record(res, RemainderBackward0(), input)
    return res


def fmod(input, other) -> Tensor:
    """C-style modulus (sign of the dividend)."""
    ad, bd, _ = binary_operands(input, other)
    return wrap(np.fmod(ad, bd), input)


# ---------------------------------------------------------------------- in-place
def _inplace(op):
    def method(self: Tensor, other, *args, **kwargs) -> Tensor:
        if check_inplace(self):
            old = _snapshot(self)
            return finish_inplace(self, op(old, other, *args, **kwargs))
        if self._base is not None and self._base._requires_grad and GRAD.enabled:
            _refuse_view_inplace()
        with_grad = GRAD.enabled and isinstance(other, Tensor) and other._requires_grad
        if with_grad:
            return finish_inplace(self, op(_snapshot(self), other, *args, **kwargs))
        prev = GRAD.enabled
        GRAD.enabled = False
        try:
            res = op(self, other, *args, **kwargs)
        finally:
            GRAD.enabled = prev
        check_inplace_dtype(self, res._data.dtype)
        return finish_inplace(self, res)
    method.__name__ = op.__name__ + "_"
    method.__doc__ = f"In-place :func:`{op.__name__}`; returns self."
    return method


def _snapshot(t: Tensor) -> Tensor:
    """A tensor standing for ``t``'s current value and graph position before an in-place op."""
    old = wrap(t._data.copy(), t)
    old.grad_fn = t.grad_fn
    old._output_nr = t._output_nr
    old._requires_grad = t._requires_grad
    old._accum = t._grad_accumulator() if t.grad_fn is None and t._requires_grad else None
    return old


def _refuse_view_inplace():
    raise RuntimeError(
        "numtorch does not support in-place operations on a view of a tensor that requires grad "
        "while grad mode is on; apply the operation out of place, or clone() the view first.")


add_ = _inplace(add)
sub_ = _inplace(sub)
mul_ = _inplace(mul)
div_ = _inplace(div)
pow_ = _inplace(pow)
remainder_ = _inplace(remainder)


# ---------------------------------------------------------------------- unary math
def _unary_node(name, grad_fn, saves):
    """Build a Node class ``name`` whose backward is ``grad_fn(g, x_array, out_array)``."""
    def backward(self, g):
        saved = self.saved_tensors_checked()
        x = saved[0]._data if saves in ("x", "both") else None
        y = saved[-1]._data if saves in ("out", "both") else None
        ref = x if x is not None else y
        r = grad_fn(g, x, y)
        return (r.astype(ref.dtype, copy=False) if r.dtype != ref.dtype else r),
    return type(name, (Node,), {"__slots__": (), "backward": backward})


def _make_unary(name, fwd, node_cls, saves, to_float=True, doc=""):
    def op(input: Tensor, *, out=None) -> Tensor:
        x = float_array(input._data) if to_float else input._data
        res = wrap(fwd(x), input)
        if GRAD.enabled and input._requires_grad:
            node = node_cls()
            if saves == "x":
                node.save(input)
            elif saves == "out":
                node.save(res)
            else:
                node.save(input, res)
            record(res, node, input)
        return _out(res, out) if out is not None else res
    op.__name__ = name
    op.__doc__ = doc or f"Elementwise ``{name}``."
    return op


def _sigmoid_np(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _np_rsqrt(x):
    return 1.0 / np.sqrt(x)


_UNARY = {
    # name: (forward, Node name, backward(g, x, out), saves)
    "exp": (np.exp, "ExpBackward0", lambda g, x, y: g * y, "out"),
    "log": (np.log, "LogBackward0", lambda g, x, y: g / x, "x"),
    "log2": (np.log2, "Log2Backward0", lambda g, x, y: g / (x * np.log(2.0)), "x"),
    "log10": (np.log10, "Log10Backward0", lambda g, x, y: g / (x * np.log(10.0)), "x"),
    "log1p": (np.log1p, "Log1PBackward0", lambda g, x, y: g / (x + 1), "x"),
    "expm1": (np.expm1, "Expm1Backward0", lambda g, x, y: g * (y + 1), "out"),
    "sqrt": (np.sqrt, "SqrtBackward0", lambda g, x, y: g / (2 * y), "out"),
    "rsqrt": (_np_rsqrt, "RsqrtBackward0", lambda g, x, y: g * -0.5 * y * y * y, "out"),
    "sin": (np.sin, "SinBackward0", lambda g, x, y: g * np.cos(x), "x"),
    "cos": (np.cos, "CosBackward0", lambda g, x, y: -g * np.sin(x), "x"),
    "tan": (np.tan, "TanBackward0", lambda g, x, y: g * (1 + y * y), "out"),
    "tanh": (np.tanh, "TanhBackward0", lambda g, x, y: g * (1 - y * y), "out"),
    "sigmoid": (_sigmoid_np, "SigmoidBackward0", lambda g, x, y: g * y * (1 - y), "out"),
    "reciprocal": (np.reciprocal, "ReciprocalBackward0", lambda g, x, y: -g * y * y, "out"),
    "asin": (np.arcsin, "AsinBackward0", lambda g, x, y: g / np.sqrt(1 - x * x), "x"),
    "acos": (np.arccos, "AcosBackward0", lambda g, x, y: -g / np.sqrt(1 - x * x), "x"),
    "atan": (np.arctan, "AtanBackward0", lambda g, x, y: g / (1 + x * x), "x"),
    "sinh": (np.sinh, "SinhBackward0", lambda g, x, y: g * np.cosh(x), "x"),
    "cosh": (np.cosh, "CoshBackward0", lambda g, x, y: g * np.sinh(x), "x"),
}

_ns = globals()
for _name, (_f, _node, _b, _s) in _UNARY.items():
    _cls = _unary_node(_node, _b, _s)
    _ns[_node] = _cls
    _ns[_name] = _make_unary(_name, _f, _cls, _s)
    _ns[_name + "_"] = _inplace(lambda t, _o=None, _fn=_ns[_name]: _fn(t))
    _ns[_name + "_"].__name__ = _name + "_"


class NegBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return (-g,)


def neg(input: Tensor, *, out=None) -> Tensor:
    """Elementwise negation."""
    if input._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    res = wrap(np.negative(input._data), input)
    if GRAD.enabled and input._requires_grad:
        record(res, NegBackward0(), input)
    return _out(res, out) if out is not None else res


negative = neg


class AbsBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        return (g * np.sign(x._data),)


def abs(input: Tensor, *, out=None) -> Tensor:
    """Elementwise absolute value."""
    res = wrap(np.abs(input._data), input)
    if GRAD.enabled and input._requires_grad:
        node = AbsBackward0()
        node.save(input)
        record(res, node, input)
    return _out(res, out) if out is not None else res


absolute = abs


class SignBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return (np.zeros_like(g),)


def sign(input: Tensor) -> Tensor:
    """Elementwise sign (-1, 0, 1)."""
    res = wrap(np.sign(input._data), input)
    if GRAD.enabled and input._requires_grad:
        record(res, SignBackward0(), input)
    return res


def neg_(self: Tensor) -> Tensor:
    """In-place negation."""
    if check_inplace(self):
        return finish_inplace(self, neg(_snapshot(self)))
    np.negative(self._data, out=self._data)
    self._bump()
    return self


def abs_(self: Tensor) -> Tensor:
    """In-place absolute value."""
    if check_inplace(self):
        return finish_inplace(self, abs(_snapshot(self)))
    np.abs(self._data, out=self._data)
    self._bump()
    return self
