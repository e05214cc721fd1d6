"""Exact resume: N steps straight equal N/2 steps, a checkpoint, a NEW process restoring it and
N/2 more steps, bit for bit (parameters, optimizer state, every RNG state), with dropout and a
shuffling DataLoader; plus the atomic write and the bundle's contents."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import numtorch
from numtorch.checkpoint import (atomic_save, capture_rng_state, load_checkpoint,
                                 restore_rng_state, save_checkpoint)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRAIN_SCRIPT = textwrap.dedent('''
    """Train a dropout MLP; modes: straight N, first half + save, restore + second half."""
    import random
    import sys

    import numpy as np

    import numtorch as torch
    from numtorch.checkpoint import load_checkpoint, save_checkpoint
    from numtorch.utils.data import DataLoader, TensorDataset

    mode, ckpt, out, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    half = total // 2
    data = np.random.default_rng(0)
    X = torch.tensor(data.standard_normal((48, 4)).astype(np.float32))
    Y = torch.tensor(data.standard_normal((48, 1)).astype(np.float32))

    torch.manual_seed(1234 if mode != "resume" else 999)  # resume must not depend on it
    random.seed(5)
    np.random.seed(6)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                                torch.nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.7)
    loader_gen = torch.Generator().manual_seed(77)
    loader = DataLoader(TensorDataset(X, Y), batch_size=16, shuffle=True, generator=loader_gen)
    loss_fn = torch.nn.MSELoss()

    def epoch():
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y) + 0.001 * random.random() + 0.001 * np.random.rand()
            loss.backward()
            optimizer.step()
        scheduler.step()

    start = 0
    if mode == "resume":
        info = load_checkpoint(ckpt, model=model, optimizer=optimizer, scheduler=scheduler,
                               generators={"loader": loader_gen})
        start = info["epoch"]
        assert info["extra"] == {"note": "half way"}, info["extra"]
    stop = half if mode == "first" else total
    for _ in range(start, stop):
        epoch()
    if mode == "first":
        save_checkpoint(ckpt, model=model, optimizer=optimizer, scheduler=scheduler,
                        epoch=stop, generators={"loader": loader_gen},
                        extra={"note": "half way"})
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state(),
                "loader_rng": loader_gen.get_state(), "py": list(random.getstate()[1]),
                "np": torch.tensor(np.random.get_state()[1].astype(np.int64))}, out)
''')


def _run(script: str, *args: str) -> None:
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _assert_bit_identical(a, b, path="result"):
    if isinstance(a, numtorch.Tensor):
        assert isinstance(b, numtorch.Tensor) and a.dtype == b.dtype, path
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=path)
        return
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            _assert_bit_identical(a[k], b[k], f"{path}[{k!r}]")
        return
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_bit_identical(x, y, f"{path}[{i}]")
        return
    assert a == b and type(a) is type(b), f"{path}: {a!r} != {b!r}"


def test_resume_in_new_process_is_bit_identical(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    ckpt, straight, resumed = (str(tmp_path / n) for n in ("ckpt.pt", "a.pt", "b.pt"))
    _run(str(script), "straight", ckpt, straight, "6")
    _run(str(script), "first", ckpt, str(tmp_path / "half.pt"), "6")
    _run(str(script), "resume", ckpt, resumed, "6")
    a, b = numtorch.load(straight), numtorch.load(resumed)
    _assert_bit_identical(a, b)
    half = numtorch.load(str(tmp_path / "half.pt"))
    assert not np.array_equal(half["model"]["0.weight"].numpy(), a["model"]["0.weight"].numpy())


def _small_setup(seed: int = 0):
    numtorch.manual_seed(seed)
    model = numtorch.nn.Linear(3, 2)
    opt = numtorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = numtorch.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    model(numtorch.ones(1, 3)).sum().backward()
    opt.step()
    sched.step()
    return model, opt, sched


def test_bundle_contents_and_torch_can_read_it(tmp_path):
    import torch
    model, opt, sched = _small_setup()
    path = tmp_path / "c.pt"
    save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, step=7, epoch=2,
                    extra={"best": 0.5})
    bundle = torch.load(path, weights_only=True)
    assert list(bundle) == ["format", "version", "model", "optimizer", "scheduler", "rng",
                            "step", "epoch", "extra"]
    assert bundle["step"] == 7 and bundle["epoch"] == 2 and bundle["extra"] == {"best": 0.5}
    assert sorted(bundle["rng"]) == ["numpy", "numtorch", "python"]
    t_opt = torch.optim.SGD(torch.nn.Linear(3, 2).parameters(), lr=0.1, momentum=0.9)
    t_opt.load_state_dict(bundle["optimizer"])
    np.testing.assert_array_equal(t_opt.state_dict()["state"][0]["momentum_buffer"].numpy(),
                                  opt.state_dict()["state"][0]["momentum_buffer"].numpy())
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []


def test_load_restores_into_fresh_objects_and_rng(tmp_path):
    model, opt, sched = _small_setup(0)
    path = tmp_path / "c.pt"
    save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, step=3)
    expected_draw = numtorch.rand(4)
    expected_py = __import__("random").random()
    model2, opt2, sched2 = _small_setup(1)
    info = load_checkpoint(path, model=model2, optimizer=opt2, scheduler=sched2)
    assert info["step"] == 3
    np.testing.assert_array_equal(numtorch.rand(4).numpy(), expected_draw.numpy())
    assert __import__("random").random() == expected_py
    np.testing.assert_array_equal(model2.weight.detach().numpy(), model.weight.detach().numpy())
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_rng_capture_and_restore_round_trip():
    gen = numtorch.Generator().manual_seed(3)
    state = capture_rng_state({"g": gen})
    draws = (numtorch.rand(3).numpy().copy(), np.random.rand(), gen.get_state().numpy().copy())
    numtorch.rand(5, generator=gen)
    restore_rng_state(state, {"g": gen})
    assert np.array_equal(numtorch.rand(3).numpy(), draws[0]) and np.random.rand() == draws[1]
    with pytest.raises(KeyError, match="no state for generator 'h'"):
        restore_rng_state(state, {"h": gen})


def test_atomic_save_leaves_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "c.pt"
    atomic_save({"a": numtorch.ones(2)}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle this")
    with pytest.raises(Exception):
        atomic_save({"a": Unpicklable()}, path)
    assert os.listdir(tmp_path) == ["c.pt"]
    np.testing.assert_array_equal(numtorch.load(path)["a"].numpy(), np.ones(2, np.float32))


def test_load_checkpoint_refuses_other_files(tmp_path):
    path = tmp_path / "plain.pt"
    numtorch.save({"model": {}}, path)
    with pytest.raises(ValueError, match="is not a numtorch checkpoint"):
        load_checkpoint(path)
    save_checkpoint(tmp_path / "c.pt", step=1)
    with pytest.raises(KeyError, match="holds no model state"):
        load_checkpoint(tmp_path / "c.pt", model=numtorch.nn.Linear(1, 1))
