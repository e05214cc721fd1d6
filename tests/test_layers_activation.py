"""Activation layers, softmax and their functional forms against torch."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness import compare, differential
from layers_util import check_layer, check_structure, rand

ACTIVATIONS = [
    lambda T: T.nn.ReLU(),
    lambda T: T.nn.LeakyReLU(),
    lambda T: T.nn.LeakyReLU(0.2),
    lambda T: T.nn.PReLU(),
    lambda T: T.nn.PReLU(3, init=0.1),
    lambda T: T.nn.GELU(),
    lambda T: T.nn.GELU(approximate="tanh"),
    lambda T: T.nn.SiLU(),
    lambda T: T.nn.Tanh(),
    lambda T: T.nn.Sigmoid(),
    lambda T: T.nn.Softmax(dim=1),
    lambda T: T.nn.Softmax(dim=-1),
    lambda T: T.nn.LogSoftmax(dim=1),
    lambda T: T.nn.LogSoftmax(dim=0),
    lambda T: T.nn.ELU(0.5), lambda T: T.nn.SELU(), lambda T: T.nn.CELU(2.0),
    lambda T: T.nn.Softplus(2.0, 1.0), lambda T: T.nn.Mish(), lambda T: T.nn.LogSigmoid(),
    lambda T: T.nn.Hardtanh(-0.5, 2.0), lambda T: T.nn.ReLU6(), lambda T: T.nn.Hardsigmoid(),
    lambda T: T.nn.Hardswish(), lambda T: T.nn.Softsign(),
]


@pytest.mark.parametrize("factory", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (1, 3, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation(factory, shape, dtype):
    check_layer(factory, [rand(*shape, dtype=dtype) * 3], dtype=dtype)


@pytest.mark.parametrize("factory", ACTIVATIONS + [
    lambda T: T.nn.ReLU(inplace=True), lambda T: T.nn.LeakyReLU(0.1, True),
    lambda T: T.nn.SiLU(inplace=True), lambda T: T.nn.Softmax(), lambda T: T.nn.LogSoftmax(),
    lambda T: T.nn.PReLU(dtype=T.float64), lambda T: T.nn.ELU(inplace=True),
    lambda T: T.nn.ReLU6(True), lambda T: T.nn.Hardswish(True), lambda T: T.nn.Mish(True),
    lambda T: T.nn.Hardtanh(-2.0, 2.0, True), lambda T: T.nn.Hardsigmoid(True),
    lambda T: T.nn.SELU(True), lambda T: T.nn.CELU(inplace=True)])
def test_structure(factory):
    check_structure(factory)


def test_gelu_tails_and_extremes_float64():
    """torch evaluates x * 0.5 * (1 + erf(x / sqrt 2)); its far negative tail rounds to -0.0,
    and numtorch uses the same formula, so values agree to the formula's absolute precision."""
    @differential(rtol=1e-10, atol=1e-15)
    def body(T):
        x = T.tensor(np.concatenate([np.linspace(-12, 12, 241), [-40.0, -8.5, 0.0, 30.0]]),
                     requires_grad=True)
        y = T.nn.functional.gelu(x)
        y.backward(T.ones_like(y))
        return y, x.grad
    body()


def test_gelu_float32_wide_range():
    @differential(rtol=1e-5, atol=1e-6)  # |x| * float32 eps: 1 + erf cancels in the tail
    def body(T):
        x = T.tensor(np.linspace(-10, 10, 401, dtype=np.float32), requires_grad=True)
        y = T.nn.functional.gelu(x)
        y.backward(T.ones_like(y))
        return y, x.grad
    body()


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "silu"])
def test_inplace_functional_on_non_leaf(name):
    @differential(check_grad_fn=True)
    def body(T):
        x = T.tensor(rand(3, 4), requires_grad=True)
        h = x * 2
        out = getattr(T.nn.functional, name)(h, inplace=True)
        out.backward(T.tensor(rand(3, 4, seed=5)))
        return out is h, h, x.grad, h._version > 0 if T.__name__ == "numtorch" else True
    body()


def test_inplace_on_leaf_requiring_grad_raises():
    compare(lambda T: T.nn.ReLU(inplace=True)(T.ones(2, requires_grad=True)),
            match_message=True)


def test_relu_inplace_without_grad():
    @differential
    def body(T):
        x = T.tensor(rand(3, 4))
        out = T.nn.ReLU(inplace=True)(x)
        return out is x, x
    body()


def test_softmax_implicit_dim_warns():
    @differential
    def body(T):
        import warnings
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = [T.nn.functional.softmax(T.tensor(rand(*s)))
                   for s in [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]]
        return out, [str(x.message) for x in w]
    body()


def test_softmax_dtype_argument_and_large_values():
    @differential
    def body(T):
        x = T.tensor(np.array([[1000.0, 1001.0, -1000.0]], dtype=np.float32),
                     requires_grad=True)
        a = T.nn.functional.softmax(x, dim=1)
        b = T.nn.functional.log_softmax(x, dim=1, dtype=T.float64)
        (a.sum() + b.sum()).backward()
        return a, b, x.grad
    body()


def test_prelu_default_weight():
    @differential
    def body(T):
        return T.nn.PReLU().weight, T.nn.PReLU(4, init=-0.5).weight
    body()


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.prelu(T.ones(2, 3), T.ones(4)),
    lambda T: T.nn.functional.gelu(T.ones(2), approximate="fast"),
    lambda T: T.nn.functional.softmax(T.ones(2, 3), dim=2),
])
def test_activation_errors(case):
    compare(case, match_message=True)


def test_grad_fn_names():
    @differential(check_grad_fn=True)
    def body(T):
        F = T.nn.functional
        x = T.tensor(rand(2, 3), requires_grad=True)
        w = T.tensor(np.array([0.25], dtype=np.float32), requires_grad=True)
        return [F.relu(x), F.leaky_relu(x), F.prelu(x, w), F.gelu(x), F.silu(x), F.tanh(x),
                F.sigmoid(x), F.softmax(x, 1), F.log_softmax(x, 1)]
    body()


def test_gelu_matches_math_erf():
    from numtorch.nn._functional.activation import erf_array
    xs = np.linspace(-7, 7, 2001)
    expected = np.array([math.erf(v) for v in xs])
    np.testing.assert_allclose(erf_array(xs), expected, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("name,kw", [
    ("elu", {}), ("elu", dict(alpha=0.5)), ("selu", {}), ("celu", dict(alpha=2.0)),
    ("softplus", dict(beta=2.0, threshold=3.0)), ("mish", {}), ("logsigmoid", {}),
    ("hardtanh", dict(min_val=-0.5, max_val=2.0)), ("relu6", {}), ("hardsigmoid", {}),
    ("hardswish", {}), ("softsign", {}),
])
def test_other_functional_activations_are_exported(name, kw):
    @differential(check_grad_fn=True)
    def body(T):
        x = T.tensor(rand(3, 5) * 4, requires_grad=True)
        y = getattr(T.nn.functional, name)(x, **kw)
        y.backward(T.tensor(rand(3, 5, seed=2)))
        return y, x.grad
    body()


def test_relu_underscore_and_leaky_relu_underscore():
    @differential(check_grad_fn=True)
    def body(T):
        x = T.tensor(rand(3, 4), requires_grad=True)
        a, b = x * 1, x * 2
        ra = T.nn.functional.relu_(a)
        rb = T.nn.functional.leaky_relu_(b, 0.3)
        (ra.sum() + rb.sum()).backward()
        return ra is a, rb is b, ra, rb, x.grad
    body()
