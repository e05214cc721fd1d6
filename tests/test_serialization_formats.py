"""Checkpoint variants: map_location and GPU-saved files, byte order, archive names, legacy
sys_info quirks, TorchScript archives, safetensors interop, mmap, atomic saves."""
from __future__ import annotations

import io
import os
import pickle
import struct
import sys
import tracemalloc
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import numtorch
from harness import compare
from numtorch.serialization import CheckpointError
from numtorch.serialization import torch_legacy, torch_zip
from numtorch.serialization._pickler import CheckpointPickler
from test_serialization import assert_identical, views, all_dtypes, legacy_dtypes

MAT = np.arange(24, dtype=np.float32).reshape(4, 6) / 7


def write_zip(obj, path, location="cpu", byteorder="little"):
    """numtorch's writer with a chosen device location and byte order (as other machines write)."""
    class Pickler(CheckpointPickler):
        def persistent_id(self, o):
            pid = super().persistent_id(o)
            return None if pid is None else pid[:3] + (location,) + pid[4:]
    buf = io.BytesIO()
    p = Pickler(buf, 2)
    p.dump(obj)
    if byteorder == "big":
        for rec in p.storages:
            n = rec.dtype.itemsize if not rec.dtype.is_complex else rec.dtype.itemsize // 2
            if n > 1:
                rec.data = rec.data.view(f"u{n}").byteswap().view(np.uint8)
    with open(path, "wb") as f:
        torch_zip.write_archive(f, "archive", buf.getvalue(), p.storages, byteorder)


# ------------------------------------------------------------------ map_location
def gpu_checkpoint(tmp_path):
    path = tmp_path / "gpu.pt"
    write_zip({"w": numtorch.tensor(MAT), "n": 3}, path, location="cuda:0")
    return path


def test_gpu_saved_file_raises_torchs_error_by_default(tmp_path):
    path = gpu_checkpoint(tmp_path)
    compare(lambda T: T.load(path), match_message=True)
    with pytest.raises(RuntimeError, match="map_location=torch.device\\('cpu'\\)"):
        numtorch.load(path)


@pytest.mark.parametrize("where", ["cpu", "device", "dict", "callable", "callable_none"])
def test_gpu_saved_file_loads_with_map_location(where, tmp_path):
    path = gpu_checkpoint(tmp_path)

    def body(T):
        loc = {"cpu": "cpu", "device": T.device("cpu"), "dict": {"cuda:0": "cpu"},
               "callable": lambda storage, location: storage,
               "callable_none": lambda storage, location: storage.cpu()}[where]
        d = T.load(path, map_location=loc)
        return d["w"], d["w"].device, d["n"]
    compare(body)


def test_map_location_meta_and_cuda_target(tmp_path):
    path = tmp_path / "cpu.pt"
    torch.save({"w": torch.tensor(MAT)}, path)
    compare(lambda T: T.load(path, map_location="meta")["w"].shape)
    assert numtorch.load(path, map_location="meta")["w"].is_meta
    compare(lambda T: T.load(path, map_location="cuda"), match_message=True)


# ------------------------------------------------------------------ byte order, archive names
def test_big_endian_zip_both_readers(tmp_path):
    path = tmp_path / "be.pt"
    write_zip(legacy_dtypes(numtorch), path, byteorder="big")
    expected = torch.load(path, weights_only=True)
    assert_identical(expected, numtorch.load(path))
    assert_identical(expected, numtorch.load(path, mmap=True))
    assert_identical(legacy_dtypes(torch), numtorch.load(path))


