"""safetensors against the ``safetensors`` package, through both of numtorch's paths: the
package's NumPy API (when installed) and numtorch's own reader and writer (the fallback)."""
from __future__ import annotations

import json
import struct

import ml_dtypes
import numpy as np
import pytest
import safetensors
import safetensors.numpy

from numtorch._tensor import _from_array
from numtorch.serialization import CheckpointError, load_safetensors, safe_open, save_safetensors
from numtorch.serialization import safetensors as st_module

ARRAYS = {"w": np.arange(12, dtype=np.float32).reshape(3, 4), "i": np.arange(5),
          "b16": np.linspace(-2, 2, 6).astype(ml_dtypes.bfloat16),
          "f8": np.linspace(-2, 2, 6).astype(ml_dtypes.float8_e4m3fn),
          "fnuz": np.linspace(-2, 2, 4).astype(ml_dtypes.float8_e5m2fnuz),
          "flag": np.array([True, False]), "s": np.array(2.5, np.float32),
          "e": np.zeros((0, 2), np.float16), "c": np.array([1 + 2j], np.complex64),
          "u16": np.array([1, 65535], np.uint16)}


@pytest.fixture(params=[True, False], ids=["package", "own"])
def path_kind(request, monkeypatch):
    monkeypatch.setattr(st_module, "use_package", request.param)
    return request.param


def _tensors(arrays=ARRAYS) -> dict:
    """numtorch tensors over copies of ``arrays`` (from_numpy refuses bfloat16, as torch)."""
    return {k: _from_array(v.copy()) for k, v in arrays.items()}


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def test_saved_files_are_the_packages_bytes(path_kind, tmp_path):
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    save_safetensors(_tensors(), ours, metadata={"format": "np"})
    safetensors.numpy.save_file(ARRAYS, theirs, metadata={"format": "np"})
    assert ours.read_bytes() == theirs.read_bytes()
    with safetensors.safe_open(ours, "np") as f:
        assert f.metadata() == {"format": "np"}
        for k in ("w", "i", "b16", "s", "e", "c", "u16"):
            _same(f.get_tensor(k), ARRAYS[k])


def test_package_files_load(path_kind, tmp_path):
    path = tmp_path / "p.safetensors"
    safetensors.numpy.save_file(ARRAYS, path)
    got = load_safetensors(path)
    assert list(got) == list(safe_open(path).keys())
    for k, v in ARRAYS.items():
        _same(got[k]._data, v)
        got[k]._data[...] = got[k]._data  # loaded tensors are writable
    package_only = {k: v for k, v in ARRAYS.items() if not k.startswith("f")}
    safetensors.numpy.save_file(package_only, path)
    for k, v in load_safetensors(path).items():
        _same(v._data, package_only[k])


def test_complex128_is_refused_like_the_package(path_kind, tmp_path):
    arrays = {"z": np.array([1 + 1j])}
    with pytest.raises(Exception, match="complex128"):
        safetensors.numpy.save_file(arrays, tmp_path / "p.safetensors")
    with pytest.raises(ValueError, match="Unknown dtype \"complex128\""):
        save_safetensors(_tensors(arrays), tmp_path / "n.safetensors")
    assert not list(tmp_path.iterdir())


def test_metadata_values_must_be_strings(path_kind, tmp_path):
    with pytest.raises(TypeError):
        safetensors.numpy.save_file({"a": ARRAYS["w"]}, tmp_path / "p.safetensors",
                                    metadata={"a": 1})
    with pytest.raises(TypeError, match="argument 'metadata'"):
        save_safetensors(_tensors({"a": ARRAYS["w"]}), tmp_path / "n.safetensors",
                         metadata={"a": 1})


@pytest.mark.parametrize("metadata", [None, {}, {"k": "v"}])
def test_metadata_as_the_package_reports_it(metadata, path_kind, tmp_path):
    path = tmp_path / "m.safetensors"
    save_safetensors(_tensors({"a": ARRAYS["w"]}), path, metadata=metadata)
    with safetensors.safe_open(path, "np") as f:
        expected = f.metadata()
    assert expected == metadata
    assert safe_open(path).metadata() == expected


def _file(path, header: dict, data: bytes) -> None:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def _f32(begin, end, n=2):
    return {"dtype": "F32", "shape": [n], "data_offsets": [begin, end]}


@pytest.mark.parametrize("header,size,words", [
    ({"a": _f32(0, 8), "b": _f32(4, 12)}, 12, "invalid offset for tensor `b`"),
    ({"a": _f32(0, 8), "b": _f32(0, 8)}, 8, "invalid offset for tensor `b`"),
    ({"a": _f32(0, 8), "b": _f32(12, 20)}, 20, "invalid offset for tensor `b`"),
    ({"a": _f32(0, 8)}, 12, "not fully covered"),
    ({"a": _f32(4, 12)}, 12, "invalid offset for tensor `a`"),
    ({"a": _f32(0, 8, 3)}, 8, "invalid shape, data type, or offset"),
    ({"__metadata__": {"a": 1}, "a": _f32(0, 8)}, 8, "__metadata__"),
    ({"a": {"dtype": "C128", "shape": [1], "data_offsets": [0, 16]}}, 16, "unsupported dtype"),
], ids=["overlap", "same bytes", "hole", "trailing bytes", "not from 0", "shape", "metadata",
        "C128"])
def test_bad_headers_refused_like_the_package(header, size, words, path_kind, tmp_path):
    path = tmp_path / "bad.safetensors"
    _file(path, header, bytes(size))
    with pytest.raises(Exception):
        with safetensors.safe_open(path, "np") as f:
            [f.get_tensor(k) for k in f.keys()]
    for read in (load_safetensors, lambda p: safe_open(p).keys()):
        with pytest.raises(CheckpointError, match=words):
            read(path)


@pytest.mark.parametrize("index", [np.s_[1:], np.s_[:, 1], np.s_[0], np.s_[-1], np.s_[...],
                                   np.s_[:, ::2], np.s_[1:3, 2:], np.s_[..., 1], np.s_[2:2]])
def test_get_slice_like_the_package(index, tmp_path):
    path = tmp_path / "s.safetensors"
    safetensors.numpy.save_file({"w": ARRAYS["w"]}, path)
    with safetensors.safe_open(path, "np") as theirs, safe_open(path) as ours:
        assert ours.get_slice("w").get_shape() == theirs.get_slice("w").get_shape() == [3, 4]
        assert ours.get_slice("w").get_dtype() == theirs.get_slice("w").get_dtype() == "F32"
        _same(ours.get_slice("w")[index].numpy(), theirs.get_slice("w")[index])


@pytest.mark.parametrize("index", [np.s_[5:], np.s_[0, 0, 0]])
def test_get_slice_out_of_range_like_the_package(index, tmp_path):
    path = tmp_path / "s.safetensors"
    safetensors.numpy.save_file({"w": ARRAYS["w"]}, path)
    with safetensors.safe_open(path, "np") as theirs, safe_open(path) as ours:
        with pytest.raises(Exception, match="Error during slicing"):
            theirs.get_slice("w")[index]
        with pytest.raises(IndexError, match="Error during slicing"):
            ours.get_slice("w")[index]
