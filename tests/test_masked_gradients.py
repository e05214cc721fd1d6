"""Gradients of the clipping and selecting ops (and of the activations that choose between
two formulas) against torch when the incoming gradient is infinite or NaN (blocked elements
get an exact 0.0, not NaN), at the ops' boundaries, and with NaN operands."""
from __future__ import annotations

import numpy as np
import pytest

from harness import compare

INF, NAN = float("inf"), float("nan")
X = [-3.5, -3.0, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 7.0, NAN]


OPS = {
    "relu": lambda T, x: T.relu(x),
    "F.relu": lambda T, x: T.nn.functional.relu(x),
    "ReLU": lambda T, x: T.nn.ReLU()(x),
    "hardtanh": lambda T, x: T.nn.functional.hardtanh(x),
    "hardtanh(-0.5, 2)": lambda T, x: T.nn.functional.hardtanh(x, -0.5, 2.0),
    "relu6": lambda T, x: T.nn.functional.relu6(x),
    "hardsigmoid": lambda T, x: T.nn.functional.hardsigmoid(x),
    "hardswish": lambda T, x: T.nn.functional.hardswish(x),
    "leaky_relu": lambda T, x: T.nn.functional.leaky_relu(x, 0.1),
    "leaky_relu(0)": lambda T, x: T.nn.functional.leaky_relu(x, 0.0),
    "LeakyReLU": lambda T, x: T.nn.LeakyReLU(0.2)(x),
    "prelu": lambda T, x: T.nn.functional.prelu(x, T.tensor([0.25], dtype=x.dtype)),
    "clamp": lambda T, x: x.clamp(-1.0, 1.0),
    "clamp_min": lambda T, x: x.clamp(min=0.0),
    "clamp_max": lambda T, x: x.clamp(max=2.0),
    "clamp(tensors)": lambda T, x: x.clamp(T.full_like(x, -1.0), T.full_like(x, 1.0)),
    "maximum(0)": lambda T, x: T.maximum(x, T.zeros_like(x)),
    "minimum(1)": lambda T, x: T.minimum(x, T.ones_like(x)),
    "max": lambda T, x: x.max(),
    "amin": lambda T, x: x.amin(),  # torch multiplies by the mask here: NaN and -0.0 stay
}
# two formulas, one chosen per element; exp/log1p may differ from torch's in the last bit
FORMULA_OPS = {
    "elu": lambda T, x: T.nn.functional.elu(x),
    "selu": lambda T, x: T.nn.functional.selu(x),
    "celu": lambda T, x: T.nn.functional.celu(x, 0.5),
    "softplus": lambda T, x: T.nn.functional.softplus(x, 2.0, 3.0),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPS) + list(FORMULA_OPS))
@pytest.mark.parametrize("grads", ["inf", "-inf", "nan", "finite"])
def test_gradient_through_masking_op(name, dtype, grads):
    op = OPS.get(name) or FORMULA_OPS[name]

    def body(T):
        x = T.tensor(X if name not in ("max", "amin") else [v for v in X if v == v],
                     dtype=getattr(T, dtype), requires_grad=True)
        y = op(T, x)
        fill = {"inf": INF, "-inf": -INF, "nan": NAN, "finite": -1.25}[grads]
        y.backward(T.full_like(y, fill))
        return y, x.grad, np.signbit(x.grad.numpy()) & (x.grad.numpy() == 0)
    tol = 0 if name in OPS else (1e-6 if dtype == "float32" else 1e-14)
    compare(body, rtol=tol, atol=0)


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_maximum_minimum_nan_ties_and_broadcast(fn):
    """Ties split the gradient in halves; where either operand is NaN both get all of it; a
    broadcast operand's gradient is summed back to its shape."""
    def body(T):
        a = T.tensor([[1.0, NAN, 2.0, 3.0], [NAN, 0.5, -1.0, 2.0], [4.0, 4.0, 1.0, INF]],
                     requires_grad=True)
        b = T.tensor([2.0, 0.5, NAN, 3.0], requires_grad=True)
        y = getattr(T, fn)(a, b)
        y.backward(T.tensor([[1.0, 2.0, 3.0, 4.0], [INF, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]))
        return y, a.grad, b.grad
    compare(body, rtol=0, atol=0)


@pytest.mark.parametrize("bounds", ["both", "min", "max"])
def test_clamp_tensor_bounds_gradients_with_nan_equal_and_reversed_bounds(bounds):
    """Gradients to the input and to tensor bounds (broadcast) where the input is NaN, the
    bounds are equal or reversed, and the incoming gradient is infinite."""
    def body(T):
        x = T.tensor([[NAN, -2.0, 0.0, 2.0, 0.5], [1.0, -1.0, 3.0, -3.0, 1.0]],
                     requires_grad=True)
        lo = T.tensor([0.0, -1.0, 1.0, 1.0, 0.5], requires_grad=True)
        hi = T.tensor([[1.0], [0.5]], requires_grad=True)
        args = {"both": (lo, hi), "min": (lo, None), "max": (None, hi)}[bounds]
        y = x.clamp(*args)
        y.backward(T.tensor([[1.0, INF, 2.0, 3.0, 4.0], [5.0, 6.0, -INF, 7.0, 8.0]]))
        return y, x.grad, lo.grad, hi.grad
    compare(body, rtol=0, atol=0)
