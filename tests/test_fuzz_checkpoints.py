"""Corrupt, truncated and random input: load raises a clean error, never crashes, hangs or
returns a tensor that reads outside its storage.

Allowed outcomes: a successful load, ``CheckpointError``/``RuntimeError`` (torch's own wording for
a bad magic number or protocol) or ``pickle.UnpicklingError``. Anything else (TypeError,
KeyError, IndexError, struct.error, MemoryError, RecursionError, zipfile.BadZipFile ...) fails.
"""
from __future__ import annotations

import io
import os
import pickle
import tempfile
import time
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numtorch

CLEAN = (RuntimeError, pickle.UnpicklingError)  # CheckpointError is a RuntimeError


def _sample(T):
    a = T.tensor(np.arange(24, dtype=np.float32).reshape(4, 6))
    return {"a": a, "t": a.t(), "half": T.ones(3, dtype=T.float16), "n": [1, 2.5, "x"],
            "od": __import__("collections").OrderedDict(b=T.arange(4))}


def _torch_zip() -> bytes:
    buf = io.BytesIO()
    torch.save(_sample(torch), buf)
    return buf.getvalue()


def _numtorch_zip() -> bytes:
    buf = io.BytesIO()
    numtorch.save(_sample(numtorch), buf)
    return buf.getvalue()


def _legacy() -> bytes:
    buf = io.BytesIO()
    torch.save(_sample(torch), buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


FILES = {"torch_zip": _torch_zip(), "numtorch_zip": _numtorch_zip(), "legacy": _legacy()}


def _check_tensors(obj) -> None:
    """Every loaded tensor's view lies inside its own buffer (values readable)."""
    if isinstance(obj, numtorch.Tensor):
        arr = obj._data
        if arr.size:
            np.asarray(arr).tobytes()
    elif isinstance(obj, dict):
        for v in obj.values():
            _check_tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _check_tensors(v)


def load_cleanly(data: bytes, **kw) -> None:
    """Load ``data`` (from a file when memory-mapping: mmap needs a path)."""
    t0 = time.perf_counter()
    try:
        if kw.get("mmap"):
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "fuzz.pt")
                with open(path, "wb") as f:
                    f.write(data)
                _check_tensors(numtorch.load(path, **kw))
        else:
            _check_tensors(numtorch.load(io.BytesIO(data), **kw))
    except CLEAN:
        pass
    assert time.perf_counter() - t0 < 5, "load took too long"


@pytest.mark.parametrize("name", list(FILES))
def test_truncated_at_every_offset(name):
    data = FILES[name]
    step = max(1, len(data) // 400)
    for n in range(0, len(data), step):
        load_cleanly(data[:n])


@pytest.mark.parametrize("name", list(FILES))
def test_flipped_bytes_in_headers_and_pickle(name):
    data = FILES[name]
    rng = np.random.default_rng(1)
    if name == "legacy":
        regions = [(0, len(data) - 200)]
    else:
        z = zipfile.ZipFile(io.BytesIO(data))
        pkl = next(i for i in z.infolist() if i.filename.endswith("data.pkl"))
        cd = len(data) - 400
        regions = [(0, pkl.header_offset + 64 + pkl.file_size), (cd, len(data))]
    for lo, hi in regions:
        for pos in range(lo, hi):
            for value in (0x00, 0xFF, int(rng.integers(256))):
                mutated = bytearray(data)
                mutated[pos] = value
                load_cleanly(bytes(mutated))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=2048))
def test_random_bytes(data):
    load_cleanly(data)
    load_cleanly(b"PK\x03\x04" + data)
    load_cleanly(FILES["legacy"][:64] + data)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_pickles_inside_a_valid_zip(data):
    """Arbitrary pickle bytes as data.pkl next to real storages, in both trust-free modes."""
    src = zipfile.ZipFile(io.BytesIO(FILES["numtorch_zip"]))
    pkl = src.read("archive/data.pkl")
    cut = data.draw(st.integers(0, len(pkl)))
    junk = data.draw(st.binary(max_size=64))
    evil = pkl[:cut] + junk + pkl[cut + len(junk):]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info in src.infolist():
            z.writestr(info.filename, evil if info.filename.endswith("data.pkl")
                       else src.read(info.filename))
    load_cleanly(buf.getvalue())
    load_cleanly(buf.getvalue(), unknown_globals="placeholder")
    load_cleanly(buf.getvalue(), mmap=True)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(max_size=512))
def test_random_safetensors(data, tmp_path_factory):
    import struct
    path = tmp_path_factory.mktemp("st") / "x.safetensors"
    for raw in (data, struct.pack("<Q", len(data)) + data):
        path.write_bytes(raw)
        try:
            numtorch.serialization.load_safetensors(path)
        except CLEAN:
            pass


# weights_only=False imports what the pickle names: a mangled name fails as in torch
TRUSTING_CLEAN = CLEAN + (ImportError, AttributeError)


@pytest.mark.parametrize("name", list(FILES))
def test_corrupt_files_under_weights_only_false(name):
    """Flipped bytes in the pickle and truncation: clear errors with code-running loads too."""
    data = FILES[name]
    if name == "legacy":
        lo, hi = 0, len(data) - 200
    else:
        z = zipfile.ZipFile(io.BytesIO(data))
        pkl = next(i for i in z.infolist() if i.filename.endswith("data.pkl"))
        lo, hi = pkl.header_offset + 30 + len(pkl.filename), pkl.header_offset + 64 + \
            pkl.file_size
    rng = np.random.default_rng(2)
    cases = [data[:n] for n in range(0, len(data), max(1, len(data) // 200))]
    for pos in range(lo, hi):
        for value in (0x00, int(rng.integers(256))):
            mutated = bytearray(data)
            mutated[pos] = value
            cases.append(bytes(mutated))
    for case in cases:
        try:
            _check_tensors(numtorch.load(io.BytesIO(case), weights_only=False))
        except TRUSTING_CLEAN:
            pass
