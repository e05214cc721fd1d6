"""Learning-rate schedulers against torch: 100-step lr (and momentum) sequences equal torch's,
state dicts have torch's keys and values, and a mid-way state_dict round trip into a fresh
scheduler continues the same sequence."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from harness import compare
from test_optim import same_error


class Scale:
    """A picklable lr_lambda object whose attributes travel in the state dict."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def __call__(self, epoch: int) -> float:
        return self.rate ** epoch


def _opt(T, name="SGD", groups=2):
    ws = [T.tensor([1.0, 2.0], requires_grad=True) for _ in range(groups)]
    if name == "SGD":
        return T.optim.SGD([{"params": [w], "lr": 0.1 * (i + 1)} for i, w in enumerate(ws)],
                           lr=0.1, momentum=0.9)
    return T.optim.Adam([{"params": [w], "lr": 0.01 * (i + 1)} for i, w in enumerate(ws)])


S = "lr_scheduler"
SCHEDULERS = {
    "LambdaLR": lambda T, o: T.optim.lr_scheduler.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-obj": lambda T, o: T.optim.lr_scheduler.LambdaLR(o, [Scale(0.9), Scale(0.97)]),
    "MultiplicativeLR": lambda T, o: T.optim.lr_scheduler.MultiplicativeLR(o, lambda e: 0.97),
    "StepLR": lambda T, o: T.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda T, o: T.optim.lr_scheduler.MultiStepLR(o, [10, 30, 30, 80], 0.3),
    "ExponentialLR": lambda T, o: T.optim.lr_scheduler.ExponentialLR(o, 0.96),
    "CosineAnnealingLR": lambda T, o: T.optim.lr_scheduler.CosineAnnealingLR(o, 17, 0.001),
    "CosineAnnealingWarmRestarts": lambda T, o:
        T.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4),
    "LinearLR": lambda T, o: T.optim.lr_scheduler.LinearLR(o, 0.2, 0.9, total_iters=40),
    "ConstantLR": lambda T, o: T.optim.lr_scheduler.ConstantLR(o, 0.25, total_iters=30),
    "PolynomialLR": lambda T, o: T.optim.lr_scheduler.PolynomialLR(o, 60, power=2.0),
    "OneCycleLR-cos": lambda T, o: T.optim.lr_scheduler.OneCycleLR(o, [1.0, 2.0],
                                                                   total_steps=101),
    "OneCycleLR-linear-3phase": lambda T, o: T.optim.lr_scheduler.OneCycleLR(
        o, 1.0, epochs=5, steps_per_epoch=21, anneal_strategy="linear", three_phase=True),
    "OneCycleLR-nomomentum": lambda T, o: T.optim.lr_scheduler.OneCycleLR(
        o, 0.5, total_steps=120, cycle_momentum=False, pct_start=0.45),
    "CyclicLR-triangular": lambda T, o: T.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, 9),
    "CyclicLR-triangular2": lambda T, o: T.optim.lr_scheduler.CyclicLR(
        o, [0.01, 0.02], 0.1, 6, 10, mode="triangular2"),
    "CyclicLR-exp_range": lambda T, o: T.optim.lr_scheduler.CyclicLR(
        o, 0.01, 0.1, 5, mode="exp_range", gamma=0.98, base_momentum=0.7),
    "CyclicLR-custom": lambda T, o: T.optim.lr_scheduler.CyclicLR(
        o, 0.01, 0.1, 4, scale_fn=Scale(0.9), scale_mode="iterations", cycle_momentum=False),
    "SequentialLR": lambda T, o: T.optim.lr_scheduler.SequentialLR(
        o, [T.optim.lr_scheduler.LinearLR(o, 0.1, total_iters=10),
            T.optim.lr_scheduler.ExponentialLR(o, 0.9),
            T.optim.lr_scheduler.CosineAnnealingLR(o, 20)], milestones=[10, 40]),
    "ChainedScheduler": lambda T, o: T.optim.lr_scheduler.ChainedScheduler(
        [T.optim.lr_scheduler.ConstantLR(o, 0.5, total_iters=12),
         T.optim.lr_scheduler.ExponentialLR(o, 0.97)]),
}
ADAM_ALSO = {"OneCycleLR-cos", "CyclicLR-triangular", "ReduceLROnPlateau"}


