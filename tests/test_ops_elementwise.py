"""Elementwise ops against torch: forward values, gradients and grad_fn names on random inputs
(broadcast, non-contiguous, every float dtype), integer/bool exactness, in-place semantics and
torch's errors."""
import numpy as np
import pytest
import torch

import numtorch
from harness import assert_same, call, compare

FLOATS = ["float32", "float64", "float16", "bfloat16"]
TOL = {"float32": {}, "float64": {}, "float16": dict(rtol=5e-3, atol=5e-3),
       "bfloat16": dict(rtol=3e-2, atol=3e-2)}


def _data(kind, shape, seed):
    rng = np.random.default_rng(seed)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "away":  # away from zero and from integer boundaries
        return rng.uniform(0.2, 0.8, shape) * rng.choice([-1, 1], shape) + rng.integers(-3, 3,
                                                                                        shape)
    return rng.normal(size=shape)


LAYOUTS = {
    # name: (shape of a's source, slicing for a, shape of b's source, slicing for b)
    "same": ((3, 4), np.s_[:, :], (3, 4), np.s_[:, :]),
    "broadcast": ((2, 3, 4), np.s_[:, :, :], (3, 1), np.s_[:, :]),
    "noncontig": ((3, 8), np.s_[:, ::2], (4, 3), "T"),
    "scalar_tensor": ((3, 4), np.s_[:, :], (), np.s_[...]),
}


def _make(T, arr, dtype, sl, grad=True):
    if isinstance(sl, str):
        t = T.tensor(arr, dtype=getattr(T, dtype)).t()
    elif arr.ndim and sl != np.s_[:, :] and sl != np.s_[:, :, :]:
        t = T.tensor(arr, dtype=getattr(T, dtype))[sl]      # a strided view, in every dtype
        assert not t.is_contiguous()
    else:
        t = T.tensor(arr, dtype=getattr(T, dtype))
    return t.requires_grad_(grad)


def _binary_case(T, op, dtype, layout, kinds=("any", "any")):
    sa, sla, sb, slb = LAYOUTS[layout]
    a = _make(T, _data(kinds[0], sa, 1), dtype, sla)
    b = _make(T, _data(kinds[1], sb, 2), dtype, slb)
    out = op(T, a, b)
    g = T.tensor(_data("any", tuple(out.shape), 3), dtype=out.dtype)
    out.backward(g)
    return out, a.grad, b.grad


