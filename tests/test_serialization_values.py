"""Values torch can put in a checkpoint: every storage dtype (complex32, the fnuz/e8m0 float8s,
float4_e2m1fn_x2, bits8/16), quantized tensors and tensor subclasses (a clear error, or inert
placeholders when asked), NumPy values of every pickle protocol, Python attributes on tensors."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import numtorch
from harness import compare
from numtorch.serialization import CheckpointError, Placeholder

NEW_DTYPES = ["complex32", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
              "float4_e2m1fn_x2", "bits8", "bits16"]
RAW = torch.arange(48, dtype=torch.uint8) * 5


def _of(name: str) -> torch.Tensor:
    """A torch tensor of dtype ``name`` over its own copy of RAW's bytes."""
    d = getattr(torch, name)
    base = {1: torch.uint8, 2: torch.int16, 4: torch.int32}[d.itemsize]
    return RAW.clone().view(base).view(d)


def _describe(t):
    """dtype, shape, strides, offset and raw bytes of a torch or numtorch tensor."""
    if isinstance(t, torch.Tensor):
        raw = t.contiguous().view(torch.uint8).numpy().tobytes()
        return str(t.dtype), tuple(t.shape), t.stride(), t.storage_offset(), raw
    arr = t._data
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return (str(t.dtype), tuple(t.shape), t.stride(), offset // arr.itemsize,
            np.ascontiguousarray(arr).tobytes())


def new_dtype_tensors() -> dict:
    out = {}
    for name in NEW_DTYPES:
        t = _of(name).reshape(4, -1)
        out[name] = t
        out[name + "_t"] = t.t()
        out[name + "_tail"] = t[1:, 1:]
    return out


@pytest.mark.parametrize("zip_format", [True, False])
def test_every_storage_dtype_both_ways(zip_format, tmp_path):
    path, back = tmp_path / "t.pt", tmp_path / "n.pt"
    src = new_dtype_tensors()
    torch.save(src, path, _use_new_zipfile_serialization=zip_format)
    loaded = numtorch.load(path)
    assert {k: _describe(v) for k, v in loaded.items()} == \
        {k: _describe(v) for k, v in src.items()}
    numtorch.save(loaded, back)
    again = torch.load(back, weights_only=True)
    assert {k: _describe(v) for k, v in again.items()} == \
        {k: _describe(v) for k, v in src.items()}
    loaded["complex32_t"]  # a view sharing its storage with the others of its dtype
    assert np.shares_memory(loaded["bits16"]._data, loaded["bits16_tail"]._data)


@pytest.mark.parametrize("name", ["bits1x8", "bits2x4", "bits4x2"])
def test_dtypes_numtorch_lacks_are_a_clear_error(name, tmp_path):
    path = tmp_path / "b.pt"
    torch.save({"t": _of(name), "w": torch.ones(2)}, path)
    torch.load(path)  # torch reads it
    for weights_only in (True, False):
        with pytest.raises(CheckpointError) as info:
            numtorch.load(path, weights_only=weights_only)
        assert str(info.value).startswith(f"numtorch cannot load the dtype torch.{name}")
        assert "weights_only" not in str(info.value)


class Tagged(torch.Tensor):
    """A tensor subclass, not allow-listed."""


def _unusual() -> dict:
    q = torch.quantize_per_tensor(torch.tensor([0.5, 1.0, 1.5]), 0.1, 0, torch.qint8)
    tagged = torch.arange(4.0).as_subclass(Tagged)
    tagged.note = "hi"
    return {"q": q, "tagged": tagged, "quint8": RAW[:8].clone().view(torch.quint8),
            "bits": _of("bits1x8"), "w": torch.arange(3.0)}


@pytest.mark.parametrize("zip_format", [True, False])
def test_quantized_tensors_error_or_placeholder(zip_format, tmp_path):
    path = tmp_path / "q.pt"
    torch.save(_unusual(), path, _use_new_zipfile_serialization=zip_format)
    for weights_only in (True, False):
        with pytest.raises(CheckpointError, match="numtorch cannot load quantized tensors"):
            numtorch.load(path, weights_only=weights_only)
    d = numtorch.load(path, unknown_globals="placeholder")
    np.testing.assert_array_equal(d["w"].numpy(), [0.0, 1.0, 2.0])
    q = d["q"]
    assert isinstance(q, Placeholder) and q.global_name == "torch._utils._rebuild_qtensor"
    storage = q.args[0]
    assert storage.global_name == "torch.QInt8Storage" and storage.state.tolist() == [5, 10, 15]
    assert q.args[4][1:] == (0.1, 0)  # scale and zero point
    tagged = d["tagged"]
    assert tagged.global_name == f"{__name__}.Tagged" and tagged.state == {"note": "hi"}
    np.testing.assert_array_equal(tagged.args[0].numpy(), [0.0, 1.0, 2.0, 3.0])
    assert d["quint8"].args[0].state.tolist() == RAW[:8].tolist()
    bits = d["bits"]
    assert bits.global_name == "torch._utils._rebuild_tensor_v3"
    assert bits.args[-1].name == "bits1x8"


