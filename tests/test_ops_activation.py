"""Activations, erf, clamp and softmax against torch: values, gradients, grad_fn names, dtypes,
in-place forms and errors."""
import math

import numpy as np
import pytest
import torch

import numtorch
from numtorch._ops.activation import erf_array, erfc_array
from harness import assert_same, call, compare

FLOATS = ["float32", "float64", "float16", "bfloat16"]
TOL = {"float32": {}, "float64": {}, "float16": dict(rtol=5e-3, atol=5e-3),
       "bfloat16": dict(rtol=3e-2, atol=3e-2)}


def _data(shape, seed, scale=3.0):
    return np.random.default_rng(seed).normal(size=shape) * scale


def _F(T):
    return torch.nn.functional if T is torch else numtorch._ops.activation


ACTIVATIONS = {
    "relu": lambda T, x: T.relu(x),
    "gelu": lambda T, x: _F(T).gelu(x),
    "gelu_tanh": lambda T, x: _F(T).gelu(x, approximate="tanh"),
    "silu": lambda T, x: _F(T).silu(x),
    "softplus": lambda T, x: _F(T).softplus(x),
    "softplus_beta": lambda T, x: _F(T).softplus(x, beta=2.0, threshold=3.0),
    "erf": lambda T, x: T.erf(x),
    "erfc": lambda T, x: T.erfc(x),
    "hardtanh": lambda T, x: _F(T).hardtanh(x, -1.5, 2.0),
    "relu6": lambda T, x: _F(T).relu6(x),
    "leaky_relu": lambda T, x: _F(T).leaky_relu(x, 0.2),
    "elu": lambda T, x: _F(T).elu(x, alpha=1.5),
    "selu": lambda T, x: _F(T).selu(x),
    "celu": lambda T, x: _F(T).celu(x, alpha=0.7),
    "logsigmoid": lambda T, x: _F(T).logsigmoid(x),
    "hardsigmoid": lambda T, x: _F(T).hardsigmoid(x),
    "hardswish": lambda T, x: _F(T).hardswish(x),
    "mish": lambda T, x: _F(T).mish(x),
    "clamp": lambda T, x: T.clamp(x, -1.0, 2.0),
    "clamp_min": lambda T, x: x.clamp(min=-0.5),
    "clamp_max": lambda T, x: x.clamp(max=0.5),
    "clip": lambda T, x: T.clip(x, -1, 1),
    "clamp_min_fn": lambda T, x: T.clamp_min(x, 0.3),
    "softmax": lambda T, x: x.softmax(-1),
    "softmax0": lambda T, x: T.softmax(x, 0),
    "log_softmax": lambda T, x: x.log_softmax(1),
    "log_softmax0": lambda T, x: T.log_softmax(x, dim=0),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_forward_and_grad(name):
    fn = ACTIVATIONS[name]
    for dtype in FLOATS:
        for noncontig in (False, True):
            def body(T):
                src = _data((4, 6), 1)
                x = T.tensor(src, dtype=getattr(T, dtype))
                if noncontig:
                    x = x.t()
                x = x.detach().requires_grad_()
                y = fn(T, x)
                y.backward(T.tensor(_data(tuple(y.shape), 2, 1.0), dtype=y.dtype))
                return y, x.grad
            tol = TOL[dtype]
            if name == "gelu_tanh" and dtype == "float32":
                # torch's float32 kernel cancels near x = -2.4 (|error| ~1e-6 absolute)
                tol = dict(rtol=1e-5, atol=5e-6)
            compare(body, check_grad_fn=True, **tol)


def test_erf_matches_math_erf_to_float64_precision():
    x = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 30, 3000),
                        -np.geomspace(1e-300, 30, 3000), [0.0, -0.0, np.inf, -np.inf]])
    ref = np.array([math.erf(v) for v in x])
    got = erf_array(x)
    np.testing.assert_allclose(got, ref, rtol=1e-15, atol=0)  # a few ulp
    refc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erfc_array(x), refc, rtol=2e-15, atol=0)
    assert np.isnan(erf_array(np.array([np.nan]))[0])


def test_erf_against_torch_float64():
    def body(T):
        x = T.tensor(np.linspace(-6, 6, 1001), dtype=T.float64, requires_grad=True)
        y = T.erf(x)
        y.sum().backward()
        return y, T.erfc(x.detach()), x.grad
    compare(body, rtol=1e-14, atol=1e-300)


