"""Large parameters are updated in chunks on several threads (``optim/_chunked.py``): the result
must be bit-identical to one update over the whole tensor, and match torch."""
from __future__ import annotations

import numpy as np
import pytest

import numtorch
from numtorch.optim import _chunked, _flat
from test_optim import CASES

ELEMENTWISE = [(name, kw) for name, kw in CASES
               if getattr(numtorch.optim, name)._ELEMENTWISE]
# larger than a flat group (``_flat.py``), several chunks and a ragged last one
N = max(_chunked.MIN_CHUNKED, _flat.MAX_FLAT_ELEMENTS) + _chunked.CHUNK + 123


def _run(T, name, kw, steps=3, dtype=np.float32, complex_=False):
    rng = np.random.default_rng(1)
    shape = (N // 3, 3)
    p0 = rng.standard_normal(shape).astype(dtype)
    if complex_:
        p0 = p0 + 1j * rng.standard_normal(shape).astype(dtype)
    p = T.tensor(p0, requires_grad=True)
    opt = getattr(T.optim, name)([p], **kw)
    for i in range(steps):
        g = rng.standard_normal(shape).astype(dtype)
        if complex_:
            g = g + 1j * rng.standard_normal(shape).astype(dtype)
        p.grad = T.tensor(g)
        opt.step()
    state = {k: v.numpy().copy() if hasattr(v, "numpy") else v
             for k, v in opt.state_dict()["state"].get(0, {}).items()}
    return p.detach().numpy().copy(), state


@pytest.fixture
def threads(request, monkeypatch):
    """numtorch's thread count for the test, with small per-thread work so threads are used."""
    monkeypatch.setattr(_chunked, "MIN_PER_THREAD", 1)
    monkeypatch.setattr(_chunked, "PARALLEL_CHUNK", 1 << 16)
    before = numtorch.get_num_threads()
    numtorch.set_num_threads(request.param)
    yield request.param
    numtorch.set_num_threads(before)


@pytest.mark.parametrize("threads", [2], indirect=True)
@pytest.mark.parametrize("name,kw", ELEMENTWISE, ids=[f"{n}-{kw}" for n, kw in ELEMENTWISE])
def test_chunked_update_is_bit_identical_to_whole_tensor(name, kw, monkeypatch, threads):
    chunked = _run(numtorch, name, kw)
    monkeypatch.setattr(_chunked, "MIN_CHUNKED", 1 << 62)
    whole = _run(numtorch, name, kw)
    np.testing.assert_array_equal(chunked[0], whole[0])
    assert chunked[1].keys() == whole[1].keys()
    for k in whole[1]:
        np.testing.assert_array_equal(chunked[1][k], whole[1][k], err_msg=k)


@pytest.mark.parametrize("threads", [1, 3], indirect=True)
@pytest.mark.parametrize("name,kw", [("Adam", {"lr": 0.01, "amsgrad": True}),
                                     ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
                                     ("RMSprop", {"lr": 0.01, "centered": True,
                                                  "maximize": True})])
def test_chunked_update_matches_torch_for_any_thread_count(name, kw, threads):
    import torch
    actual = _run(numtorch, name, kw)
    expected = _run(torch, name, kw)
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-5, atol=1e-6)
    for k in expected[1]:
        np.testing.assert_allclose(actual[1][k], expected[1][k], rtol=1e-5, atol=1e-6)


def test_chunked_complex_and_float64_match_whole_tensor(monkeypatch):
    kw = {"lr": 0.01, "weight_decay": 0.1}
    runs = [_run(numtorch, "Adam", kw, dtype=np.float64), _run(numtorch, "Adam", kw,
                                                               complex_=True)]
    monkeypatch.setattr(_chunked, "MIN_CHUNKED", 1 << 62)
    for got, (dt, cx) in zip(runs, [(np.float64, False), (np.float32, True)]):
        want = _run(numtorch, "Adam", kw, dtype=dt, complex_=cx)
        np.testing.assert_array_equal(got[0], want[0])


def test_non_contiguous_state_falls_back_to_whole_tensor():
    p = numtorch.zeros(N, 2, requires_grad=True)
    opt = numtorch.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = numtorch.ones(N, 2)
    opt.step()
    opt.state[p]["momentum_buffer"] = numtorch.ones(2, N).t()  # a transposed (strided) buffer
    p.grad = numtorch.ones(N, 2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), -0.1 - 0.1 * 1.9, rtol=1e-6)


def test_set_num_threads_errors_match_torch():
    import torch
    for bad in (0, -2, 1.5, True):
        for mod in (torch, numtorch):
            with pytest.raises(RuntimeError) as info:
                mod.set_num_threads(bad)
            if mod is torch:
                expected = str(info.value)
        assert str(info.value) == expected


@pytest.mark.parametrize("name,kw", [("Adam", {"lr": 0.01}), ("SGD", {"lr": 0.05, "momentum": 0.9}),
                                     ("NAdam", {"lr": 0.01, "weight_decay": 0.1})])
@pytest.mark.parametrize("threads", [2], indirect=True)
def test_group_of_small_and_large_parameters(name, kw, monkeypatch, threads):
    """Small parameters go flat, large ones chunked; the same numbers as one path for all, and
    as torch."""
    import torch

    def run(T):
        rng = np.random.default_rng(3)
        shapes = [(7,), (_flat.MAX_FLAT_PARAM + 5,), (3, 4), (2, _flat.MAX_FLAT_PARAM // 2 + 1)]
        ps = [T.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
              for s in shapes]
        opt = getattr(T.optim, name)(ps, **kw)
        for _ in range(3):
            for p, s in zip(ps, shapes):
                p.grad = T.tensor(rng.standard_normal(s).astype(np.float32))
            opt.step()
        return [p.detach().numpy().copy() for p in ps]

    mixed = run(numtorch)
    expected = run(torch)
    monkeypatch.setattr(_flat, "MAX_FLAT_ELEMENTS", 0)  # no flat plan: every parameter alone
    alone = run(numtorch)
    for m, a, e in zip(mixed, alone, expected):
        np.testing.assert_array_equal(m, a)
        np.testing.assert_allclose(m, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("threads", [2], indirect=True)
def test_large_parameter_listed_twice_is_stepped_twice_in_order(threads):
    import torch

    def run(T):
        rng = np.random.default_rng(4)
        big = T.tensor(rng.standard_normal(_flat.MAX_FLAT_PARAM + 9).astype(np.float32),
                       requires_grad=True)
        other = T.tensor(rng.standard_normal(_flat.MAX_FLAT_PARAM * 2).astype(np.float32),
                         requires_grad=True)
        opt = T.optim.SGD([big, other, big], lr=0.1, momentum=0.9)
        for _ in range(3):
            big.grad = T.tensor(rng.standard_normal(big.shape).astype(np.float32))
            other.grad = T.tensor(rng.standard_normal(other.shape).astype(np.float32))
            opt.step()
        return big.detach().numpy().copy(), other.detach().numpy().copy()

    for a, e in zip(run(numtorch), run(torch)):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)