BINARY = {
    "add": (lambda T, a, b: a + b, ("any", "any")),
    "add_alpha": (lambda T, a, b: T.add(a, b, alpha=-2.5), ("any", "any")),
    "sub": (lambda T, a, b: a - b, ("any", "any")),
    "sub_alpha": (lambda T, a, b: a.sub(b, alpha=3), ("any", "any")),
    "mul": (lambda T, a, b: a * b, ("any", "any")),
    "div": (lambda T, a, b: a / b, ("any", "pos")),
    "pow": (lambda T, a, b: a ** b, ("pos", "any")),
    "maximum": (lambda T, a, b: T.maximum(a, b), ("any", "any")),
    "minimum": (lambda T, a, b: T.minimum(a, b), ("any", "any")),
    "remainder": (lambda T, a, b: T.remainder(a, b), ("away", "pos")),
    "fmod": (lambda T, a, b: T.fmod(a, b), ("away", "pos")),
    "div_floor": (lambda T, a, b: T.div(a, b, rounding_mode="floor"), ("away", "pos")),
    "div_trunc": (lambda T, a, b: T.div(a, b, rounding_mode="trunc"), ("away", "pos")),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_forward_and_grad(name, layout):
    op, kinds = BINARY[name]
    for dtype in FLOATS:
        compare(_binary_case, op, dtype, layout, kinds, check_grad_fn=True, **TOL[dtype])


SCALAR_FORMS = {
    "x+2": lambda x: x + 2, "2+x": lambda x: 2 + x, "x-1.5": lambda x: x - 1.5,
    "2-x": lambda x: 2 - x, "x*3": lambda x: x * 3, "0.5*x": lambda x: 0.5 * x,
    "x/4": lambda x: x / 4, "2/x": lambda x: 2 / x, "x**2": lambda x: x ** 2,
    "x**0.5": lambda x: x ** 0.5, "x**-1.5": lambda x: x ** -1.5, "x**0": lambda x: x ** 0,
    "2**x": lambda x: 2 ** x, "1.5**x": lambda x: 1.5 ** x, "x%1.5": lambda x: x % 1.5,
    "x//0.7": lambda x: x // 0.7, "-x": lambda x: -x, "+x": lambda x: +x,
    "rsub": lambda x: x.rsub(3, alpha=2) if hasattr(x, "rsub") else None,
}


@pytest.mark.parametrize("form", [f for f in SCALAR_FORMS if f != "x//0.7"])
def test_python_scalar_operators(form):
    fn = SCALAR_FORMS[form]
    for dtype in FLOATS:
        def body(T):
            x = T.tensor(_data("pos", (2, 3), 5), dtype=getattr(T, dtype), requires_grad=True)
            y = fn(x)
            if form == "rsub":
                y = T.rsub(x, 3, alpha=2)
            y.backward(T.ones_like(y))
            return y, x.grad
        compare(body, check_grad_fn=True, **TOL[dtype])


def test_floor_divide_grad_is_not_implemented():
    def body(T):
        x = T.tensor([1.5, 2.5], requires_grad=True)
        y = x // 0.7
        name = y.grad_fn.name()
        y.sum().backward()
        return name
    e, a = call(body, torch), call(body, numtorch)
    assert_same(e, a)
    assert "not implemented" in str(a.exc)


UNARY = {
    "exp": "any", "exp2": "any", "expm1": "any", "log": "pos", "log2": "pos", "log10": "pos",
    "log1p": "pos", "sqrt": "pos", "rsqrt": "pos", "sin": "any", "cos": "any", "tan": "unit",
    "tanh": "any", "sigmoid": "any", "reciprocal": "pos", "asin": "unit", "acos": "unit",
    "atan": "any", "sinh": "any", "cosh": "any", "asinh": "any", "atanh": "unit", "abs": "any",
    "neg": "any", "sign": "any", "square": "any", "floor": "away", "ceil": "away",
    "trunc": "away", "round": "away", "frac": "away",
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_forward_and_grad(name):
    for dtype in FLOATS:
        for noncontig in (False, True):
            def body(T):
                src = _data(UNARY[name], (3, 8), 7)
                x = (T.from_numpy(src[:, ::2].copy()).to(getattr(T, dtype)) if not noncontig
                     else T.tensor(src, dtype=getattr(T, dtype))[:, ::2] if hasattr(
                         T.Tensor, "__getitem__") and _slicing_works(T) else
                     T.from_numpy(src[:, ::2]).to(getattr(T, dtype)))
                x = x.detach().requires_grad_()
                y = getattr(T, name)(x)
                y.backward(T.tensor(_data("any", (3, 4), 8), dtype=y.dtype))
                return y, x.grad, getattr(x, name)()
            compare(body, check_grad_fn=True, **TOL[dtype])


def _slicing_works(T):
    try:
        T.zeros(2, 4)[:, ::2]
        return True
    except Exception:  # noqa: BLE001 - shape ops may still be arriving
        return False


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "sigmoid", "tanh", "abs", "neg",
                                  "floor", "round", "sign", "square", "reciprocal"])
def test_unary_on_integers(name):
    def body(T):
        x = T.tensor([[1, 2, 3], [4, 5, 7]], dtype=T.int32)
        return getattr(T, name)(x), getattr(T, name)(T.tensor([1, 0, 3]))
    compare(body)