def test_extreme_inputs_are_stable():
    def body(T):
        x = T.tensor([-1000.0, -50.0, -20.0, 0.0, 20.0, 50.0, 1000.0], requires_grad=True)
        outs = [x.sigmoid(), _F(T).softplus(x), _F(T).logsigmoid(x), _F(T).silu(x),
                _F(T).gelu(x), x.softmax(0), x.log_softmax(0), _F(T).elu(x), _F(T).mish(x)]
        sum(o.sum() for o in outs[:-2] if True).backward()
        return outs, x.grad
    compare(body, rtol=1e-5, atol=1e-30)


def test_softmax_with_inf_and_dtype_argument():
    def body(T):
        x = T.tensor([[0.0, -float("inf"), 1.0], [-float("inf")] * 3])
        return (x.softmax(1), x.log_softmax(1), T.softmax(T.tensor([1.0, 2.0]), 0,
                                                           dtype=T.float64),
                T.tensor(3.0).softmax(0), T.tensor([[1.0, 2.0]], dtype=T.float16).softmax(-1))
    compare(body)


def test_clamp_tensor_bounds_and_promotion():
    def body(T):
        x = T.tensor(_data((3, 4), 1), requires_grad=True)
        lo = T.tensor(_data((4,), 2) - 1, requires_grad=True)
        hi = T.tensor(_data((3, 1), 3) + 1, requires_grad=True)
        y = T.clamp(x, lo, hi)
        y.backward(T.tensor(_data((3, 4), 4)))
        z = x.detach().clamp(min=lo.detach())
        ints = T.tensor([1, 5, 9])
        return (y, x.grad, lo.grad, hi.grad, y.grad_fn.name(), z, ints.clamp(2, 6),
                ints.clamp(2.5), ints.clamp(max=T.tensor([3, 3, 3])), T.tensor([1.5]).clamp(0, 1))
    compare(body)


def test_clamp_boundaries_pass_gradient():
    def body(T):
        x = T.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
        x.clamp(0.0, 1.0).sum().backward()
        g1 = x.grad.clone()
        x.grad = None
        _F(T).hardtanh(x, 0.0, 1.0).sum().backward()
        return g1, x.grad
    compare(body)


@pytest.mark.parametrize("op", ["relu_", "clamp_", "clip_", "clamp_min_", "clamp_max_",
                                "erf_"])
def test_activation_inplace(op):
    args = {"clamp_": (-0.5, 0.5), "clip_": (-0.5, 0.5), "clamp_min_": (0.1,),
            "clamp_max_": (0.1,)}.get(op, ())

    def body(T):
        w = T.tensor(_data((2, 3), 1), requires_grad=True)
        h = w * 1.0
        r = getattr(h, op)(*args)
        (r * r).sum().backward()
        plain = T.tensor(_data((3,), 5))
        v = plain._version
        getattr(plain, op)(*args)
        return r is h, h.grad_fn.name(), w.grad, plain, plain._version - v
    compare(body)


def test_functional_inplace_flags():
    def body(T):
        outs = []
        for name, kw in (("leaky_relu", {"negative_slope": 0.1}), ("elu", {}),
                         ("hardtanh", {}), ("silu", {}), ("relu6", {})):
            x = T.tensor(_data((5,), 2))
            r = getattr(_F(T), name)(x, inplace=True, **kw)
            outs.append((r is x, x))
        return outs
    compare(body)


def test_activation_errors():
    def clamp_none(T):
        T.clamp(T.ones(2))

    def softmax_dim(T):
        T.ones(2, 3).softmax(2)

    def softmax_int(T):
        T.tensor([1, 2]).softmax(0)

    def gelu_approx(T):
        _F(T).gelu(T.ones(2), approximate="fast")

    def relu_leaf(T):
        T.ones(2, requires_grad=True).relu_()

    def clamp_int_inplace(T):
        T.tensor([1, 2]).clamp_(0.5, 1.5)

    def gelu_int(T):
        _F(T).gelu(T.tensor([1, 2]))

    for body, msg in ((clamp_none, True), (softmax_dim, True), (softmax_int, False),
                      (gelu_approx, False), (relu_leaf, True), (clamp_int_inplace, True),
                      (gelu_int, False)):
        assert_same(call(body, torch), call(body, numtorch), match_message=msg)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool"])
