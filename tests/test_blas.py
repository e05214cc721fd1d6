"""``numtorch._blas.axpy`` (``y += alpha*x`` rounded once, as torch's ``add_(x, alpha=)``) and
the optimizers that use it: bit-identical to torch where NumPy's BLAS is found."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import numtorch
from numtorch import _blas
from harness import compare
from test_optim_chunked import threads  # noqa: F401  (fixture)

FUSED = pytest.mark.skipif(not _blas.fused_axpy_available(np.float32),
                           reason="NumPy's bundled OpenBLAS was not found: two-rounding fallback")


def _torch_fuses() -> bool:
    rng = np.random.default_rng(0)
    p, b = rng.standard_normal((2, 4096)).astype(np.float32)
    t = torch.tensor(p).add_(torch.tensor(b), alpha=0.9).numpy()
    return np.array_equal(t, (p.astype(np.float64) + np.float32(0.9) * b.astype(np.float64))
                          .astype(np.float32))


TORCH_FMA = pytest.mark.skipif(not _torch_fuses(), reason="torch's add_(alpha=) does not fuse "
                               "on this CPU")


@FUSED
@TORCH_FMA
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 15, 1000, 100003])
def test_axpy_is_torchs_add_with_alpha(dtype, n):
    rng = np.random.default_rng(n)
    for alpha in (-0.01, 0.9, 1e-4, 3):
        y, x = rng.standard_normal((2, n)).astype(dtype)
        want = torch.tensor(y).add_(torch.tensor(x), alpha=alpha).numpy()
        _blas.axpy(alpha, x, y)
        np.testing.assert_array_equal(y, want)


@FUSED
def test_axpy_layouts_aliasing_and_read_only():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((64, 48)).astype(np.float32)
    x = rng.standard_normal((64, 48)).astype(np.float32)
    want = base.copy()
    _blas.axpy(0.3, x, want)
    y = base.T.copy().T  # Fortran order: not C-contiguous
    _blas.axpy(0.3, np.asfortranarray(x), y)
    np.testing.assert_array_equal(y, want)
    y = base.copy()
    _blas.axpy(0.5, y, y)  # x is y
    np.testing.assert_array_equal(y, base + np.float32(0.5) * base)
    flat = base.reshape(-1).copy()
    expected = flat[:-1] + np.float32(2.0) * flat[1:].astype(np.float64)
    _blas.axpy(2.0, flat[1:], flat[:-1])  # overlapping: x is read as it was
    np.testing.assert_array_equal(flat[:-1], expected.astype(np.float32))
    frozen = base.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError):
        _blas.axpy(1.0, x, frozen)


def test_axpy_fallback_rounds_twice(monkeypatch):
    monkeypatch.setattr(_blas, "_kernels", {})
    rng = np.random.default_rng(2)
    y, x = rng.standard_normal((2, 999)).astype(np.float32)
    want = y + x * np.float32(0.9)
    _blas.axpy(0.9, x, y)
    np.testing.assert_array_equal(y, want)


@FUSED
@TORCH_FMA
@pytest.mark.parametrize("kw", [{"momentum": 0.9}, {}, {"momentum": 0.9, "nesterov": True,
                                                         "weight_decay": 0.01},
                                {"momentum": 0.5, "dampening": 0.1, "weight_decay": 0.1}])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_steps_are_bit_identical_to_torch(kw, dtype):
    """Small (flat) and large (chunked) parameters, 15 steps."""
    def body(T):
        rng = np.random.default_rng(3)
        params = [T.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
                  for s in ((300, 1000), (7,), (40, 30))]
        opt = T.optim.SGD(params, lr=0.05, **kw)
        for _ in range(15):
            for p in params:
                p.grad = T.tensor(rng.standard_normal(tuple(p.shape)).astype(dtype))
            opt.step()
        return [p.detach() for p in params], opt.state_dict()
    compare(body, rtol=0, atol=0)



@FUSED
@pytest.mark.parametrize("threads", [1, 3], indirect=True)
def test_axpy_kernels_give_the_same_result_on_any_thread_count(threads):
    """SGD over a parameter large enough for numtorch's threads: its chunks stay on one thread
    (OpenBLAS threads the axpy), with the same result as a single-threaded run."""
    def run():
        rng = np.random.default_rng(6)
        p = numtorch.tensor(rng.standard_normal(300_000).astype(np.float32),
                            requires_grad=True)
        opt = numtorch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
        for _ in range(3):
            p.grad = numtorch.tensor(rng.standard_normal(p.shape[0]).astype(np.float32))
            opt.step()
        return p.detach().numpy()
    got = run()
    numtorch.set_num_threads(1)
    np.testing.assert_array_equal(got, run())


def test_environment_variable_turns_the_fused_kernel_off():
    code = "import numpy, numtorch._blas as b; print(b.fused_axpy_available(numpy.float32))"
    env = dict(os.environ, NUMTORCH_FUSED_AXPY="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