def _momenta(o):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in o.param_groups]


def _run(T, make, opt_name, steps, split=None):
    opt = _opt(T, opt_name)
    sched = make(T, opt)
    lrs, moms = [sched.get_last_lr()], [_momenta(opt)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(steps):
            opt.step()
            sched.step()
            if split is not None and i == split:
                sd = sched.state_dict()
                opt_sd = opt.state_dict()
                opt = _opt(T, opt_name)
                sched = make(T, opt)  # torch's order: scheduler first, then load both
                opt.load_state_dict(opt_sd)
                sched.load_state_dict(sd)
            lrs.append(sched.get_last_lr())
            moms.append(_momenta(opt))
    return lrs, moms, sched


PAIRS = [(k, "SGD") for k in sorted(SCHEDULERS)] + [(k, "Adam") for k in sorted(ADAM_ALSO)
                                                      if k in SCHEDULERS]


@pytest.mark.parametrize("key,opt_name", PAIRS)
def test_sequence_and_state_dict_match_torch(key, opt_name):
    make = SCHEDULERS[key]
    steps = 100

    def body(T):
        lrs, moms, sched = _run(T, make, opt_name, steps)
        return lrs, moms, sched.state_dict()
    compare(body, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("key", sorted(SCHEDULERS))
def test_state_dict_round_trip_mid_way_continues_identically(key):
    import numtorch
    make = SCHEDULERS[key]
    straight = _run(numtorch, make, "SGD", 100)
    resumed = _run(numtorch, make, "SGD", 100, split=49)
    assert straight[0] == resumed[0] and straight[1] == resumed[1]
    compare(lambda T: _run(T, make, "SGD", 100, split=49)[:2], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kwargs", [{}, {"mode": "max", "threshold_mode": "abs", "cooldown": 2},
                                    {"factor": 0.5, "patience": 2, "min_lr": [0.03, 0.05],
                                     "eps": 1e-3}])
def test_reduce_lr_on_plateau(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.94, 0.99, 0.8, 0.8, 0.8, 0.81, 0.82, 0.83] * 8

    def body(T):
        opt = _opt(T)
        sched = T.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        lrs = []
        for i, m in enumerate(metrics):
            sched.step(m if kwargs.get("mode") != "max" else -m)
            lrs.append(sched.get_last_lr())
            if i == 40:
                sd = sched.state_dict()
                sched = T.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
                sched.load_state_dict(sd)
        return lrs, sched.state_dict()
    compare(body, rtol=1e-12, atol=1e-15)


def test_closed_form_epoch_argument_and_deprecation_warning():
    def body(T):
        opt = _opt(T)
        sched = T.optim.lr_scheduler.StepLR(opt, 3, 0.5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step(7)
        return sched.get_last_lr(), [str(w.message)[:60] for w in caught]
    compare(body)


def test_initial_lr_and_resume_errors():
    def missing_initial(T):
        return T.optim.lr_scheduler.StepLR(_opt(T), 3, last_epoch=5)

    def not_an_optimizer(T):
        return T.optim.lr_scheduler.StepLR("sgd", 3)

    def groups(T):
        opt = _opt(T)
        T.optim.lr_scheduler.ExponentialLR(opt, 0.5)
        return [sorted(g) for g in opt.param_groups]
    same_error(missing_initial)
    same_error(not_an_optimizer)
    compare(groups)


def test_constructor_errors():
    bad = [
        lambda T, o: T.optim.lr_scheduler.ConstantLR(o, factor=2.0),
        lambda T, o: T.optim.lr_scheduler.LinearLR(o, start_factor=0),
        lambda T, o: T.optim.lr_scheduler.LinearLR(o, end_factor=1.5),
        lambda T, o: T.optim.lr_scheduler.LambdaLR(o, [lambda e: 1.0]),
        lambda T, o: T.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0),
        lambda T, o: T.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
        lambda T, o: T.optim.lr_scheduler.OneCycleLR(o, 0.1),
        lambda T, o: T.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=10, pct_start=2.0),
        lambda T, o: T.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=10,
                                                     anneal_strategy="exp"),
        lambda T, o: T.optim.lr_scheduler.CyclicLR(o, 0.1, 1.0, mode="nope"),
        lambda T, o: T.optim.lr_scheduler.CyclicLR(T.optim.Adagrad(o.param_groups[0]["params"]),
                                                   0.1, 1.0),
        lambda T, o: T.optim.lr_scheduler.ReduceLROnPlateau(o, factor=1.0),
        lambda T, o: T.optim.lr_scheduler.ReduceLROnPlateau(o, mode="avg"),
        lambda T, o: T.optim.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]),
        lambda T, o: T.optim.lr_scheduler.SequentialLR(o, [], []),
        lambda T, o: T.optim.lr_scheduler.SequentialLR(
            o, [T.optim.lr_scheduler.StepLR(o, 2)], [3]),
        lambda T, o: T.optim.lr_scheduler.ChainedScheduler(
            [T.optim.lr_scheduler.ReduceLROnPlateau(o)]),
    ]
    for fn in bad:
        same_error(lambda T: fn(T, _opt(T)))