def rezip(src, dst, rename=None, drop=(), compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            tail = info.filename.split("/", 1)[1]
            if tail in drop:
                continue
            name = f"{rename}/{tail}" if rename else info.filename
            zout.writestr(name, zin.read(info.filename))


@pytest.mark.parametrize("variant", ["renamed", "no_byteorder", "deflated"])
def test_zip_variants(variant, tmp_path):
    src, dst = tmp_path / "src.pt", tmp_path / "dst.pt"
    torch.save(views(torch), src)
    kw = {"renamed": dict(rename="some.model-v2"), "no_byteorder": dict(drop=("byteorder",)),
          "deflated": dict(compression=zipfile.ZIP_DEFLATED)}[variant]
    rezip(src, dst, **kw)
    assert_identical(views(torch), numtorch.load(dst))
    assert_identical(views(torch), numtorch.load(dst, mmap=True))
    if variant != "deflated":
        assert_identical(torch.load(dst), numtorch.load(dst))


def test_rebuild_tensor_v3_untyped_storages(tmp_path):
    path = tmp_path / "v3.pt"
    x = torch.arange(12).to(torch.uint16).reshape(3, 4)
    torch.save({"x": x, "xt": x.t(), "f8": torch.ones(3).to(torch.float8_e4m3fn)}, path)
    assert_identical(torch.load(path), numtorch.load(path))


def test_parameter_with_state(tmp_path):
    path = tmp_path / "pstate.pt"
    p = torch.nn.Parameter(torch.tensor(MAT))
    p.tag = "encoder"
    torch.save({"p": p}, path)
    loaded = numtorch.load(path)["p"]
    assert type(loaded).__name__ == "Parameter" and loaded.tag == "encoder"
    np.testing.assert_array_equal(loaded.detach().numpy(), MAT)


# ------------------------------------------------------------------ legacy quirks
@pytest.mark.parametrize("long_size", [4, 8])
def test_legacy_sys_info_long_sizes(long_size, tmp_path):
    """torch writes ``long: 4`` (struct "=l"); files from other builds say 8: both read."""
    path = tmp_path / "win.pt"
    torch.save(views(torch), path, _use_new_zipfile_serialization=False)
    raw = path.read_bytes()
    assert b"longq\x07K\x04" in raw[:200]
    path.write_bytes(raw.replace(b"longq\x07K\x04", b"longq\x07K" + bytes([long_size]), 1))
    assert_identical(views(torch), numtorch.load(path))
    assert_identical(views(torch), torch.load(path))


def test_legacy_big_endian(tmp_path):
    """A legacy file from a big-endian machine: sizes and data big-endian (beyond torch)."""
    obj = legacy_dtypes(numtorch)
    out = io.BytesIO()
    sys_info = {"protocol_version": 1001, "little_endian": False,
                "type_sizes": {"short": 2, "int": 4, "long": 8}}
    for header in (torch_legacy.MAGIC_NUMBER, 1001, sys_info):
        out.write(pickle.dumps(header, protocol=2))
    p = torch_legacy._LegacyPickler(out, 2)
    p.dump(obj)
    out.write(pickle.dumps([r.key for r in p.storages], protocol=2))
    for r in p.storages:
        item = r.dtype.itemsize
        out.write(struct.pack(">q", r.data.size // item))
        n = item // 2 if r.dtype.is_complex else item
        out.write(r.data.view(f"u{n}").byteswap().tobytes() if n > 1 else r.data.tobytes())
    out.seek(0)
    assert_identical(legacy_dtypes(torch), numtorch.load(out))


def test_legacy_refuses_mmap_like_torch(tmp_path):
    path = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=False)
    compare(lambda T: T.load(path, mmap=True), match_message=True)


# ------------------------------------------------------------------ TorchScript
class Scripted(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        self.register_buffer("steps", torch.arange(4.0))

    def forward(self, x):
        return self.lin(x) + self.steps.sum()


def test_torchscript_tensors_are_extracted_code_never_run(tmp_path):
    path = tmp_path / "m.jit"
    m = Scripted()
    torch.jit.save(torch.jit.script(m), path)
    got = numtorch.load(path)
    sd = m.state_dict()
    assert sorted(got) == sorted(sd)
    for k in sd:
        np.testing.assert_array_equal(got[k].detach().numpy(), sd[k].numpy())


# ------------------------------------------------------------------ safetensors
def by_name(tensors: dict) -> dict:
    """safetensors files order tensors their own way: compare in st_tensors' key order."""
    return {k: tensors[k] for k in ("w", "b16", "i", "flag", "s")}


def st_tensors(T):
    return {"w": T.tensor(MAT), "b16": T.tensor(MAT[0]).to(T.bfloat16),
            "i": T.arange(5), "flag": T.tensor([True, False]), "s": T.tensor(2.5)}


def test_safetensors_numtorch_to_package(tmp_path):
    import safetensors.numpy
    import safetensors.torch
    path = tmp_path / "n.safetensors"
    numtorch.serialization.save_safetensors(st_tensors(numtorch), path, metadata={"k": "v"})
    assert_identical(st_tensors(torch), by_name(safetensors.torch.load_file(path)))
    np.testing.assert_array_equal(safetensors.numpy.load_file(path)["w"], MAT)
    with safetensors.safe_open(path, "pt") as f:
        assert f.metadata() == {"k": "v"}


def test_safetensors_package_to_numtorch(tmp_path):
    import safetensors.torch
    path = tmp_path / "t.safetensors"
    safetensors.torch.save_file(st_tensors(torch), path, metadata={"format": "pt"})
    assert_identical(st_tensors(torch), by_name(numtorch.serialization.load_safetensors(path)))
    with numtorch.serialization.safe_open(path) as f:
        assert sorted(f.keys()) == sorted(st_tensors(torch))
        assert f.metadata() == {"format": "pt"}
        np.testing.assert_array_equal(f.get_tensor("w").numpy(), MAT)
        with pytest.raises(KeyError):
            f.get_tensor("missing")


def test_safetensors_refuses_shared_memory_like_the_package(tmp_path):
    import safetensors.torch

    def body(T):
        w = T.tensor(MAT)
        save = safetensors.torch.save_file if T is torch else \
            numtorch.serialization.save_safetensors
        save({"a": w, "b": w[1:]}, tmp_path / f"{T.__name__}.safetensors")
    compare(body)
    with pytest.raises(RuntimeError, match="Some tensors share memory"):
        body(numtorch)


@pytest.mark.parametrize("header", [b"\xff" * 8, struct.pack("<Q", 5) + b"{bad}",
                                    struct.pack("<Q", 2) + b"[]",
                                    struct.pack("<Q", 60) + b'{"w":{"dtype":"F32","shape":[4],'
                                    b'"data_offsets":[0,99]}}    '])
def test_safetensors_corrupt_header(header, tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(header)
    with pytest.raises(CheckpointError):
        numtorch.serialization.load_safetensors(path)


# ------------------------------------------------------------------ mmap and atomic save
def test_mmap_load_allocates_almost_nothing(tmp_path):
    path = tmp_path / "big.pt"
    big = {f"w{i}": numtorch.tensor(np.full((256, 1024), i, np.float32)) for i in range(32)}
    numtorch.save(big, path)  # 32 MiB
    tracemalloc.start()
    d = numtorch.load(path, mmap=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 << 20, f"mmap load allocated {peak} bytes"
    assert float(d["w31"][5, 5]) == 31.0


class Exploding:
    def __reduce__(self):
        raise RuntimeError("boom while pickling")


def test_atomic_save_keeps_previous_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    numtorch.save({"w": numtorch.tensor(MAT)}, path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="boom"):
        numtorch.save({"w": numtorch.ones(3), "x": Exploding()}, path)
    real_add = torch_zip._ZipWriter.add

    def crash_on_second_storage(self, name, data):
        if name.endswith("data/1"):
            raise OSError("disk full")
        return real_add(self, name, data)
    monkeypatch.setattr(torch_zip._ZipWriter, "add", crash_on_second_storage)
    with pytest.raises(OSError, match="disk full"):
        numtorch.save({"a": numtorch.ones(3), "b": numtorch.zeros(2)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.pt"]
    np.testing.assert_array_equal(torch.load(path)["w"].numpy(), MAT)


def test_clear_errors_for_non_checkpoints(tmp_path):
    for content in (b"", b"hello world", b"PK\x03\x04garbage"):
        path = tmp_path / "x.pt"
        path.write_bytes(content)
        with pytest.raises(CheckpointError):
            numtorch.load(path)
    zpath = tmp_path / "z.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("readme.txt", "no checkpoint here")
    with pytest.raises(CheckpointError, match="no data.pkl"):
        numtorch.load(zpath)


# ------------------------------------------------------------------ TorchScript constants
class Traced(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.full((3,), 9.0))
        self.register_buffer("b", torch.full((3,), 5.0))

    def forward(self, x):
        return x * self.w + self.b + torch.tensor([10.0, 20.0, 30.0])


def test_traced_module_constants_come_from_constants_folder(tmp_path):
    """data/0 and constants/0 are different records: each pickle names its own folder."""
    path = tmp_path / "t.jit"
    torch.jit.save(torch.jit.trace(Traced(), torch.ones(3)), path)
    got = numtorch.load(path)
    assert list(got) == ["w", "b", "constants.0"]
    assert got["w"].detach().numpy().tolist() == [9.0, 9.0, 9.0] and got["w"].requires_grad
    assert got["b"].numpy().tolist() == [5.0, 5.0, 5.0]
    assert got["constants.0"].numpy().tolist() == [10.0, 20.0, 30.0]


# ------------------------------------------------------------------ CRCs and record sizes
def test_files_saved_without_crcs_load(tmp_path):
    path = tmp_path / "nocrc.pt"
    torch.serialization.set_crc32_options(False)
    try:
        torch.save(views(torch), path)
    finally:
        torch.serialization.set_crc32_options(True)
    assert zipfile.ZipFile(path).infolist()[0].CRC == 0
    assert_identical(torch.load(path), numtorch.load(path))
    assert_identical(torch.load(path), numtorch.load(path, mmap=True))
    good, bad = tmp_path / "good.pt", tmp_path / "deflated_bad_crc.pt"
    torch.save(views(torch), good)
    rezip(good, bad, compression=zipfile.ZIP_DEFLATED)
    raw = bytearray(bad.read_bytes())
    for info in zipfile.ZipFile(bad).infolist():  # zero every CRC (local and central)
        raw[info.header_offset + 14:info.header_offset + 18] = b"\0\0\0\0"
    at = raw.index(b"PK\x01\x02")
    while at >= 0:
        raw[at + 16:at + 20] = b"\0\0\0\0"
        at = raw.find(b"PK\x01\x02", at + 4)
    bad.write_bytes(bytes(raw))
    assert_identical(views(torch), numtorch.load(bad))


def _with_record(src, dst, name, data):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, data if info.filename.endswith(name) else
                          zin.read(info.filename))


@pytest.mark.parametrize("size", [40, 24])
def test_record_size_must_match_its_storage(size, tmp_path):
    src, path = tmp_path / "ok.pt", tmp_path / "bad.pt"
    torch.save({"w": torch.arange(8.0)}, src)
    _with_record(src, path, "data/0", bytes(range(size)))
    compare(lambda T: T.load(path), match_message=True)
    if size > 32:  # torch's mmap path reads the first 32 bytes and ignores the rest
        compare(lambda T: T.load(path, mmap=True))
    else:  # where torch's mmap path reads past the record, numtorch refuses
        with pytest.raises(CheckpointError, match="record size"):
            numtorch.load(path, mmap=True)


# ------------------------------------------------------------------ map_location
LOCATIONS = ["cpu", "meta", "cpu:0", "CPU", "cuda", "cuda:1", "cuda0", "cudax", "cuda:x",
             "cuda:-1", "mps", "mps:0", "hpu", "hpu:0", "xpu", "xpu:1", "mtia", "privateuseone",
             "meta:0", "xla", "xla:0", "ipu", "lazy"]


@pytest.mark.parametrize("zip_format", [True, False])
@pytest.mark.parametrize("location", LOCATIONS)
def test_map_location_strings_like_torch(location, zip_format, tmp_path):
    path = tmp_path / "m.pt"
    torch.save({"w": torch.tensor(MAT)}, path, _use_new_zipfile_serialization=zip_format)

    def body(T):
        d = T.load(path, map_location=location)
        return d["w"].shape, str(d["w"].device)
    compare(body, match_message=True)
    compare(lambda T: str(T.load(path, map_location=T.device(location.split(":")[0]))["w"]
                          .device) if ":" not in location else None, match_message=True)


@pytest.mark.parametrize("zip_format", [True, False])
def test_map_location_odd_values_like_torch(zip_format, tmp_path):
    path = tmp_path / "m.pt"
    torch.save({"w": torch.tensor(MAT)}, path, _use_new_zipfile_serialization=zip_format)
    for where in (lambda T: 3, lambda T: b"cpu", lambda T: {"cpu": T.device("cpu")},
                  lambda T: T.device("cpu", 0), lambda T: {"cpu": "meta"},
                  lambda T: lambda storage, location: 5):
        compare(lambda T: T.load(path, map_location=where(T))["w"].shape, match_message=True)


# ------------------------------------------------------------------ big-endian, built by hand
def _be_bytes(values: np.ndarray) -> bytes:
    return values.astype(values.dtype.newbyteorder(">")).tobytes()


def test_big_endian_zip_from_an_independent_writer(tmp_path):
    """A zip written as a big-endian machine would (typed v2 and untyped v3 storages)."""
    from test_serialization_legacy import Call, Pid, dumps
    from numtorch.serialization._pickler import TorchGlobal
    typed = {"f32": (np.float32, "FloatStorage", MAT.reshape(-1)),
             "i64": (np.int64, "LongStorage", np.arange(-3, 5)),
             "c64": (np.complex64, "ComplexFloatStorage", np.array([1 + 2j, -3.5j])),
             "f16": (np.float16, "HalfStorage", np.array([1.5, -2.0, 65504.0]))}
    untyped = {"u16": (np.uint16, "uint16", np.array([1, 258, 65535])),
               "u32": (np.uint32, "uint32", np.array([1, 1 << 20, 4000000000])),
               "u64": (np.uint64, "uint64", np.array([7, 1 << 40]))}
    obj, records = {}, {}
    for i, (name, (np_type, storage, values)) in enumerate({**typed, **untyped}.items()):
        values = np.asarray(values, dtype=np_type)
        key = str(i)
        records[key] = _be_bytes(values)
        if name in typed:
            pid = Pid("storage", TorchGlobal("torch", storage), key, "cpu", values.size)
            obj[name] = Call("torch._utils", "_rebuild_tensor_v2", pid, 0, values.shape, (1,),
                             False, OrderedDict())
        else:
            pid = Pid("storage", TorchGlobal("torch.storage", "UntypedStorage"), key, "cpu",
                      values.nbytes)
            obj[name] = Call("torch._utils", "_rebuild_tensor_v3", pid, 0, values.shape, (1,),
                             False, OrderedDict(), TorchGlobal("torch", storage))
    path = tmp_path / "be.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", dumps(obj))
        z.writestr("archive/byteorder", "big")
        for key, data in records.items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")
    got = numtorch.load(path)
    for name, (np_type, _, values) in {**typed, **untyped}.items():
        np.testing.assert_array_equal(got[name].numpy(), np.asarray(values, dtype=np_type))
    theirs = torch.load(path)  # torch swaps typed storages (it leaves untyped ones as bytes)
    for name in typed:
        np.testing.assert_array_equal(theirs[name].numpy(), got[name].numpy())
