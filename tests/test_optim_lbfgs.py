"""LBFGS against torch: the same closure (a least-squares problem with hand-written gradients)
gives the same parameters, losses and state (value types included), with and without the
strong-Wolfe line search."""
from __future__ import annotations

import numpy as np
import pytest

from harness import compare
from test_optim import same_error

RNG = np.random.default_rng(1)
A = RNG.standard_normal((12, 5))
Y = RNG.standard_normal((12, 3))
W0 = RNG.standard_normal((5, 3))
B0 = RNG.standard_normal(3)


def _problem(T, dtype):
    w = T.tensor(W0.astype(dtype), requires_grad=True)
    b = T.tensor(B0.astype(dtype), requires_grad=True)
    a, y = A.astype(dtype), Y.astype(dtype)

    def closure():
        wa, ba = w.detach().numpy(), b.detach().numpy()
        r = a @ wa + ba - y
        r = r + 0.1 * np.tanh(r) ** 3  # mildly non-quadratic
        dr = 1 + 0.3 * np.tanh(r) ** 2 * (1 - np.tanh(r) ** 2)
        loss = float((r ** 2).mean())
        gr = 2 * r * dr / r.size
        w.grad = T.tensor((a.T @ gr).astype(dtype))
        b.grad = T.tensor(gr.sum(0).astype(dtype))
        return loss
    return w, b, closure


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("kwargs", [{}, {"line_search_fn": "strong_wolfe"},
                                    {"lr": 0.5, "max_iter": 7, "history_size": 3},
                                    {"line_search_fn": "strong_wolfe", "max_iter": 4,
                                     "history_size": 2}])
def test_lbfgs_matches_torch(kwargs, dtype):
    tol = {"rtol": 1e-9, "atol": 1e-11} if dtype is np.float64 else {"rtol": 2e-4, "atol": 2e-5}

    def body(T):
        w, b, closure = _problem(T, dtype)
        if dtype is np.float32:  # stay above float32's noise floor: few iterations
            opt = T.optim.LBFGS([w, b], **{**kwargs, "max_iter": 3})
        else:
            opt = T.optim.LBFGS([w, b], **kwargs)
        losses = [opt.step(closure) for _ in range(4 if dtype is np.float64 else 2)]
        state = opt.state_dict()
        if dtype is np.float32:  # curvature history near convergence is rounding noise
            state = _skeleton(T, state)
        return losses, w.detach(), b.detach(), state
    compare(body, **tol)


def _skeleton(T, obj):
    """Tensors replaced by (shape, dtype): the structure and value types only."""
    if isinstance(obj, T.Tensor):
        return ("tensor", tuple(obj.shape), str(obj.dtype))
    if isinstance(obj, dict):
        return {k: _skeleton(T, v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_skeleton(T, v) for v in obj]
    return obj


def test_lbfgs_errors():
    def groups(T):
        w, b, _ = _problem(T, np.float64)
        return T.optim.LBFGS([{"params": [w]}, {"params": [b]}])

    def bad_search(T):
        w, b, closure = _problem(T, np.float64)
        return T.optim.LBFGS([w, b], line_search_fn="armijo").step(closure)
    same_error(groups)
    same_error(bad_search)