def test_one_cycle_overstep_raises():
    def body(T):
        opt = _opt(T)
        sched = T.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(4):
                opt.step()
                sched.step()
    same_error(body)


def test_warnings_for_wrong_call_order_and_get_lr():
    def body(T):
        opt = _opt(T)
        sched = T.optim.lr_scheduler.StepLR(opt, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step()  # before optimizer.step()
            sched.get_lr()
        return [str(w.message)[:50] for w in caught]
    compare(body)


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.94, 0.99, 0.8, 0.8, 0.8, 0.81, 0.82] * 7
SCHEDULERS_AND_PLATEAU = dict(SCHEDULERS, ReduceLROnPlateau=lambda T, o:
                              T.optim.lr_scheduler.ReduceLROnPlateau(o, patience=2, cooldown=1))


def _advance(opt, sched, steps: int, start: int) -> list:
    lrs = []
    for i in range(start, start + steps):
        opt.step()
        if type(sched).__name__ == "ReduceLROnPlateau":
            sched.step(PLATEAU_METRICS[i])
        else:
            sched.step()
        lrs.append(sched.get_last_lr())
    return lrs


@pytest.mark.parametrize("direction", ["torch-to-numtorch", "numtorch-to-torch"])
@pytest.mark.parametrize("key", sorted(SCHEDULERS_AND_PLATEAU))
def test_scheduler_file_resumes_in_the_other_library(key, direction, tmp_path):
    """A scheduler and its optimizer saved together (torch.save / numtorch.save) and loaded by
    the other library (torch.load with weights_only=True) continue the same lr sequence."""
    import torch

    import numtorch
    src, dst = (torch, numtorch) if direction == "torch-to-numtorch" else (numtorch, torch)
    make = SCHEDULERS_AND_PLATEAU[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s_opt = _opt(src)
        s_sched = make(src, s_opt)
        _advance(s_opt, s_sched, 37, 0)
        src.save({"optimizer": s_opt.state_dict(), "scheduler": s_sched.state_dict()},
                 tmp_path / "run.pt")
        loaded = dst.load(tmp_path / "run.pt", weights_only=True)
        d_opt = _opt(dst)
        d_sched = make(dst, d_opt)
        d_opt.load_state_dict(loaded["optimizer"])
        d_sched.load_state_dict(loaded["scheduler"])
        expected = _advance(s_opt, s_sched, 40, 37)
        actual = _advance(d_opt, d_sched, 40, 37)
    np.testing.assert_allclose(np.array(actual), np.array(expected), rtol=1e-12, atol=1e-15)
    assert sorted(d_sched.state_dict()) == sorted(s_sched.state_dict())


def _tensor_lr_opt(T, name):
    ws = [T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True) for _ in range(2)]
    groups = [{"params": [w], "lr": T.tensor(0.1 * (i + 1))} for i, w in enumerate(ws)]
    if name == "SGD":
        return T.optim.SGD(groups, lr=T.tensor(0.1), momentum=0.9)
    return T.optim.Adam(groups, lr=T.tensor(0.01))