INT_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_arithmetic_exact(dtype):
    def body(T):
        rng = np.random.default_rng(11)
        lo = 0 if dtype == "uint8" else -50
        a = T.tensor(rng.integers(lo, 50, (4, 5)), dtype=getattr(T, dtype))
        b = T.tensor(rng.integers(1, 9, (5,)), dtype=getattr(T, dtype))
        return (a + b, a - b, a * b, a / b, a // b, a % b, T.fmod(a, b), a ** 2, a & b, a | b,
                a ^ b, ~a, a == b, a < b, a >= 3, T.maximum(a, b), T.minimum(a, b),
                T.div(a, b, rounding_mode="trunc"), a * 1000, a + 2 ** 40, -7 // b, 7 % b)
    compare(body)


def test_bool_ops_exact():
    def body(T):
        a = T.tensor([True, False, True, False])
        b = T.tensor([True, True, False, False])
        return (a + b, a * b, a & b, a | b, a ^ b, ~a, a == b, T.logical_and(a, b),
                T.logical_or(a, b), T.logical_xor(a, b), T.logical_not(a), a + 1, a * 2.5,
                T.logical_and(T.tensor([0, 1, 2]), T.tensor([1.0, 0.0, 3.0])))
    compare(body)


def test_comparisons_with_scalars_and_broadcast():
    def body(T):
        x = T.tensor(_data("any", (3, 4), 1))
        y = T.tensor(_data("any", (4,), 2))
        return (x > 0, x < 0.5, x >= y, x <= y, x == y, x != 0, 0 < x, 1 == x, T.eq(x, x),
                T.gt(x, y), T.le(x, 0), T.ne(x, y), T.equal(x, x), T.equal(x, y))
    compare(body)


# ---------------------------------------------------------------------- in-place semantics
def test_iadd_keeps_identity_and_bumps_version():
    def body(T):
        x = T.tensor([1.0, 2.0])
        ident = x
        v0 = x._version
        x += 1
        x *= T.tensor([2.0, 3.0])
        x -= 0.5
        x /= 2
        return x is ident, x._version - v0, x
    compare(body)


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_", "pow_"])
def test_inplace_on_nonleaf_records_grad(op):
    def body(T):
        w = T.tensor(_data("pos", (2, 3), 1), requires_grad=True)
        o = T.tensor(_data("pos", (3,), 2), requires_grad=True)
        h = w * 1.5
        r = getattr(h, op)(o)
        out = (r * r).sum()
        out.backward()
        return r is h, h.grad_fn.name(), h._version, w.grad, o.grad
    compare(body)


@pytest.mark.parametrize("op", ["exp_", "log_", "sqrt_", "sigmoid_", "tanh_", "neg_", "abs_",
                                "sin_", "reciprocal_", "floor_", "square_"])
def test_unary_inplace(op):
    def body(T):
        w = T.tensor(_data("pos", (2, 3), 1), requires_grad=True)
        h = w * 1.0
        r = getattr(h, op)()
        r.sum().backward()
        plain = T.tensor(_data("pos", (3,), 4))
        getattr(plain, op)()
        return r is h, h.grad_fn.name(), w.grad, plain, plain._version
    compare(body)


def test_inplace_errors():
    def leaf(T):
        x = T.ones(2, requires_grad=True)
        x.add_(1)

    def cast(T):
        x = T.tensor([1, 2])
        x.mul_(1.5)

    def shape(T):
        x = T.ones(3)
        x.add_(T.ones(2, 3))

    def int_exp(T):
        T.tensor([1, 2]).exp_()

    def saved(T):
        x = T.ones(2, requires_grad=True)
        h = x * 2
        y = h.sin()
        h.add_(1)
        y.sum().backward()

    def bool_sub(T):
        T.tensor([True]) - T.tensor([False])

    def neg_bool(T):
        -T.tensor([True])

    def int_neg_pow(T):
        T.tensor([1, 2]) ** -1

    def int_zero_div(T):
        T.tensor([1, 2]) // 0

    def alpha_float_int(T):
        T.add(T.tensor([1]), T.tensor([2]), alpha=0.5)

    def maximum_scalar(T):
        T.maximum(T.ones(2), 1.0)

    for body in (leaf, cast, shape, int_exp, saved, bool_sub, neg_bool, int_neg_pow,
                 int_zero_div, alpha_float_int, maximum_scalar):
        e, a = call(body, torch), call(body, numtorch)
        assert_same(e, a, match_message=body not in (saved, maximum_scalar))


def test_inplace_with_grad_input_on_plain_tensor():
    def body(T):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        x = T.zeros(2)
        x.add_(w * 3)
        x.sum().backward()
        return x, x.requires_grad, x.grad_fn.name(), w.grad
    compare(body)


def test_zero_fill_copy():
    def body(T):
        x = T.tensor(_data("any", (2, 3), 1))
        v = x._version
        x.zero_()
        a = x.clone()
        x.fill_(2.5)
        b = x.clone()
        x.fill_(T.tensor(-1.0))
        c = x.clone()
        i = T.zeros(2, 3, dtype=T.int32)
        i.copy_(T.tensor([1.7, -2.2, 3.9]))
        f = T.zeros(2, 3, dtype=T.float64)
        f.copy_(T.tensor([[1, 2, 3]]))
        return a, b, c, x._version - v, i, f
    compare(body)


def test_copy_and_fill_gradients():
    def body(T):
        src = T.tensor(_data("any", (3,), 1), requires_grad=True)
        dst = T.zeros(2, 3, dtype=T.float64)
        dst.copy_(src)
        (dst * T.tensor(_data("any", (2, 3), 2))).sum().backward()
        v = T.tensor(2.0, requires_grad=True)
        h = T.zeros(3)
        h.fill_(v)
        (h * T.tensor([1.0, 2.0, 3.0])).sum().backward()
        return dst, src.grad, v.grad, dst.grad_fn.name(), h.grad_fn.name()
    compare(body)


def test_copy_errors():
    def bad_shape(T):
        T.zeros(2, 3).copy_(T.ones(4))

    def fill_dim(T):
        T.zeros(2).fill_(T.ones(2))
    for body in (bad_shape, fill_dim):
        assert_same(call(body, torch), call(body, numtorch))


def test_out_argument():
    def body(T):
        out = T.empty(3)
        r = T.add(T.tensor([1.0, 2, 3]), 1, out=out)
        T.mul(T.tensor([1.0, 2, 3]), 2, out=out)
        return r is out, out
    compare(body)


def test_mixed_dtype_gradients_keep_input_dtypes():
    def body(T):
        a = T.tensor(_data("pos", (2, 3), 1), dtype=T.float32, requires_grad=True)
        b = T.tensor(1.7, dtype=T.float64, requires_grad=True)
        c = T.tensor(_data("pos", (3,), 2), dtype=T.float64, requires_grad=True)
        out = (a * b + a / b - a ** b) * 1.0
        (out.sum() + (a * c).sum()).backward()
        return out, a.grad, b.grad, c.grad
    compare(body, rtol=1e-5)


def test_maximum_ties_split_gradient():
    def body(T):
        a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = T.tensor([1.0, 5.0, 3.0], requires_grad=True)
        T.maximum(a, b).sum().backward()
        return a.grad, b.grad
    compare(body)


def test_pow_zero_base_and_exponent_gradients():
    def body(T):
        a = T.tensor([0.0, 0.0, 2.0, 3.0], requires_grad=True)
        b = T.tensor([0.0, 2.0, 0.0, 1.5], requires_grad=True)
        y = a ** b
        y.sum().backward()
        z = T.tensor([0.0, 1.0, 2.0], requires_grad=True)
        (0.0 ** z).sum().backward()
        return y, a.grad, b.grad, z.grad
    compare(body)


def test_overwriting_inplace_ops_send_zero_gradient_back():
    def body(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        grads = []
        for op in (lambda h: h.zero_(), lambda h: h.fill_(3.0),
                   lambda h: h.copy_(T.tensor([5.0, 6.0]))):
            x.grad = None
            h = x * 2
            op(h)
            (h * h).sum().backward()
            grads.append((h.grad_fn.name(), x.grad))
        return grads
    compare(body)


def test_scalar_remainder_grad_not_implemented():
    def body(T):
        x = T.tensor([1.5, 2.5], requires_grad=True)
        y = 5 % x
        return y, y.grad_fn.name()
    compare(body)


def test_inplace_fast_paths_match_torch():
    def body(T):
        w = T.tensor(_data("any", (2, 3), 1), requires_grad=True)
        g = T.tensor(_data("any", (2, 3), 2))
        with T.no_grad():
            v = w._version
            w.add_(g, alpha=-0.1)
            w.mul_(0.9)
            w.sub_(g, alpha=2)
            w.div_(T.tensor(_data("pos", (3,), 3)))
            w.add_(1)
            w.sub_(T.tensor([1.0, 2.0, 3.0]))
            w.div_(2)
            w.mul_(T.tensor(2.0, dtype=T.float64))
        i = T.tensor([[1, 2, 3]], dtype=T.int16)
        i.add_(T.tensor([1, 1, 1], dtype=T.int16), alpha=3)
        i.mul_(2)
        i.sub_(1)
        f = T.zeros(2, 3)
        f.add_(T.tensor([1.0, 2.0, 3.0], dtype=T.float64))
        b = T.tensor([True, False])
        b.mul_(T.tensor([True, True]))
        return w, w.requires_grad, w.grad_fn, w._version - v, i, f, b
    compare(body)


def test_inplace_fast_path_errors():
    def int_div(T):
        T.tensor([1, 2]).div_(2)

    def int_float_alpha(T):
        T.tensor([1, 2]).add_(T.tensor([1, 1]), alpha=0.5)

    def bigger_other(T):
        T.zeros(3).mul_(T.ones(2, 3))
    for body in (int_div, int_float_alpha, bigger_other):
        assert_same(call(body, torch), call(body, numtorch), match_message=True)


def test_inplace_comparison_logical_bitwise_forms():
    def body(T):
        x = T.tensor([1.0, 2.0, 3.0])
        y = T.tensor([1.0, 0.0, 5.0])
        outs = []
        for op in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "logical_and_", "logical_or_",
                   "logical_xor_", "floor_divide_", "remainder_", "fmod_", "true_divide_",
                   "divide_", "multiply_", "subtract_"):
            a = x.clone()
            r = getattr(a, op)(y if op not in ("floor_divide_", "remainder_", "fmod_") else 1.5)
            outs.append((r is a, a))
        i = T.tensor([5, 6, 7])
        for op in ("bitwise_and_", "bitwise_or_", "bitwise_xor_"):
            a = i.clone()
            getattr(a, op)(T.tensor([3, 3, 3]))
            outs.append(a)
        a = i.clone()
        a.bitwise_not_()
        b = T.tensor([1.0, 0.0])
        b.logical_not_()
        outs += [a, b]
        return outs
    compare(body)


def test_function_aliases():
    def body(T):
        x = T.tensor(_data("unit", (2, 3), 1))
        y = T.tensor(_data("pos", (2, 3), 2))
        return (T.true_divide(x, y), T.divide(x, y, rounding_mode="trunc"), T.subtract(x, y),
                T.multiply(x, y), T.not_equal(x, y), T.greater(x, y), T.greater_equal(x, y),
                T.less(x, y), T.less_equal(x, y), T.negative(x), T.absolute(x), T.fix(x * 3),
                T.arcsin(x), T.arccos(x), T.arctan(x), T.arcsinh(x), T.arctanh(x),
                T.arccosh(y + 1), T.acosh(y + 1), x.negative(), x.absolute(), x.fix())
    compare(body)


def test_round_decimals_and_acosh_grad():
    def body(T):
        x = T.tensor([1.2345, -2.5, 0.5, 1.5, 123.456], dtype=T.float64, requires_grad=True)
        r = (T.round(x), T.round(x, decimals=2), x.round(decimals=-1), T.round(x * 10))
        y = T.acosh(x.abs() + 1.5)
        y.sum().backward()
        return r, y, x.grad
    compare(body, check_grad_fn=True)


def test_inplace_on_view_of_leaf_that_requires_grad_is_refused():
    def body(T):
        w = T.ones(3, requires_grad=True)
        w[0:2].mul_(3)
    assert_same(call(body, torch), call(body, numtorch), match_message=True)


def test_inplace_on_view_without_grad_writes_through_and_bumps_base():
    def body(T):
        x = T.zeros(2, 4)
        v = x[:, 1:3]
        v.add_(1)
        v.mul_(T.tensor([2.0, 3.0]))
        v.exp_()
        v.clamp_(max=10.0)
        x.t().sub_(0.5)
        return x, x._version, v._version
    compare(body)


def test_inplace_on_views_rewrites_base_history():
    def body(T):
        w = T.ones(2, 3, requires_grad=True)
        y = T.tensor([1.0, 2.0], requires_grad=True)
        h = w * 1.5
        v = h[:, 1:]
        v.add_(y * w[0, :2])
        v.mul_(T.tensor([2.0, 3.0]))
        v_out = v.sum() * 3            # the view, used right after its own in-place ops
        h[0].mul_(2)
        h[1, :2].zero_()
        h[:, 0].copy_(y * 3)
        h[1:, 2:].fill_(y[0] * 2)
        h[0, 1:].exp_()
        out = (h * T.arange(6.0).reshape(2, 3)).sum()
        (out + v_out).backward()
        plain = T.zeros(4)
        plain[1:3].add_(y * 3)
        (plain * plain).sum().backward()
        return (h, w.grad, y.grad, h.grad_fn.name(), v.grad_fn.name(), plain.grad_fn.name())
    compare(body)


try:
    from hypothesis import given, settings, strategies as st
    from hypothesis.extra.numpy import mutually_broadcastable_shapes
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    given = None

if given is not None:
    @settings(max_examples=25, deadline=None)
    @given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                max_side=3),
           op=st.sampled_from(["add", "sub", "mul", "div", "maximum", "pow", "remainder"]),
           dtype=st.sampled_from(["float32", "float64"]),
           seed=st.integers(0, 2 ** 16))
    def test_broadcasting_forward_and_grad_property(shapes, op, dtype, seed):
        (sa, sb), _ = shapes
        kinds = {"div": ("any", "pos"), "pow": ("pos", "any"), "remainder": ("any", "pos")}

        def body(T):
            ka, kb = kinds.get(op, ("any", "any"))
            a = T.tensor(_data(ka, sa, seed), dtype=getattr(T, dtype), requires_grad=True)
            b = T.tensor(_data(kb, sb, seed + 1), dtype=getattr(T, dtype), requires_grad=True)
            out = getattr(T, op)(a, b)
            out.backward(T.tensor(_data("any", tuple(out.shape), seed + 2), dtype=out.dtype))
            return out, a.grad, b.grad
        compare(body, check_grad_fn=True)


