"""swa_utils against torch: AveragedModel (SWA, EMA by avg_fn and multi_avg_fn, buffers),
SWALR's lr sequence and state dict, update_bn's recomputed statistics."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from harness import compare
from test_optim import same_error

RNG = np.random.default_rng(3)
SNAPSHOTS = [RNG.standard_normal((3, 4)).astype(np.float32) for _ in range(5)]
BATCHES = [RNG.standard_normal((6, 4)).astype(np.float32) for _ in range(4)]


def _model(T):
    model = T.nn.Sequential(T.nn.Linear(4, 3), T.nn.BatchNorm1d(3))
    with T.no_grad():
        model[0].weight.copy_(T.tensor(SNAPSHOTS[0]))
        model[0].bias.zero_()
    return model


def _swa_utils(T):
    import importlib
    return importlib.import_module(T.__name__ + ".optim.swa_utils")


@pytest.mark.parametrize("mode", ["swa", "ema_fn", "ema_multi", "swa_multi", "buffers"])
def test_averaged_model_matches_torch(mode):
    def body(T):
        swa = _swa_utils(T)
        model = _model(T)
        kwargs = {"swa": {}, "ema_fn": {"avg_fn": swa.get_ema_avg_fn(0.9)},
                  "ema_multi": {"multi_avg_fn": swa.get_ema_multi_avg_fn(0.8)},
                  "swa_multi": {"multi_avg_fn": swa.get_swa_multi_avg_fn()},
                  "buffers": {"use_buffers": True,
                              "multi_avg_fn": swa.get_ema_multi_avg_fn(0.5)}}[mode]
        averaged = swa.AveragedModel(model, **kwargs)
        for i, snap in enumerate(SNAPSHOTS):
            with T.no_grad():
                model[0].weight.copy_(T.tensor(snap))
                model[0].bias.fill_(float(i))
            model(T.tensor(BATCHES[i % 4]))  # moves BatchNorm's running statistics
            averaged.update_parameters(model)
        return averaged.state_dict(), averaged(T.tensor(BATCHES[0]))
    compare(body)


def test_update_bn_and_errors():
    def body(T):
        swa = _swa_utils(T)
        model = _model(T)
        model.eval()
        loader = [(T.tensor(b), 0) for b in BATCHES]
        swa.update_bn(loader, model)
        return model.state_dict(), model.training, model[1].momentum
    compare(body)
    same_error(lambda T: _swa_utils(T).get_ema_avg_fn(1.5))
    same_error(lambda T: _swa_utils(T).AveragedModel(
        _model(T), avg_fn=lambda *a: 0, multi_avg_fn=lambda *a: 0))


@pytest.mark.parametrize("kwargs", [{"swa_lr": 0.05}, {"swa_lr": [0.01, 0.02],
                                                      "anneal_epochs": 3,
                                                      "anneal_strategy": "linear"},
                                    {"swa_lr": 0.5, "anneal_epochs": 0}])
def test_swalr_sequence_and_state_dict(kwargs):
    def body(T):
        swa = _swa_utils(T)
        w = [T.tensor([1.0], requires_grad=True) for _ in range(2)]
        opt = T.optim.SGD([{"params": [w[0]]}, {"params": [w[1]], "lr": 0.3}], lr=0.1)
        sched = swa.SWALR(opt, **kwargs)
        lrs = [sched.get_last_lr()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(15):
                opt.step()
                sched.step()
                lrs.append(sched.get_last_lr())
                if i == 6:
                    sd = sched.state_dict()
                    sched = swa.SWALR(opt, **kwargs)
                    sched.load_state_dict(sd)
        return lrs, sched.state_dict()
    compare(body, rtol=1e-12, atol=1e-15)
    same_error(lambda T: _swa_utils(T).SWALR(
        T.optim.SGD([T.tensor([1.0], requires_grad=True)]), 0.1, anneal_strategy="exp"))
