"""The legacy (pre-1.6) stream and the older tar format, from files built independently of
numtorch's writer: whole modules, GPU locations, storage views, ``_rebuild_tensor`` (v1),
files at an offset, sys_info, pickle protocols. torch loads each one too; results must match."""
from __future__ import annotations

import io
import pickle
import struct
import tarfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import numtorch
from harness import compare
from numtorch.serialization._pickler import CheckpointPickler, TorchGlobal
from test_serialization import _model, assert_identical, views

MAT = np.arange(12, dtype=np.float32)
HEADER = (0x1950A86A20F9469CFC6C, 1001,
          {"protocol_version": 1001, "little_endian": True,
           "type_sizes": {"short": 2, "int": 4, "long": 4}})


class Pid:
    """A persistent id written as is."""

    def __init__(self, *pid) -> None:
        self.pid = pid


class Call:
    """``func(*args)`` in the pickle, ``func`` a global written by name."""

    def __init__(self, module: str, name: str, *args) -> None:
        self.func, self.args = TorchGlobal(module, name), args

    def __reduce__(self):
        return self.func, self.args


class _Pickler(CheckpointPickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, Pid) else None


def dumps(obj, protocol: int = 2) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol).dump(obj)
    return buf.getvalue()


def legacy_file(obj, storages: dict) -> bytes:
    """A legacy stream: header, ``obj``, then each storage key's element count and bytes."""
    out = b"".join(pickle.dumps(h, protocol=2) for h in HEADER) + dumps(obj)
    out += pickle.dumps(list(storages), protocol=2)
    for arr in storages.values():
        out += struct.pack("<q", arr.size) + arr.tobytes()
    return out


def float_storage(key: str, location: str = "cpu", module: str = "torch", view=None):
    return Pid("storage", TorchGlobal(module, "FloatStorage"), key, location, MAT.size, view)


def v2(storage, offset, size, stride):
    return Call("torch._utils", "_rebuild_tensor_v2", storage, offset, size, stride, False,
                OrderedDict())


# ------------------------------------------------------------------ hand-built legacy files
def test_storage_views_and_rebuild_tensor_v1(tmp_path):
    path = tmp_path / "views.pt"
    obj = {"whole": v2(float_storage("root"), 0, (12,), (1,)),
           "view": v2(float_storage("root", view=("v1", 4, 6)), 1, (2, 2), (2, 1)),
           "v1": Call("torch._utils", "_rebuild_tensor", float_storage("root"), 2, (3, 2),
                      (1, 3))}
    path.write_bytes(legacy_file(obj, {"root": MAT}))
    expected, actual = compare(lambda T: T.load(path))
    assert actual["view"].numpy().tolist() == [[5.0, 6.0], [7.0, 8.0]]
    actual["whole"][5] = -1.0  # views share the root's memory, as in torch
    assert float(actual["view"][0, 0]) == -1.0


def test_rebuild_tensor_v1_in_a_zip(tmp_path):
    path = tmp_path / "v1.pt"
    storage = Pid("storage", TorchGlobal("torch", "FloatStorage"), "0", "cpu", MAT.size)
    with __import__("zipfile").ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", dumps({"t": Call("torch._utils", "_rebuild_tensor",
                                                         storage, 3, (2, 3), (3, 1))}))
        z.writestr("archive/data/0", MAT.tobytes())
        z.writestr("archive/version", "3\n")
    compare(lambda T: T.load(path))


@pytest.mark.parametrize("module", ["torch", "torch.cuda"])
def test_legacy_gpu_files(module, tmp_path):
    path = tmp_path / "gpu.pt"
    obj = {"w": v2(float_storage("0", "cuda:0", module), 0, (3, 4), (4, 1))}
    path.write_bytes(legacy_file(obj, {"0": MAT}))
    compare(lambda T: T.load(path), match_message=True)
    for where in ("cpu", {"cuda:0": "cpu"}, lambda storage, location: storage):
        compare(lambda T: T.load(path, map_location=where)["w"])


def test_legacy_module_class_refused_under_weights_only(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(_model(torch), path, _use_new_zipfile_serialization=False)
    compare(lambda T: T.load(path), match_message=True)


@pytest.mark.parametrize("zip_format", [True, False])
def test_whole_torch_module_loads_as_numtorch_module(zip_format, tmp_path):
    path = tmp_path / "module.pt"
    m = _model(torch)
    torch.save(m, path, _use_new_zipfile_serialization=zip_format)
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 6)

    def body(T):
        back = T.load(path, weights_only=False)
        return type(back).__name__, back(T.tensor(x)), dict(back.named_parameters())
    compare(body)