def test_edge_semantics():
    def body(T):
        return (T.tensor([True, False]).sign(), T.tensor([1.0, 2.0]).add(1, alpha=True),
                T.tensor([1, 100], dtype=T.int8) == 1000, T.tensor([1, 2], dtype=T.uint8) < -1,
                T.tensor(3, dtype=T.uint8) - 5, T.tensor([-7.5, 7.5]) // 2,
                T.tensor([5, -5]) % -3, T.fmod(T.tensor([5, -5]), -3),
                T.maximum(T.tensor([float("nan"), 1.0]), T.tensor([0.0, 2.0])),
                T.tensor([1, 2], dtype=T.int8) + T.tensor(1000), 2.5 ** T.tensor([2, 3]))
    compare(body)


@pytest.mark.parametrize("expr", [
    lambda T: T.ones(2) + T.ones(3), lambda T: T.ones(5, 2) - T.ones(3),
    lambda T: T.ones(2, 1, 4) * T.ones(3, 5), lambda T: T.ones(2) / T.ones(3),
    lambda T: T.ones(2) ** T.ones(3), lambda T: T.ones(2) % T.ones(3),
    lambda T: T.ones(2) // T.ones(3), lambda T: T.ones(2) > T.ones(3),
    lambda T: T.ones(2, dtype=T.int64) & T.ones(3, dtype=T.int64),
    lambda T: T.logical_and(T.ones(2), T.ones(3)), lambda T: T.fmod(T.ones(2), T.ones(3)),
    lambda T: T.maximum(T.ones(4, 2), T.ones(3, 1, 3)), lambda T: T.ones(2).max(T.ones(3))])
