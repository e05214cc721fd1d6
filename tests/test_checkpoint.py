"""Exact resume: N steps straight equal N/2 steps, a checkpoint, a NEW process restoring it and
N/2 more steps, bit for bit (parameters, optimizer state, every RNG state), with dropout and a
shuffling DataLoader; plus the atomic write and the bundle's contents."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import numtorch
from numtorch.checkpoint import (atomic_save, capture_rng_state, load_checkpoint,
                                 restore_rng_state, save_checkpoint)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TRAIN_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_resume_train.py")


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
    """Straight run vs. first part + checkpoint + NEW process restoring it: mid-epoch with a
    shuffling loader without generator (main process and two workers with random
    augmentation), and after an epoch with the loader's own generator; all with dropout."""
    prefix, straight, resumed = (str(tmp_path / n) for n in ("ckpt", "a.pt", "b.pt"))
    _run(TRAIN_SCRIPT, "straight", prefix, straight)
    _run(TRAIN_SCRIPT, "first", prefix, str(tmp_path / "unused.pt"))
    _run(TRAIN_SCRIPT, "resume", prefix, resumed)
    a, b = numtorch.load(straight), numtorch.load(resumed)
    assert [a[v]["steps_in_this_run"] for v in a] == [18, 18, 18]
    assert [b[v]["steps_in_this_run"] for v in b] == [9, 9, 6]
    for variant in a:
        del a[variant]["steps_in_this_run"], b[variant]["steps_in_this_run"]
        _assert_bit_identical(a[variant], b[variant], variant)


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


def _shuffled_loader(seed=None, workers=0):
    from numtorch.utils.data import DataLoader, TensorDataset
    generator = numtorch.Generator().manual_seed(seed) if seed is not None else None
    return DataLoader(TensorDataset(numtorch.arange(20)), batch_size=3, shuffle=True,
                      generator=generator, num_workers=workers)


def test_one_loader_mid_epoch_through_the_bundle(tmp_path):
    loader = _shuffled_loader(seed=1, workers=2)
    it = iter(loader)
    next(it), next(it)
    save_checkpoint(tmp_path / "c.pt", loaders=loader, step=2)
    rest = [b[0].tolist() for b in it]
    fresh = _shuffled_loader(seed=50, workers=2)
    info = load_checkpoint(tmp_path / "c.pt", loaders=fresh)
    assert sorted(info["loaders"]) == ["loader"] and info["loaders"]["loader"]["base_seed"]
    assert [b[0].tolist() for b in fresh] == rest and len(rest) == 5


def test_named_loaders_and_torch_reads_their_state(tmp_path):
    import torch
    train, val = _shuffled_loader(seed=2), _shuffled_loader()
    list(train)
    it = iter(val)
    next(it)
    save_checkpoint(tmp_path / "c.pt", loaders={"train": train, "val": val})
    bundle = torch.load(tmp_path / "c.pt", weights_only=True)
    assert list(bundle)[:3] == ["format", "version", "loaders"]
    assert bundle["loaders"]["train"]["finished"] is True
    assert bundle["loaders"]["val"]["batches_yielded"] == 1
    expected_train, expected_val = [b[0].tolist() for b in train], [b[0].tolist() for b in it]
    fresh_train, fresh_val = _shuffled_loader(seed=3), _shuffled_loader()
    load_checkpoint(tmp_path / "c.pt", loaders={"val": fresh_val, "train": fresh_train},
                    rng=False)
    assert [b[0].tolist() for b in fresh_train] == expected_train
    assert [b[0].tolist() for b in fresh_val] == expected_val


def test_loaders_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="loaders should be a DataLoader or a dict"):
        save_checkpoint(tmp_path / "c.pt", loaders=[_shuffled_loader()])
    save_checkpoint(tmp_path / "c.pt", loaders={"train": _shuffled_loader()})
    with pytest.raises(KeyError, match="no state for DataLoader 'val'; it holds \\['train'\\]"):
        load_checkpoint(tmp_path / "c.pt", loaders={"val": _shuffled_loader()})
    save_checkpoint(tmp_path / "d.pt", step=1)
    with pytest.raises(KeyError, match="no state for DataLoader 'loader'; it holds none"):
        load_checkpoint(tmp_path / "d.pt", loaders=_shuffled_loader())


def test_missing_state_is_reported_before_anything_changes(tmp_path):
    model, opt, sched = _small_setup(0)
    save_checkpoint(tmp_path / "c.pt", model=model, optimizer=opt,
                    generators={"g": numtorch.Generator()})
    model2, opt2, sched2 = _small_setup(1)
    before = model2.weight.detach().numpy().copy(), numtorch.get_rng_state().numpy().copy()
    for kwargs, words in [(dict(scheduler=sched2), "holds no scheduler state"),
                          (dict(loaders=_shuffled_loader()), "no state for DataLoader 'loader'"),
                          (dict(generators={"h": numtorch.Generator()}),
                           "no state for generator 'h'; it holds \\['g'\\]")]:
        with pytest.raises(KeyError, match=words):
            load_checkpoint(tmp_path / "c.pt", model=model2, optimizer=opt2, **kwargs)
        np.testing.assert_array_equal(model2.weight.detach().numpy(), before[0])
        np.testing.assert_array_equal(numtorch.get_rng_state().numpy(), before[1])
    state = capture_rng_state()
    numtorch.rand(3)
    with pytest.raises(KeyError, match="no state for generator 'x'"):
        restore_rng_state(state, {"x": numtorch.Generator()})
    assert not np.array_equal(numtorch.get_rng_state().numpy(), state["numtorch"].numpy())
