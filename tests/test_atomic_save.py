"""Saving to a path (``numtorch/_atomic.py``): atomic and durable, written around the page cache
when large, and behaving as torch.save does for links, permissions and bad paths."""
from __future__ import annotations

import os
import stat
import zipfile

import numpy as np
import pytest
import torch

import numtorch
from numtorch import _atomic


def _state(n: int = 300_000) -> dict:
    rng = np.random.default_rng(0)
    return {"w": numtorch.tensor(rng.standard_normal(n).astype(np.float32)),
            "b": numtorch.tensor(rng.integers(0, 9, 1001)),
            "h": numtorch.tensor(rng.standard_normal(77).astype(np.float16))}


def _check(path, state) -> None:
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None  # every CRC checks
    back = torch.load(path, weights_only=True)
    assert list(back) == list(state)
    for k in state:
        np.testing.assert_array_equal(back[k].numpy(), state[k].numpy())


@pytest.fixture
def small_direct(monkeypatch):
    """Write 'large' files around the page cache from 64 KiB on, through 16 KiB buffers."""
    monkeypatch.setattr(_atomic, "DIRECT_MIN", 64 << 10)
    monkeypatch.setattr(_atomic, "DIRECT_BUFFER", 16 << 10)
    opened = []
    real_open = _atomic._DirectStream.open.__func__

    def spy(cls, path, offset):
        stream = real_open(cls, path, offset)
        opened.append(stream)
        return stream
    monkeypatch.setattr(_atomic._DirectStream, "open", classmethod(spy))
    return opened


def test_large_save_written_around_page_cache_reads_back_in_torch(tmp_path, small_direct):
    state = _state()
    numtorch.save(state, tmp_path / "big.pt")
    assert small_direct, "the direct path was not tried"
    if small_direct[0] is None:
        pytest.skip("this file system cannot write with O_DIRECT")
    _check(tmp_path / "big.pt", state)
    assert os.listdir(tmp_path) == ["big.pt"]


def test_file_system_without_direct_io_falls_back_and_syncs_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic, "DIRECT_MIN", 1)
    monkeypatch.setattr(_atomic._DirectStream, "open", classmethod(lambda cls, p, o: None))
    monkeypatch.setattr(_atomic, "SYNC_EVERY", 4096)
    syncs = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (syncs.append(fd), real(fd)))
    state = _state()
    numtorch.save(state, tmp_path / "c.pt")
    assert syncs, "no background sync ran"
    _check(tmp_path / "c.pt", state)


@pytest.mark.parametrize("durable", [True, False])
def test_legacy_format_and_non_durable_saves(tmp_path, monkeypatch, small_direct, durable):
    monkeypatch.setattr(numtorch.serialization, "fsync_on_save", durable)
    state = _state(50_000)
    numtorch.save(state, tmp_path / "z.pt")
    _check(tmp_path / "z.pt", state)
    numtorch.save(state, tmp_path / "l.pt", _use_new_zipfile_serialization=False)
    back = torch.load(tmp_path / "l.pt", weights_only=True)
    np.testing.assert_array_equal(back["w"].numpy(), state["w"].numpy())


def test_failed_save_keeps_previous_file_and_leaves_no_temporary(tmp_path, small_direct):
    path = tmp_path / "c.pt"
    numtorch.save({"a": numtorch.ones(2)}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("cannot pickle this")
    with pytest.raises(RuntimeError, match="cannot pickle"):
        numtorch.save({"big": _state()["w"], "x": Unpicklable()}, path)
    assert os.listdir(tmp_path) == ["c.pt"]
    np.testing.assert_array_equal(numtorch.load(path)["a"].numpy(), np.ones(2, np.float32))


def test_save_through_symlink_writes_the_target_as_torch(tmp_path):
    for mod, name in ((torch, "t"), (numtorch, "n")):
        target = tmp_path / f"{name}_target.pt"
        target.write_bytes(b"old")
        link = tmp_path / f"{name}_link.pt"
        link.symlink_to(target)
        mod.save({"a": mod.ones(2)}, link)
        assert link.is_symlink()
        assert torch.load(target, weights_only=True)["a"].tolist() == [1.0, 1.0]


def test_existing_file_keeps_its_permissions_new_file_gets_umask(tmp_path):
    path = tmp_path / "private.pt"
    path.write_bytes(b"")
    os.chmod(path, 0o600)
    numtorch.save({"a": numtorch.ones(1)}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    torch.save({"a": torch.ones(1)}, tmp_path / "t.pt")
    numtorch.save({"a": numtorch.ones(1)}, tmp_path / "n.pt")
    assert os.stat(tmp_path / "n.pt").st_mode == os.stat(tmp_path / "t.pt").st_mode


def test_bad_paths_raise_torchs_errors(tmp_path):
    for mod in (torch, numtorch):
        with pytest.raises(RuntimeError, match=f"Parent directory {tmp_path / 'nope'} does not "
                                               "exist."):
            mod.save({}, tmp_path / "nope" / "x.pt")
        with pytest.raises(RuntimeError, match="Is a directory"):
            mod.save({}, tmp_path)