def test_broadcast_errors_use_torch_wording(expr):
    assert_same(call(expr, torch), call(expr, numtorch), match_message=True)


# ---------------------------------------------------------------------- more pointwise math
def test_float_tests_and_nan_to_num():
    def body(T):
        x = T.tensor([1.0, float("nan"), float("inf"), -float("inf"), -0.0, 0.0],
                     requires_grad=True)
        y = T.nan_to_num(x, nan=2.0, neginf=-7.0)
        y.sum().backward()
        i = T.tensor([1, 2])
        h = T.tensor([float("nan"), float("inf")], dtype=T.float16)
        b = T.tensor([float("nan"), float("inf"), 1.0], dtype=T.bfloat16)
        return (T.isnan(x), T.isinf(x), T.isfinite(x), T.isposinf(x), T.isneginf(x),
                T.signbit(x), y, x.grad, T.isnan(i), T.isfinite(i), T.nan_to_num(h),
                T.nan_to_num(b), x.detach().nan_to_num(), x.detach().isnan())
    compare(body)


def test_isclose_allclose():
    def body(T):
        a = T.tensor([1.0, 2.0, float("nan"), 1e-9])
        b = T.tensor([1.0 + 1e-6, 2.1, float("nan"), 0.0])
        return (T.isclose(a, b), T.isclose(a, b, equal_nan=True), T.allclose(a, a),
                T.allclose(a, b, rtol=0.1, equal_nan=True), a.isclose(b, atol=0.2),
                T.isclose(T.tensor([1, 2]), T.tensor([1, 3])))
    compare(body)


