"""Optimizers against torch: 100 steps of every algorithm and option on the same parameters,
data and gradients end with the same parameters and the same ``state_dict()``."""
from __future__ import annotations

import numpy as np
import pytest

from harness import compare

RNG = np.random.default_rng(0)
W0 = RNG.standard_normal((4, 3))
B0 = RNG.standard_normal(4)
FROZEN0 = RNG.standard_normal(2)
X = RNG.standard_normal((100, 8, 3))
Y = RNG.standard_normal((100, 8, 4))

CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "foreach": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.2}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.8}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.01, "maximize": True, "betas": (0.4, 0.99)}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "maximize": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-5, "weight_decay": 0.1}),
    ("Adadelta", {"maximize": True}),
    ("Rprop", {"lr": 0.01}),
    ("Rprop", {"lr": 0.01, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.05)}),
    ("Rprop", {"lr": 0.01, "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 20, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 0, "maximize": True}),
    ("Adafactor", {}),
    ("Adafactor", {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-6, 1e-2), "d": 2.0,
                   "weight_decay": 0.1}),
    ("Adafactor", {"maximize": True}),
    # torch's foreach/fused implementations compute the same updates (numtorch runs one path)
    ("SGD", {"lr": 0.05, "momentum": 0.9, "foreach": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "fused": True}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "fused": True}),
    ("Adagrad", {"lr": 0.1, "fused": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "foreach": True}),
    ("NAdam", {"lr": 0.01, "foreach": True}),
]


def set_linear_grads(T, w, b, x: np.ndarray, y: np.ndarray) -> None:
    """Gradients of mean((x @ w.T + b - y)**2) written by hand in NumPy (same on both sides)."""
    wa, ba = w.detach().numpy(), b.detach().numpy()
    d = 2 * (x.astype(wa.dtype) @ wa.T + ba - y.astype(wa.dtype)) / (x.shape[0] * wa.shape[0])
    w.grad = T.tensor((d.T @ x.astype(wa.dtype)).astype(wa.dtype))
    b.grad = T.tensor(d.sum(0).astype(wa.dtype))


def make_params(T, dtype):
    w = T.tensor(W0.astype(dtype), requires_grad=True)
    b = T.tensor(B0.astype(dtype), requires_grad=True)
    frozen = T.tensor(FROZEN0.astype(dtype), requires_grad=True)  # never gets a .grad
    return w, b, frozen


def train(T, name: str, kwargs: dict, dtype, steps: int = 100):
    w, b, frozen = make_params(T, dtype)
    opt = getattr(T.optim, name)([w, b, frozen], **kwargs)
    for i in range(steps):
        opt.zero_grad()
        set_linear_grads(T, w, b, X[i], Y[i])
        opt.step()
    return opt, (w, b, frozen)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_100_steps_match_torch(name, kwargs, dtype):
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype is np.float32 else {"rtol": 1e-12, "atol": 1e-12}

    def body(T):
        opt, params = train(T, name, kwargs, dtype)
        return {"params": list(params), "state_dict": opt.state_dict()}
    compare(body, **tol)


def test_fused_adam_matches_torch_within_float32():
    compare(lambda T: train(T, "Adam", {"lr": 0.01, "fused": True}, np.float32)[0].state_dict(),
            rtol=1e-5, atol=1e-6)


def test_state_dict_types_and_layout():
    import numtorch
    opt, _ = train(numtorch, "Adam", {"lr": 0.01, "amsgrad": True}, np.float32, steps=3)
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert list(sd["state"]) == [0, 1]  # the frozen parameter (no grad) has no state
    step = sd["state"][0]["step"]
    assert isinstance(step, numtorch.Tensor) and step.dtype == numtorch.float32
    assert step.shape == () and step.item() == 3.0
    assert sd["param_groups"][0]["params"] == [0, 1, 2]
    assert sd["state"][0]["exp_avg"] is opt.state[opt.param_groups[0]["params"][0]]["exp_avg"]


def test_float64_default_dtype_gives_float64_step():
    def body(T):
        old = T.get_default_dtype()
        T.set_default_dtype(T.float64)
        try:
            opt, _ = train(T, "Adam", {}, np.float64, steps=2)
        finally:
            T.set_default_dtype(old)
        return opt.state_dict()["state"][0]["step"]
    compare(body)


def test_closure_is_called_with_grad_enabled_and_loss_returned():
    def body(T):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        opt = T.optim.SGD([w], lr=0.1)
        seen = []

        def closure():
            seen.append(T.is_grad_enabled())
            w.grad = T.tensor([0.5, -0.5])
            return 3.5
        with T.no_grad():
            loss = opt.step(closure)
        return loss, seen, w.detach()
    compare(body)


def test_parameters_without_grad_are_skipped_and_grads_untouched():
    def body(T):
        a = T.tensor([1.0, 2.0], requires_grad=True)
        b = T.tensor([3.0], requires_grad=True)
        opt = T.optim.Adam([a, b], lr=0.1)
        a.grad = T.tensor([1.0, 1.0])
        opt.step()
        return a.detach(), b.detach(), a.grad, len(opt.state), list(opt.state_dict()["state"])
    compare(body)