@pytest.mark.parametrize("key,opt_name", [(k, "Adam") for k in sorted(SCHEDULERS_AND_PLATEAU)
                                          if not k.startswith("CyclicLR")] +
                         [(k, "SGD") for k in sorted(SCHEDULERS) if k.startswith("CyclicLR")])
def test_scheduler_drives_a_tensor_lr(key, opt_name):
    """The lr stays the same (float32) tensor, filled in place, and float64 parameters follow
    it with torch's float32 step-size maths."""
    make = SCHEDULERS_AND_PLATEAU[key]

    def body(T):
        opt = _tensor_lr_opt(T, opt_name)
        lr_tensors = [g["lr"] for g in opt.param_groups]
        sched = make(T, opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(40):
                for g in opt.param_groups:
                    g["params"][0].grad = T.tensor([0.5, -1.0 + 0.05 * i], dtype=T.float64)
                _advance(opt, sched, 1, i)
        same = all(g["lr"] is t for g, t in zip(opt.param_groups, lr_tensors))
        return (same, sched.get_last_lr(), [g["params"][0].detach() for g in opt.param_groups],
                opt.state_dict(), sched.state_dict())
    compare(body, rtol=1e-12, atol=1e-12)


RESUMABLE = {
    "StepLR": lambda T, o, e: T.optim.lr_scheduler.StepLR(o, 7, 0.5, last_epoch=e),
    "CosineAnnealingLR": lambda T, o, e: T.optim.lr_scheduler.CosineAnnealingLR(
        o, 17, 0.001, last_epoch=e),
    "ExponentialLR": lambda T, o, e: T.optim.lr_scheduler.ExponentialLR(o, 0.96, last_epoch=e),
    "LinearLR": lambda T, o, e: T.optim.lr_scheduler.LinearLR(o, 0.2, 0.9, 40, last_epoch=e),
    "PolynomialLR": lambda T, o, e: T.optim.lr_scheduler.PolynomialLR(o, 60, 2.0, last_epoch=e),
    "CyclicLR": lambda T, o, e: T.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, 9, last_epoch=e),
    "OneCycleLR": lambda T, o, e: T.optim.lr_scheduler.OneCycleLR(o, [1.0, 2.0],
                                                                  total_steps=101, last_epoch=e),
}


@pytest.mark.parametrize("key", sorted(RESUMABLE))
def test_constructing_with_last_epoch_resumes_like_torch(key):
    """The old way of resuming: build the scheduler with last_epoch=k over param groups that
    already hold initial_lr (and max_lr/momentum entries)."""
    make = RESUMABLE[key]

    def body(T):
        opt = _opt(T)
        sched = make(T, opt, -1)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(9):
                opt.step()
                sched.step()
            sched = make(T, opt, 9)
            lrs.append(sched.get_last_lr())
            for _ in range(10):
                opt.step()
                sched.step()
                lrs.append(sched.get_last_lr())
        return lrs, _momenta(opt)
    compare(body, rtol=1e-12, atol=1e-15)