# ------------------------------------------------------------------ files at an offset
@pytest.mark.parametrize("zip_format", [True, False])
def test_file_object_positioned_after_other_data(zip_format):
    buf = io.BytesIO()
    buf.write(b"some other data " * 100)
    start = buf.tell()
    torch.save(views(torch), buf, _use_new_zipfile_serialization=zip_format)

    def body(T):
        buf.seek(start)
        return T.load(buf)
    compare(body)
    buf.seek(start)
    assert_identical(views(torch), numtorch.load(buf))


# ------------------------------------------------------------------ header and protocols
def test_legacy_header_is_torchs(tmp_path):
    """sys_info says long: 4 (torch's struct "=l"), byte for byte the same header."""
    a, b = io.BytesIO(), io.BytesIO()
    torch.save({"w": torch.ones(2)}, a, _use_new_zipfile_serialization=False)
    numtorch.save({"w": numtorch.ones(2)}, b, _use_new_zipfile_serialization=False)
    n = len(b"".join(pickle.dumps(h, protocol=2) for h in HEADER))
    assert a.getvalue()[:n] == b.getvalue()[:n]


@pytest.mark.parametrize("zip_format", [True, False])
@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_pickle_protocols(protocol, zip_format, tmp_path):
    """Files numtorch writes with each protocol load in torch exactly when torch's own do."""
    def body(T):
        path = tmp_path / f"{T.__name__}.pt"
        T.save({"w": T.arange(6.0).reshape(2, 3), "s": "x", "l": [1, 2.5, None]}, path,
               pickle_protocol=protocol, _use_new_zipfile_serialization=zip_format)
        loaded = torch.load(path, weights_only=True)
        return {k: v.tolist() if isinstance(v, torch.Tensor) else v for k, v in loaded.items()}
    compare(body, match_message=True)
    if protocol >= 2:  # numtorch reads protocols 4 and 5 too (beyond torch's reader)
        path = tmp_path / "torch.pt"
        torch.save({"w": torch.arange(6.0)}, path, pickle_protocol=protocol,
                   _use_new_zipfile_serialization=zip_format)
        np.testing.assert_array_equal(numtorch.load(path)["w"].numpy(), np.arange(6.0))


# ------------------------------------------------------------------ the tar format
def _tar_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def tar_checkpoint(path) -> None:
    """torch's oldest format, built from its reader's description (torch/serialization.py)."""
    storages = pickle.dumps(1, protocol=2) + dumps((0, "cpu", TorchGlobal("torch", "FloatStorage")))
    storages += struct.pack("<q", MAT.size) + MAT.tobytes()
    storages += pickle.dumps([(1, 0, 2, 6)], protocol=2)  # storage 1: elements 2..7 of 0
    tensors = pickle.dumps(2, protocol=2)
    for key, storage, size, stride, offset in ((10, 0, (3, 4), (4, 1), 0),
                                               (11, 1, (2, 2), (1, 2), 1)):
        tensors += dumps((key, storage, TorchGlobal("torch", "FloatTensor")))
        tensors += struct.pack("<i", len(size)) + b"\0" * 4
        tensors += struct.pack(f"<{len(size)}q", *size) + struct.pack(f"<{len(size)}q", *stride)
        tensors += struct.pack("<q", offset)
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, 2)
    pickler.persistent_id = lambda obj: obj if isinstance(obj, str) and obj.isdigit() else None
    pickler.dump({"a": "10", "b": "11", "n": 3})
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        _tar_member(tar, "storages", storages)
        _tar_member(tar, "tensors", tensors)
        _tar_member(tar, "pickle", buf.getvalue())


def test_tar_format(tmp_path):
    path = tmp_path / "old.tar"
    tar_checkpoint(path)
    compare(lambda T: T.load(path), match_message=True)
    expected, actual = compare(lambda T: T.load(path, weights_only=False))
    assert actual["b"].numpy().tolist() == [[3.0, 5.0], [4.0, 6.0]]
    compare(lambda T: T.load(path, weights_only=False, map_location="cuda"), match_message=True)

    def refuse(storage, location):
        raise KeyError(location)
    compare(lambda T: T.load(path, weights_only=False, map_location=refuse), match_message=True)