def test_zero_grad_to_none_and_to_zeros():
    def body(T):
        a = T.tensor([1.0, 2.0], requires_grad=True)
        b = T.tensor([3.0], requires_grad=True)
        opt = T.optim.SGD([a, b], lr=0.1)
        a.grad = T.tensor([1.0, 1.0])
        b.grad = T.tensor([2.0])
        opt.zero_grad(set_to_none=False)
        zeroed = (a.grad.clone(), b.grad.clone())
        opt.zero_grad()
        return zeroed, a.grad, b.grad
    compare(body)


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_flat_group_layout_is_bit_identical_to_per_parameter_updates(name, kwargs, monkeypatch):
    """Small groups are laid out flat; the result must not differ by a single bit from
    per-parameter updates, also across switches between the two paths (a parameter that only
    sometimes has a gradient, a reloaded state)."""
    import numtorch
    import numtorch.optim._flat as flat

    def run():
        w, b, frozen = make_params(numtorch, np.float32)
        opt = getattr(numtorch.optim, name)([w, b, frozen], **kwargs)
        for i in range(30):
            opt.zero_grad()
            set_linear_grads(numtorch, w, b, X[i], Y[i])
            if i in (5, 6, 20):
                frozen.grad = numtorch.tensor(np.full(2, 0.5, np.float32))
            if i == 12:
                opt.load_state_dict(opt.state_dict())
            opt.step()
        return [p.detach().numpy().copy() for p in (w, b, frozen)], opt.state_dict()

    flat_params, flat_sd = run()
    monkeypatch.setattr(flat, "MAX_FLAT_ELEMENTS", 0)
    ref_params, ref_sd = run()
    for a, r in zip(flat_params, ref_params):
        np.testing.assert_array_equal(a, r)
    assert list(flat_sd["state"]) == list(ref_sd["state"])
    for k, st in ref_sd["state"].items():
        assert list(flat_sd["state"][k]) == list(st)
        for key, value in st.items():
            np.testing.assert_array_equal(flat_sd["state"][k][key].numpy(), value.numpy())


def test_flat_path_is_used_for_small_groups():
    import numtorch
    for name, kwargs in [("Adam", {}), ("SGD", {"momentum": 0.9}), ("NAdam", {}),
                         ("RMSprop", {"centered": True, "momentum": 0.1})]:
        opt, (w, b, _) = train(numtorch, name, kwargs, np.float32, steps=2)
        plan = next(iter(opt._flat_plans.values()))
        assert plan.params[0] is w and plan.params[1] is b and plan.n == 2


def test_flat_state_tensors_are_parameter_shaped_views():
    import numtorch
    opt, (w, b, _) = train(numtorch, "Adam", {"lr": 0.01}, np.float32, steps=3)
    st = opt.state[w]
    assert list(st) == ["step", "exp_avg", "exp_avg_sq"]
    assert st["exp_avg"].shape == w.shape and st["step"].shape == ()
    before = st["exp_avg"].numpy().copy()
    w.grad = numtorch.ones_like(w)
    b.grad = numtorch.ones_like(b)
    opt.step()
    assert st["step"].item() == 4.0 and not np.array_equal(before, st["exp_avg"].numpy())


def same_error(body, *args) -> None:
    """Run ``body(T, *args)`` under torch and numtorch: both raise the same exception type with
    exactly the same message, or neither raises."""
    import torch

    import numtorch
    errors = []
    for T in (torch, numtorch):
        try:
            body(T, *args)
        except Exception as exc:  # noqa: BLE001 - the exception is the result under test
            errors.append(exc)
        else:
            errors.append(None)
    expected, actual = errors
    if expected is None:
        assert actual is None, f"torch did not raise, numtorch raised {actual!r}"
        return
    assert actual is not None, f"numtorch did not raise; torch raised {expected!r}"
    assert type(actual).__name__ == type(expected).__name__ and str(actual) == str(expected), \
        f"\n torch:    {expected!r}\n numtorch: {actual!r}"


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name,kwargs", [("Adam", {"lr": 0.01}), ("SGD", {"lr": 0.1,
                                                                           "momentum": 0.9}),
                                         ("RMSprop", {}), ("Adagrad", {}), ("NAdam", {})])
def test_reduced_precision_parameters_stay_within_an_ulp_or_two(name, kwargs, dtype):
    """Half-precision parameters are updated in their dtype; torch evaluates each fused op in
    float32 and rounds once, NumPy rounds per NumPy op, so results may differ by an ulp."""
    def body(T):
        w = T.tensor(np.linspace(-1, 1, 6).astype(np.float32)).to(getattr(T, dtype))
        w.requires_grad_()
        opt = getattr(T.optim, name)([w], **kwargs)
        for i in range(10):
            grad = (np.sin(np.arange(6) + i) + 1.5).astype(np.float32)
            w.grad = T.tensor(grad).to(getattr(T, dtype))
            opt.step()
        return w.detach().float()
    compare(body, rtol=2e-2 if dtype == "bfloat16" else 2e-3, atol=1e-3)