@pytest.mark.parametrize("name", ["lerp", "lerp_tensor", "addcmul", "addcdiv", "atan2", "hypot",
                                  "logaddexp", "copysign", "xlogy", "float_power"])
def test_more_pointwise_forward_and_grad(name):
    ops = {
        "lerp": lambda T, a, b, c: T.lerp(a, b, 0.7),
        "lerp_tensor": lambda T, a, b, c: T.lerp(a, b, c),
        "addcmul": lambda T, a, b, c: T.addcmul(a, b, c, value=-0.5),
        "addcdiv": lambda T, a, b, c: a.addcdiv(b, c.abs() + 0.5, value=2),
        "atan2": lambda T, a, b, c: T.atan2(a, b),
        "hypot": lambda T, a, b, c: T.hypot(a, b),
        "logaddexp": lambda T, a, b, c: T.logaddexp(a, b),
        "copysign": lambda T, a, b, c: T.copysign(a, b),
        "xlogy": lambda T, a, b, c: T.xlogy(a, b.abs() + 0.1),
        "float_power": lambda T, a, b, c: T.float_power(a.abs() + 0.1, b),
    }
    for dtype in ("float32", "float64"):
        def body(T):
            a = T.tensor(_data("any", (2, 3), 1), dtype=getattr(T, dtype), requires_grad=True)
            b = T.tensor(_data("any", (3,), 2), dtype=getattr(T, dtype), requires_grad=True)
            c = T.tensor(_data("unit", (2, 1), 3), dtype=getattr(T, dtype), requires_grad=True)
            y = ops[name](T, a, b, c)
            y.backward(T.tensor(_data("any", (2, 3), 4), dtype=y.dtype))
            return y, a.grad, b.grad, c.grad
        compare(body, check_grad_fn=True)


