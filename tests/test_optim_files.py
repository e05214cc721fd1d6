"""Optimizer state dicts moving between torch and numtorch through files: ``torch.save`` of a
torch optimizer's ``state_dict()`` read by ``numtorch.load`` drives a numtorch optimizer to the
same next steps as torch's optimizer loaded from the same file, and a file written by
``numtorch.save`` does the same for ``torch.load(weights_only=True)``, for every optimizer in
float32 and float64 (tensor lr and betas too). Both sides load: loading casts state such as
``mu_product`` to the parameters' dtype, so a loaded optimizer may differ in the last bits from
the one that kept running."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import numtorch
from harness import assert_same
from test_optim import train
from test_optim_state import ALL, STATEFUL_KW, _continue, _fresh

TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
CASES = [(name, STATEFUL_KW[name]) for name in ALL] + [
    ("Adam", {"lr": "tensor", "betas": "tensor", "weight_decay": 0.1}),  # see test_optim_hyper
    ("Adagrad", {"lr": "tensor", "lr_decay": 0.01}),
]


def _kwargs(T, kwargs: dict) -> dict:
    kw = dict(kwargs)
    if kw.get("lr") == "tensor":
        kw["lr"] = T.tensor(0.01)
    if kw.get("betas") == "tensor":
        kw["betas"] = (T.tensor(0.9), T.tensor(0.95))
    return kw


def _ids():
    return [f"{n}-{'-'.join(kw) or 'plain'}" for n, kw in CASES]


def _resume_in_both(path, name: str, kwargs: dict, like_params, dtype) -> None:
    """Load ``path`` into a fresh torch and a fresh numtorch optimizer: the same state, and the
    same 30 next steps."""
    t_opt, t_params = _fresh(torch, name, _kwargs(torch, kwargs), like_params)
    t_opt.load_state_dict(torch.load(path, weights_only=True))
    n_opt, n_params = _fresh(numtorch, name, _kwargs(numtorch, kwargs), like_params)
    n_opt.load_state_dict(numtorch.load(path))
    assert_same(t_opt.state_dict(), n_opt.state_dict(), rtol=0, atol=0)
    assert_same(_continue(torch, t_opt, t_params, 30), _continue(numtorch, n_opt, n_params, 30),
                **TOL[dtype])
    assert_same(t_opt.state_dict(), n_opt.state_dict(), **TOL[dtype])


@pytest.mark.usefixtures("torch_f32_sqrt")
@DTYPES
@pytest.mark.parametrize("name,kwargs", CASES, ids=_ids())
def test_torch_file_resumes_in_numtorch_as_in_torch(name, kwargs, dtype, tmp_path):
    t_opt, t_params = train(torch, name, _kwargs(torch, kwargs), dtype, steps=30)
    torch.save(t_opt.state_dict(), tmp_path / "opt.pt")
    _resume_in_both(tmp_path / "opt.pt", name, kwargs, t_params, dtype)


@pytest.mark.usefixtures("torch_f32_sqrt")
@DTYPES
@pytest.mark.parametrize("name,kwargs", CASES, ids=_ids())
def test_numtorch_file_resumes_in_torch_as_in_numtorch(name, kwargs, dtype, tmp_path):
    n_opt, n_params = train(numtorch, name, _kwargs(numtorch, kwargs), dtype, steps=30)
    numtorch.save(n_opt.state_dict(), tmp_path / "opt.pt")
    _resume_in_both(tmp_path / "opt.pt", name, kwargs, n_params, dtype)
