"""Shared checks for the layer tests (tests/test_layers_*.py).

``check_layer`` builds a layer under torch, copies its state into the numtorch layer through
NumPy, runs the same inputs forward and the same output gradient backward under both, and
compares outputs (with grad_fn names), input gradients, parameter gradients and the state after
the step. ``check_structure`` compares parameter names and shapes, buffers, state_dict keys and
the repr.
"""
from __future__ import annotations

import numpy as np
import torch

import numtorch
from harness import compare

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def rand(*shape, dtype=np.float32, seed=0) -> np.ndarray:
    """Standard-normal data of ``shape`` and ``dtype``."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def torch_state(factory, dtype=np.float32, seed=0) -> dict:
    """The state_dict of ``factory(torch)`` (seeded) as NumPy arrays."""
    torch.manual_seed(seed)
    ref = factory(torch)
    if dtype == np.float64:
        ref = ref.double()
    return {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}


def run_layer(T, factory, state: dict, inputs: list, *, dtype=np.float32, train: bool = True,
              steps: int = 1, grad_seed: int = 1) -> dict:
    """Build ``factory(T)``, load ``state``, run ``steps`` forward/backward passes on
    ``inputs`` and report what happened."""
    m = factory(T)
    if dtype == np.float64:
        m = m.double()
    m.load_state_dict({k: T.tensor(v) for k, v in state.items()})
    m.train(train)
    xs = [T.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    outs = []
    for step in range(steps):
        out = m(*xs)
        if isinstance(out, tuple):
            outs.append(out[1])
            out = out[0]
        outs.append(out)
        g = rand(*tuple(out.shape), dtype=out.detach().numpy().dtype, seed=grad_seed + step)
        out.backward(T.tensor(g))
    return {"outputs": outs,
            "input_grads": [x.grad for x in xs if x.requires_grad],
            "param_grads": {n: p.grad for n, p in m.named_parameters()},
            "state": m.state_dict()}


def check_layer(factory, inputs: list, *, dtype=np.float32, train: bool = True, steps: int = 1,
                seed: int = 0, rtol=None, atol=None, check_grad_fn: bool = True):
    """Assert the layer ``factory(T)`` behaves as torch's on ``inputs`` (NumPy arrays)."""
    state = torch_state(factory, dtype, seed)
    tol = TOL[dtype]
    compare(run_layer, factory, state, inputs, dtype=dtype, train=train, steps=steps,
            rtol=rtol or tol["rtol"], atol=atol if atol is not None else tol["atol"],
            check_grad_fn=check_grad_fn)


def structure(T, factory) -> dict:
    """Names, shapes, dtypes and flags of a freshly built layer, its state_dict keys and repr."""
    m = factory(T)
    return {"params": [(n, tuple(p.shape), str(p.dtype), p.requires_grad)
                       for n, p in m.named_parameters()],
            "buffers": [(n, tuple(b.shape), str(b.dtype)) for n, b in m.named_buffers()],
            "keys": list(m.state_dict().keys()),
            "repr": repr(m),
            "training": m.training}


def check_structure(factory) -> None:
    """Assert ``factory(T)`` has torch's parameters, buffers, keys and repr."""
    compare(structure, factory)


def sample_params(T, factory, name: str, count: int = 1) -> np.ndarray:
    """Values of parameter ``name`` over ``count`` fresh layers, concatenated."""
    values = []
    for i in range(count):
        T.manual_seed(i)
        values.append(getattr(factory(T), name).detach().numpy().ravel().copy())
    return np.concatenate(values)


def assert_uniform(values: np.ndarray, bound: float) -> None:
    """Values look drawn from U(-bound, bound): inside it, reaching its ends, right spread."""
    assert np.all(np.abs(values) <= bound + 1e-7), "values outside the bound"
    assert np.abs(values).max() > bound * 0.95, "values do not reach the bound"
    std = bound / np.sqrt(3)
    assert abs(values.std() - std) < 0.05 * std, (values.std(), std)
    assert abs(values.mean()) < 0.1 * std


__all__ = ["rand", "check_layer", "check_structure", "run_layer", "structure", "torch_state",
           "sample_params", "assert_uniform", "numtorch"]
