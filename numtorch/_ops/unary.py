"""Elementwise unary math (exp, log, trigonometry, rounding ...) and their in-place forms.

Half-precision inputs (float16, bfloat16) are computed in float32 and rounded once, as torch's
CPU kernels do; integer and bool inputs of floating functions promote to the default dtype.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from ._util import GRAD, Node, Tensor, apply_inplace, out_into as _out, record, wrap
from .elementwise import pow as _pow

_HALF = (np.dtype(np.float16), D.bfloat16.np)
_F32 = np.dtype(np.float32)
_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))


def _sigmoid(x):
    # exp(-x) overflowing to inf for very negative x gives the exact limit 0
    e = np.exp(np.negative(x))
    e += 1
    return np.reciprocal(e, out=e)


def _rsqrt(x):
    return 1.0 / np.sqrt(x)


def _exp2(x):
    return np.exp2(x)


def _frac(x):
    return x - np.trunc(x)


# name: (forward, torch's node name, backward(g, x, y) with x the input and y the output,
#        what the node saves: "x" (input), "y" (output) or "" (nothing))
_FLOAT_UNARY = {
    "exp": (np.exp, "ExpBackward0", lambda g, x, y: g * y, "y"),
    "exp2": (_exp2, "Exp2Backward0", lambda g, x, y: g * (y * _LN2), "y"),
    "expm1": (np.expm1, "Expm1Backward0", lambda g, x, y: g * (y + 1), "y"),
    "log": (np.log, "LogBackward0", lambda g, x, y: g / x, "x"),
    "log2": (np.log2, "Log2Backward0", lambda g, x, y: g / (x * _LN2), "x"),
    "log10": (np.log10, "Log10Backward0", lambda g, x, y: g / (x * _LN10), "x"),
    "log1p": (np.log1p, "Log1PBackward0", lambda g, x, y: g / (x + 1), "x"),
    "sqrt": (np.sqrt, "SqrtBackward0", lambda g, x, y: g / (2 * y), "y"),
    "rsqrt": (_rsqrt, "RsqrtBackward0", lambda g, x, y: g * (-0.5 * y * y * y), "y"),
    "sin": (np.sin, "SinBackward0", lambda g, x, y: g * np.cos(x), "x"),
    "cos": (np.cos, "CosBackward0", lambda g, x, y: g * -np.sin(x), "x"),
    "tan": (np.tan, "TanBackward0", lambda g, x, y: g * (1 + y * y), "y"),
    "tanh": (np.tanh, "TanhBackward0", lambda g, x, y: g * (1 - y * y), "y"),
    "sigmoid": (_sigmoid, "SigmoidBackward0", lambda g, x, y: g * (y * (1 - y)), "y"),
    "reciprocal": (np.reciprocal, "ReciprocalBackward0", lambda g, x, y: g * -(y * y), "y"),
    "asin": (np.arcsin, "AsinBackward0", lambda g, x, y: g / np.sqrt(1 - x * x), "x"),
    "acos": (np.arccos, "AcosBackward0", lambda g, x, y: -g / np.sqrt(1 - x * x), "x"),
    "atan": (np.arctan, "AtanBackward0", lambda g, x, y: g / (1 + x * x), "x"),
    "sinh": (np.sinh, "SinhBackward0", lambda g, x, y: g * np.cosh(x), "x"),
    "cosh": (np.cosh, "CoshBackward0", lambda g, x, y: g * np.sinh(x), "x"),
    "asinh": (np.arcsinh, "AsinhBackward0", lambda g, x, y: g / np.sqrt(x * x + 1), "x"),
    "acosh": (np.arccosh, "AcoshBackward0", lambda g, x, y: g / np.sqrt(x * x - 1), "x"),
    "atanh": (np.arctanh, "AtanhBackward0", lambda g, x, y: g / (1 - x * x), "x"),
    "frac": (_frac, "FracBackward0", lambda g, x, y: g, ""),
}

# ops that keep integer dtypes; backward is zero (rounding) or uses the input
_KEEP_UNARY = {
    "floor": (np.floor, "FloorBackward0"),
    "ceil": (np.ceil, "CeilBackward0"),
    "trunc": (np.trunc, "TruncBackward0"),
    "sign": (np.sign, "SignBackward0"),
}

__all__ = list(_FLOAT_UNARY) + list(_KEEP_UNARY) + [
    "neg", "negative", "abs", "absolute", "square", "round", "fix", "arcsin", "arccos",
    "arctan", "arcsinh", "arccosh", "arctanh"]
TENSOR_METHODS = __all__ + [n + "_" for n in list(_FLOAT_UNARY) + list(_KEEP_UNARY) + [
    "neg", "negative", "abs", "absolute", "square", "round", "fix"]]


def _half_up(x: np.ndarray):
    """Computation array and the dtype to round the result back to (half types widen)."""
    if x.dtype in _HALF:
        return x.astype(_F32), x.dtype
    return x, None


def _float_node(name: str, grad, saves: str):
    def backward(self, g):
        saved = self.saved_tensors_checked() if saves else ()
        ref_dtype = self.dtype
        arr = saved[0]._data if saved else None
        if ref_dtype in _HALF:
            g = g.astype(_F32)
            arr = None if arr is None else arr.astype(_F32)
        x = arr if saves == "x" else None
        y = arr if saves == "y" else None
        r = grad(g, x, y)
        return (r if r.dtype == ref_dtype else r.astype(ref_dtype),)
    return type(name, (Node,), {"__slots__": ("dtype",), "backward": backward})


def _make_float(name: str, fwd, node_cls, saves: str):
    def op(input: Tensor, *, out=None) -> Tensor:
        x = input._data
        if x.dtype.char in "fd":
            res = wrap(fwd(x), input)
        else:
            if x.dtype.kind in "biu":
                x = x.astype(D.get_default_dtype().np)
            xc, back = _half_up(x)
            r = fwd(xc)
            res = wrap(r if back is None else r.astype(back), input)
        if GRAD.enabled and input._requires_grad:
            node = node_cls()
            node.dtype = x.dtype
            if saves == "x":
                node.save(input)
            elif saves == "y":
                node.save(res)
            record(res, node, input)
        return res if out is None else _out(res, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` (integer inputs promote to the default float dtype)."
    return op


class _ZeroGrad(Node):
    __slots__ = ("shape", "dtype")

    def backward(self, g):
        return (np.zeros(self.shape, dtype=self.dtype),)


def _make_keep(name: str, fwd, node_cls):
    def op(input: Tensor, *, out=None) -> Tensor:
        x = input._data
        if x.dtype.kind == "c" and name == "sign":
            raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex "
                                      "numbers. Please use torch.sgn instead.")
        if x.dtype.kind in "iub" and (name != "sign" or x.dtype.kind == "b"):
            res = wrap(x.copy(), input)
        else:
            xc, back = _half_up(x)
            r = fwd(xc)
            res = wrap(r if back is None else r.astype(back), input)
        if GRAD.enabled and input._requires_grad:
            node = node_cls()
            node.shape, node.dtype = x.shape, x.dtype
            record(res, node, input)
        return res if out is None else _out(res, out)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` (integer inputs keep their dtype)."
    return op


def _inplace_unary(op, name: str):
    def method(self: Tensor, **kwargs) -> Tensor:
        return apply_inplace(self, op, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place :func:`{op.__name__}`; returns self."
    return method


_ns = globals()
for _name, (_f, _node, _b, _s) in _FLOAT_UNARY.items():
    _ns[_node] = _float_node(_node, _b, _s)
    _ns[_name] = _make_float(_name, _f, _ns[_node], _s)
for _name, (_f, _node) in _KEEP_UNARY.items():
    _ns[_node] = type(_node, (_ZeroGrad,), {"__slots__": ()})
    _ns[_name] = _make_keep(_name, _f, _ns[_node])
arcsin, arccos, arctan = asin, acos, atan  # noqa: F821 - defined by the loop above
arcsinh, arccosh, arctanh = asinh, acosh, atanh  # noqa: F821
fix = trunc  # noqa: F821


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
    return res if out is None else _out(res, out)


negative = neg


class AbsBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        (x,) = self.saved_tensors_checked()
        s = np.sign(x._data)
        return (g * s if s.dtype == g.dtype else (g * s).astype(g.dtype),)


def abs(input: Tensor, *, out=None) -> Tensor:
    """Elementwise absolute value."""
    if input._data.dtype == np.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    res = wrap(np.abs(input._data), input)
    if GRAD.enabled and input._requires_grad:
        node = AbsBackward0()
        node.save(input)
        record(res, node, input)
    return res if out is None else _out(res, out)


absolute = abs


def square(input: Tensor, *, out=None) -> Tensor:
    """``input * input`` (bool promotes to int64, as torch does)."""
    if input._data.dtype == np.bool_:
        input = wrap(input._data.astype(np.int64), input)
    return _pow(input, 2, out=out)


class RoundBackward0(_ZeroGrad):
    __slots__ = ()


class RoundBackward1(_ZeroGrad):
    __slots__ = ()


def round(input: Tensor, *, decimals: int = 0, out=None) -> Tensor:
    """Round half to even, optionally to ``decimals`` decimal places."""
    x = input._data
    if x.dtype.kind in "iub":
        if decimals != 0:
            raise RuntimeError(f"round_cpu not implemented for '{x.dtype}' with decimals != 0")
        res = wrap(x.copy(), input)
    else:
        xc, back = _half_up(x)
        if decimals == 0:
            r = np.round(xc)
        else:
            scale = 10.0 ** decimals
            r = np.round(xc * scale) / scale if decimals > 0 else \
                np.round(xc / 10.0 ** -decimals) * 10.0 ** -decimals
        r = r.astype(x.dtype if back is None else back, copy=False)
        res = wrap(r, input)
    if GRAD.enabled and input._requires_grad:
        node = RoundBackward0() if decimals == 0 else RoundBackward1()
        node.shape, node.dtype = x.shape, x.dtype
        record(res, node, input)
    return res if out is None else _out(res, out)


for _name in list(_FLOAT_UNARY) + list(_KEEP_UNARY) + ["neg", "abs", "square", "round"]:
    _ns[_name + "_"] = _inplace_unary(_ns[_name], _name + "_")
negative_ = neg_  # noqa: F821
absolute_ = abs_  # noqa: F821
fix_ = trunc_  # noqa: F821