def test_tensor_subclass_refused_like_torch(tmp_path):
    path = tmp_path / "sub.pt"
    torch.save({"tagged": _unusual()["tagged"]}, path)
    compare(lambda T: T.load(path), match_message=True)


# ------------------------------------------------------------------ NumPy values (beyond torch)
def numpy_values() -> dict:
    return {"empty": np.zeros((0, 3)), "empty_i": np.array([], dtype=np.int32),
            "dates": np.array(["2020-01-01", "2021-02-03"], dtype="datetime64[D]"),
            "deltas": np.array([1, 2], dtype="timedelta64[ns]"),
            "when": np.datetime64("2020-01-01T10:00"), "arr": np.arange(6.0).reshape(2, 3),
            "fortran": np.asfortranarray(np.arange(6).reshape(2, 3)), "empty_bytes": b"",
            "text": np.array(["ab", "c"]), "be": np.arange(3, dtype=">i4")}


@pytest.mark.parametrize("zip_format", [True, False])
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_numpy_values_of_every_protocol(protocol, zip_format, tmp_path):
    path = tmp_path / "np.pt"
    torch.save(numpy_values(), path, pickle_protocol=protocol,
               _use_new_zipfile_serialization=zip_format)
    expected = torch.load(path, weights_only=False)  # what unpickling with code gives
    got = numtorch.load(path)
    for k, v in expected.items():
        assert type(got[k]) is type(v), k
        if isinstance(v, np.ndarray):
            assert got[k].dtype == v.dtype and got[k].shape == v.shape, k
            assert got[k].flags.f_contiguous == v.flags.f_contiguous, k
            np.testing.assert_array_equal(got[k], v)
        else:
            assert got[k] == v, k


@pytest.mark.parametrize("state", [(3, "<", None, None, None, -1, -1, 0, (None, (b"xx", 1, 1, 1))),
                                   (4, "<", None, None, None, -1, -1, 0, ("x", (b"D", 1, 1, 1))),
                                   (4, "<", None, None, None, -1, -1, 0, 7)])
def test_numpy_dtype_metadata_is_validated(state, tmp_path):
    class DtypeState:
        def __reduce__(self):
            return (np.dtype, ("M8", False, True), state)
    path = tmp_path / "dt.pt"
    torch.save({"d": DtypeState()}, path)
    with pytest.raises(CheckpointError, match="numpy.dtype"):
        numtorch.load(path)


# ------------------------------------------------------------------ attributes on tensors
def attributed(T):
    t = T.arange(3.0)
    t.note = "bar"
    p = T.nn.Parameter(T.ones(2))
    p.tag = 1
    p._private = [1, 2]
    return {"t": t, "p": p, "plain": T.zeros(1)}


def _attrs(d):
    """What each loaded tensor holds: values, kind, and the attributes set on it."""
    return {"t": (d["t"].tolist(), type(d["t"]).__name__, d["t"].note),
            "p": (d["p"].tolist(), type(d["p"]).__name__, d["p"].tag, d["p"]._private),
            "plain": (d["plain"].tolist(), hasattr(d["plain"], "note"))}


def test_tensor_attributes_both_ways(tmp_path):
    def body(T):
        path = tmp_path / f"{T.__name__}.pt"
        T.save(attributed(T), path)
        return _attrs(torch.load(path)), _attrs(numtorch.load(path))
    expected, actual = compare(body)
    # each library's file, read by torch and by numtorch: the same attributes
    assert actual[0] == actual[1] == expected[0]
    assert actual[1]["p"][1:] == ("Parameter", 1, [1, 2])


@pytest.mark.parametrize("name", ["_data", "_requires_grad", "grad_fn", "__class__", "shape"])
def test_attributes_may_not_overwrite_tensor_internals(name, tmp_path):
    t = torch.arange(3.0)
    t.x = 1
    buf = io.BytesIO()
    torch.save({"t": t}, buf)
    raw = _rezip(buf.getvalue(), lambda pkl: pkl.replace(
        b"X\x01\x00\x00\x00x", b"X" + len(name).to_bytes(4, "little") + name.encode(), 1))
    with pytest.raises(CheckpointError, match="refusing to set attribute"):
        numtorch.load(io.BytesIO(raw))


def _rezip(data: bytes, change) -> bytes:
    import zipfile
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            body = src.read(info.filename)
            z.writestr(info.filename, change(body) if info.filename.endswith("data.pkl") else body)
    return out.getvalue()