def test_more_pointwise_inplace_and_integers():
    def body(T):
        x = T.tensor([1.0, 2.0, 3.0])
        x.lerp_(T.tensor([3.0, 3.0, 3.0]), 0.25)
        x.addcmul_(T.tensor([1.0, 2.0, 3.0]), T.tensor([2.0, 2.0, 2.0]), value=0.5)
        x.addcdiv_(T.tensor([1.0, 2.0, 3.0]), T.tensor([2.0, 4.0, 8.0]))
        x.atan2_(T.tensor([1.0, -1.0, 2.0]))
        i = T.tensor([3, 4])
        return (x, x._version, T.atan2(i, T.tensor([1, 2])), T.hypot(T.tensor([3.0]), T.tensor(4.0)),
                T.copysign(T.tensor([3.0, -1.0]), -1.0),
                T.xlogy(T.tensor([0.0, 2.0]), T.tensor([0.0, 3.0])),
                T.float_power(i, 2), T.float_power(2, T.tensor([0.5])), T.addcmul(i, i, i))
    compare(body)


def test_more_pointwise_errors():
    for body in (lambda T: T.addcdiv(T.tensor([1]), T.tensor([2]), T.tensor([3])),
                 lambda T: T.hypot(T.ones(2), 2.0), lambda T: T.atan2(T.ones(2), T.ones(3)),
                 lambda T: T.lerp(T.ones(2), T.ones(3), 0.5)):
        assert_same(call(body, torch), call(body, numtorch), match_message=True)


