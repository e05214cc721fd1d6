"""Identity, Linear, Bilinear and F.linear / F.bilinear against torch."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness import compare, differential
from layers_util import (assert_uniform, check_layer, check_structure, rand, sample_params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 7), (5, 7), (2, 3, 7), (7,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_backward(dtype, shape, bias):
    check_layer(lambda T: T.nn.Linear(7, 4, bias=bias), [rand(*shape, dtype=dtype)],
                dtype=dtype)


@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_forward_backward(bias):
    check_layer(lambda T: T.nn.Bilinear(3, 5, 4, bias=bias),
                [rand(6, 3, seed=1), rand(6, 5, seed=2)])
    check_layer(lambda T: T.nn.Bilinear(3, 5, 4, bias=bias),
                [rand(2, 2, 3, seed=1, dtype=np.float64), rand(2, 2, 5, seed=2,
                                                                 dtype=np.float64)],
                dtype=np.float64)


def test_identity_passes_input_through():
    @differential
    def body(T):
        x = T.tensor(rand(2, 3), requires_grad=True)
        m = T.nn.Identity(54, unused_argument1=0.1, unused_argument2=False)
        y = m(x)
        return y is x, repr(m), list(m.state_dict().keys())
    body()


@pytest.mark.parametrize("factory", [
    lambda T: T.nn.Linear(3, 2),
    lambda T: T.nn.Linear(3, 2, bias=False),
    lambda T: T.nn.Linear(3, 2, dtype=T.float64),
    lambda T: T.nn.Bilinear(2, 3, 4),
    lambda T: T.nn.Bilinear(2, 3, 4, bias=False),
    lambda T: T.nn.Identity(),
])
def test_structure(factory):
    check_structure(factory)


def test_linear_default_init_distribution():
    values = sample_params(__import__("numtorch"), lambda T: T.nn.Linear(400, 300), "weight")
    assert_uniform(values, 1 / math.sqrt(400))
    bias = sample_params(__import__("numtorch"), lambda T: T.nn.Linear(400, 300), "bias", 20)
    assert_uniform(bias, 1 / math.sqrt(400))


def test_bilinear_default_init_distribution():
    import numtorch
    w = sample_params(numtorch, lambda T: T.nn.Bilinear(50, 30, 40), "weight")
    assert_uniform(w, 1 / math.sqrt(50))
    b = sample_params(numtorch, lambda T: T.nn.Bilinear(50, 30, 400), "bias")
    assert_uniform(b, 1 / math.sqrt(50))


def test_init_draws_from_numtorch_generator():
    import numtorch
    numtorch.manual_seed(3)
    a = numtorch.nn.Linear(4, 4).weight.detach().numpy().copy()
    numtorch.manual_seed(3)
    b = numtorch.nn.Linear(4, 4).weight.detach().numpy().copy()
    assert np.array_equal(a, b)


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.linear(T.ones(2, 3), T.ones(4, 5)),
    lambda T: T.nn.functional.linear(T.ones(3), T.ones(4, 5)),
    lambda T: T.nn.functional.linear(T.ones(2, 3, dtype=T.float64), T.ones(4, 3)),
    lambda T: T.nn.functional.linear(T.ones(2, 3), T.ones(4, 3), T.ones(3)),
])
def test_linear_errors(case):
    compare(case, match_message=True)


def test_linear_grad_fn_names():
    @differential(check_grad_fn=True)
    def body(T):
        F = T.nn.functional
        w = T.tensor(rand(4, 3), requires_grad=True)
        b = T.tensor(rand(4), requires_grad=True)
        outs = []
        for shape in [(2, 3), (3,), (2, 2, 3)]:
            x = T.tensor(rand(*shape), requires_grad=True)
            outs += [F.linear(x, w, b), F.linear(x, w)]
        return outs
    body()


def test_linear_no_grad_records_nothing():
    @differential
    def body(T):
        m = T.nn.Linear(3, 2)
        with T.no_grad():
            y = m(T.ones(4, 3))
        return y.requires_grad, y.grad_fn is None
    body()


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.bilinear(T.ones(2, 3), T.ones(2, 4), T.ones(5, 3, 3)),
    lambda T: T.nn.functional.bilinear(T.ones(2, 2), T.ones(2, 4), T.ones(5, 3, 4)),
    lambda T: T.nn.functional.bilinear(T.ones(2, 3), T.ones(3, 4), T.ones(5, 3, 4)),
])
def test_bilinear_error_types(case):
    compare(case)


@pytest.mark.parametrize("dtype", ["bool", "int64", "int32", "uint8", "float16"])
@pytest.mark.parametrize("bias", [False, True])
def test_linear_on_integer_bool_and_half_inputs(dtype, bias):
    def body(T):
        d = getattr(T, dtype)
        x, w = T.ones(2, 3, dtype=d), T.ones(2, 3, dtype=d)
        return T.nn.functional.linear(x, w, T.ones(2, dtype=d) if bias else None)
    compare(body, match_message=True)