def test_in_place_clamp_dtype_errors(dtype):
    """Number bounds name the C++ type in torch's error, tensor bounds the scalar-type word."""
    def body(T):
        x = T.tensor([1, 0], dtype=getattr(T, dtype))
        outcomes = []
        for f in (lambda: x.clamp_(0.5, 1.5), lambda: x.clamp_(min=0.5), lambda: x.clip_(0.5),
                  lambda: x.clamp_min_(0.5), lambda: x.clamp_max_(0.5),
                  lambda: x.clamp_(T.tensor(0.5)), lambda: x.clamp_(0, 1),
                  lambda: x.clamp(True), lambda: x.clamp(max=False), lambda: x.clamp(True, True),
                  lambda: x.clamp(T.tensor(True))):
            try:
                outcomes.append(f().clone())
            except (RuntimeError, NotImplementedError) as exc:
                outcomes.append(f"{type(exc).__name__}: {exc}")
        return outcomes
    compare(body)


def test_integer_activations():
    def body(T):
        x = T.tensor([-3, -1, 0, 2, 7])
        return T.relu(x), x.clamp(-1, 3), T.erf(x), _F(T).hardtanh(x), x.clamp(min=0)
    compare(body)


def test_relu_gradient_through_nan():
    def body(T):
        x = T.tensor([float("nan"), -1.0, 0.0, 2.0], requires_grad=True)
        T.relu(x).sum().backward()
        return x.grad
    compare(body)


def test_activation_inplace_functions():
    from numtorch._ops import activation as A

    def body(T):
        src = _data((5,), 3)
        outs = []
        for name, args in (("hardtanh_", (-0.5, 0.5)), ("leaky_relu_", (0.3,)), ("elu_", (0.8,)),
                           ("erfc_", ())):
            x = T.tensor(src)
            if name == "erfc_":
                r = x.erfc_()
            else:
                r = getattr(torch.nn.functional if T is torch else A, name)(x, *args)
            outs.append((r is x, x))
        return outs
    compare(body)


def test_softsign():
    def body(T):
        x = T.tensor(_data((2, 3), 1), requires_grad=True)
        y = _F(T).softsign(x)
        y.sum().backward()
        return y, x.grad
    compare(body)


def test_clamp_mixed_bound_kinds_is_a_type_error():
    def body(T):
        T.tensor([1.0, 2.0]).clamp(T.tensor([1.5, 0.0]), 1.8)
    assert_same(call(body, torch), call(body, numtorch))


@pytest.mark.parametrize("n", [7, 5000, (1 << 20) + 37])  # small, one cached run, chunked
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64"])
def test_relu_values_signed_zeros_nan_and_gradient(n, dtype):
    """torch.relu and F.relu on contiguous input of every size class, a strided view, -0.0
    (kept) and NaN (kept; its gradient passes)."""
    def body(T):
        rng = np.random.default_rng(n)
        a = rng.standard_normal(n).astype(np.float32)
        if dtype != "int64":
            a[:4] = [-0.0, 0.0, np.nan, -np.inf]
        x = T.tensor(a).to(getattr(T, dtype))
        if dtype != "int64":
            x.requires_grad_()
        outs = [T.relu(x), T.nn.functional.relu(x), T.relu(x[::3]), T.nn.functional.relu(x[1::2])]
        signs = [np.signbit(v) & (v == 0) for v in (o.detach().float().numpy() for o in outs)]
        if dtype == "int64":
            return outs, signs
        sum(o.sum() for o in outs).backward()
        return outs, signs, x.grad
    compare(body, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_relu_gradient_blocks_infinite_and_nan_gradients_exactly(dtype):
    """Where relu's output is zero the gradient is exactly 0.0 even when the incoming gradient
    is infinite or NaN (a product with a zero mask would give NaN); elsewhere it passes as is,
    signed zeros included."""
    def body(T):
        x = T.tensor([-1.0, 0.0, -0.0, 2.0, float("nan"), -3.0, 1.0, 4.0]).to(getattr(T, dtype))
        g = T.tensor([float("inf"), float("nan"), 1.0, -0.0, 5.0, float("-inf"), float("nan"),
                      -2.5]).to(getattr(T, dtype))
        grads = []
        for fn in (T.relu, T.nn.functional.relu, T.nn.ReLU()):
            xi = x.clone().requires_grad_()
            fn(xi).backward(g)
            grads.append(xi.grad)
        strided = x.clone().requires_grad_()
        T.relu(strided[::2]).backward(g[1::2])
        grads.append(strided.grad)
        # signs of zeros (a NaN's sign and payload after a cast to bfloat16 vary by CPU)
        return grads, [np.signbit(v) & (v == 0) for v in (g.float().numpy() for g in grads)]
    compare(body, rtol=0, atol=0)