def test_complex_arithmetic():
    def body(T):
        a = T.tensor([1 + 2j, 3 - 1j])
        b = T.tensor([2 - 1j, 1j])
        return (a * b, a / 2, a + b, a - 1.5, a ** 2, a == b, -a, a.exp(), a.abs(), a.sqrt(),
                a.log(), a.tanh(), a.sigmoid(), T.tensor([1.0, 2.0]) + 1j)
    compare(body)


def test_complex_sign_is_refused():
    def body(T):
        T.tensor([1 + 2j]).sign()
    assert_same(call(body, torch), call(body, numtorch), match_message=True)


@pytest.mark.parametrize("body", [
    lambda T: ~T.ones(2), lambda T: ~T.ones(2, dtype=T.bfloat16), lambda T: ~T.tensor([1 + 1j]),
    lambda T: ~T.tensor([1, 2]), lambda T: ~T.tensor([True]), lambda T: T.bitwise_not(T.ones(2)),
    lambda T: T.tensor([True]).abs(), lambda T: abs(T.tensor([True])),
    lambda T: T.tensor([True]).abs_(), lambda T: T.relu(T.tensor([True])),
    lambda T: T.tensor([True]).relu_(), lambda T: T.nn.functional.gelu(T.tensor([1, 2])),
    lambda T: T.nn.functional.gelu(T.tensor([1], dtype=T.uint8), approximate="tanh")],
    ids=range(13))
def test_dtype_refusals_in_torch_words(body):
    compare(body, match_message=True)


EXPANDED_WRITES = {
    "add_": lambda T, e: e.add_(1), "mul_": lambda T, e: e.mul_(2), "exp_": lambda T, e: e.exp_(),
    "copy_": lambda T, e: e.copy_(T.ones(2, 3)), "out=": lambda T, e: T.add(T.ones(2, 3), 1, out=e),
    "zero_ (allowed)": lambda T, e: e.zero_(), "fill_ (allowed)": lambda T, e: e.fill_(5),
    "row setitem (allowed)": lambda T, e: e.__setitem__(0, 2.0),
    "element setitem (allowed)": lambda T, e: e.__setitem__((1, 2), 7.0),
    "column setitem": lambda T, e: e.__setitem__((slice(None), 0), 2.0),
    "row add_ (allowed)": lambda T, e: e[1].add_(1),
    "with grad": lambda T, e: (T.ones(1, 3, requires_grad=True) * 1).expand(2, 3).add_(1),
}


@pytest.mark.parametrize("name", EXPANDED_WRITES)
def test_writing_through_an_expanded_tensor(name):
    """torch refuses writes that reach one element through several positions."""
    def body(T):
        base = T.tensor([[1.0, 2.0, 3.0]])
        e = base.expand(2, 3)
        EXPANDED_WRITES[name](T, e)
        return base, e
    compare(body, match_message=True)
