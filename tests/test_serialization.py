"""Checkpoints both ways: saved by torch -> loaded by numtorch, saved by numtorch -> loaded by torch.

Each case builds the same object with ``T=torch`` and ``T=numtorch``; after the round trip through
a file, values, dtypes, Parameter-ness, strides, storage offsets, which tensors share a storage,
``_metadata`` and container structure must all be identical.
"""
from __future__ import annotations

import io
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import numtorch
from harness import assert_same, compare

rng = np.random.default_rng(0)
MAT = rng.standard_normal((4, 6)).astype(np.float32)


# ------------------------------------------------------------------ layout helpers
def _np_root(arr: np.ndarray) -> np.ndarray:
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def layout(t):
    """(stride, storage offset, storage identity) of a torch or numtorch tensor."""
    if isinstance(t, torch.Tensor):
        return t.stride(), t.storage_offset(), t.untyped_storage().data_ptr()
    root = _np_root(t._data)
    off = t._data.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return t.stride(), off // t._data.itemsize, id(root)


def tensors_by_path(obj, path="") -> dict:
    out = {}
    if isinstance(obj, (torch.Tensor, numtorch.Tensor)):
        out[path] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(tensors_by_path(v, f"{path}[{k!r}]"))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(tensors_by_path(v, f"{path}[{i}]"))
    return out


def sharing(tensors: dict) -> set:
    groups: dict = {}
    for path, t in tensors.items():
        if t.numel():
            groups.setdefault(layout(t)[2], set()).add(path)
    return {frozenset(g) for g in groups.values()}


def raw_bytes(t) -> bytes:
    if isinstance(t, torch.Tensor):
        return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
    return np.ascontiguousarray(t._data).tobytes()


def describe(obj):
    """The structure with each tensor replaced by (shape, dtype, requires_grad, Parameter?)."""
    if isinstance(obj, (torch.Tensor, numtorch.Tensor)):
        return ("tensor", tuple(obj.shape), str(obj.dtype), obj.requires_grad,
                type(obj).__name__ == "Parameter", str(obj.device))
    if isinstance(obj, dict):
        return type(obj)((k, describe(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)) and not isinstance(obj, (torch.Size, numtorch.Size)):
        return type(obj)(describe(v) for v in obj)
    return obj


def assert_identical(expected_torch, actual_numtorch) -> None:
    assert_same(describe(expected_torch), describe(actual_numtorch))
    te, ta = tensors_by_path(expected_torch), tensors_by_path(actual_numtorch)
    assert te.keys() == ta.keys()
    for p in te:
        assert raw_bytes(te[p]) == raw_bytes(ta[p]), f"{p}: values differ"
        le, la = layout(te[p]), layout(ta[p])
        if te[p].numel():
            assert le[:2] == la[:2], f"{p}: stride/offset {la[:2]} != torch's {le[:2]}"
    assert sharing(te) == sharing(ta), "tensors sharing storage differ"
    if hasattr(expected_torch, "_metadata"):
        assert expected_torch._metadata == actual_numtorch._metadata


def assert_round_trip(saved, loaded) -> None:
    """numtorch -> file -> numtorch: same structure, bytes, strides, offsets and sharing."""
    assert describe(saved) == describe(loaded)
    ts, tl = tensors_by_path(saved), tensors_by_path(loaded)
    for p in ts:
        assert raw_bytes(ts[p]) == raw_bytes(tl[p]), f"{p}: values differ"
        if ts[p].numel():
            assert layout(ts[p])[:2] == layout(tl[p])[:2], p
    assert sharing(ts) == sharing(tl)


# ------------------------------------------------------------------ cases: body(T) -> object
def all_dtypes(T):
    base = np.array([0.0, 1.5, -2.0, 3.25, 100.0, -0.5])
    out = OrderedDict()
    for name in ("float32", "float64", "float16", "bfloat16", "complex64", "complex128",
                 "float8_e4m3fn", "float8_e5m2"):
        out[name] = T.tensor(base).to(getattr(T, name))
    for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        out[name] = T.tensor(np.abs(base).astype(np.int64)).to(getattr(T, name))
    out["bool"] = T.tensor(base > 0)
    out["scalar"] = T.tensor(7)
    out["empty"] = T.zeros(0, 3)
    return out


def legacy_dtypes(T):
    """The dtypes torch's own legacy reader can load (it fails on uint16/32/64 and float8)."""
    return OrderedDict((k, v) for k, v in all_dtypes(T).items()
                       if not k.startswith(("uint16", "uint32", "uint64", "float8")))


def views(T):
    a = T.tensor(MAT)
    c = a.chunk(3, dim=1)
    return {"a": a, "t": a.t(), "step": a[:, ::2], "c0": c[0], "c1": c[1], "c2": c[2],
            "offset": a[1:], "row": a[2], "tail": a[3, 5:], "expand": a[:1].expand(5, -1),
            "narrow": a.narrow(1, 2, 3), "flat": a.view(24)}


def tied(T):
    w = T.tensor(MAT)
    lin = T.nn.Linear(6, 4)
    lin2 = T.nn.Linear(6, 4)
    with T.no_grad():
        lin.weight.copy_(w)
        lin.bias.zero_()
    lin2.weight = lin.weight
    return {"same": [w, w], "alias": (w, w[:]), "params": {"a": lin.weight, "b": lin2.weight}}


def nested(T):
    return {"list": [1, 2.5, None, True, "s", (3, "x")], "tuple": (T.ones(2), [T.zeros(1)]),
            "dict": {"int": -3, "float": float("inf"), "nested": {"t": T.arange(3)}},
            "bytes": b"\x00\x01", "complex": 1 + 2j, "big": 2 ** 70, "set": {1, 2}}


def _model(T):
    m = T.nn.Sequential(T.nn.Linear(6, 4), T.nn.ReLU(), T.nn.Linear(4, 2))
    g = np.random.default_rng(1)
    with T.no_grad():
        for p in m.parameters():
            p.copy_(T.tensor(g.standard_normal(tuple(p.shape)).astype(np.float32)))
    return m


def module_state_dict(T):
    return _model(T).state_dict()


def optimizer_state_dict(T):
    m = _model(T)
    opt = T.optim.Adam(m.parameters(), lr=1e-2, betas=(0.8, 0.99))
    m(T.tensor(MAT)).pow(2).sum().backward()
    opt.step()
    return {"model": m.state_dict(), "optim": opt.state_dict(), "epoch": 3}


def parameters(T):
    p = T.nn.Parameter(T.tensor(MAT))
    frozen = T.nn.Parameter(T.tensor(MAT[:2]), requires_grad=False)
    leaf = T.tensor(MAT[0]).requires_grad_()
    return {"p": p, "frozen": frozen, "leaf": leaf, "p_view": p.detach()[1:]}


def sizes_devices_dtypes(T):
    return {"size": T.Size([2, 3]), "device": T.device("cpu"), "dtype": T.float16,
            "bf": T.bfloat16, "u16": T.uint16}


CASES = [all_dtypes, views, tied, nested, module_state_dict, optimizer_state_dict, parameters,
         sizes_devices_dtypes]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_torch_to_numtorch(case, tmp_path):
    path = tmp_path / "t.pt"
    expected = case(torch)
    torch.save(expected, path)
    assert_identical(expected, numtorch.load(path))
    assert_identical(expected, numtorch.load(path, mmap=True))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_numtorch_to_torch(case, tmp_path):
    path = tmp_path / "n.pt"
    obj = case(numtorch)
    numtorch.save(obj, path)
    loaded = torch.load(path, weights_only=True)
    assert_identical(loaded, obj)
    assert_round_trip(obj, numtorch.load(path))


@pytest.mark.parametrize("case", [legacy_dtypes, views, tied, nested, module_state_dict,
                                  optimizer_state_dict, parameters], ids=lambda c: c.__name__)
def test_legacy_format_both_ways(case, tmp_path):
    path = tmp_path / "legacy.pt"
    expected = case(torch)
    torch.save(expected, path, _use_new_zipfile_serialization=False)
    assert_identical(expected, numtorch.load(path))
    obj = case(numtorch)
    numtorch.save(obj, path, _use_new_zipfile_serialization=False)
    assert_identical(torch.load(path, weights_only=True), obj)
    assert_round_trip(obj, numtorch.load(path))


def test_legacy_new_dtypes_load_in_numtorch(tmp_path):
    path = tmp_path / "legacy_new.pt"
    expected = all_dtypes(torch)
    torch.save(expected, path, _use_new_zipfile_serialization=False)
    assert_identical(expected, numtorch.load(path))


def test_zip_layout_matches_torch(tmp_path):
    import zipfile
    torch.save(views(torch), tmp_path / "ck.pt")
    numtorch.save(views(numtorch), tmp_path / "mine.pt")
    tz, nz = zipfile.ZipFile(tmp_path / "ck.pt"), zipfile.ZipFile(tmp_path / "mine.pt")
    strip = [n.split("/", 1)[1] for n in tz.namelist()]
    assert [n.split("/", 1)[1] for n in nz.namelist()] == strip
    assert nz.namelist()[0] == "mine/data.pkl"
    for name in ("byteorder", "version", ".format_version", ".storage_alignment"):
        assert nz.read(f"mine/{name}") == tz.read(f"ck/{name}")
    assert nz.testzip() is None
    raw = (tmp_path / "mine.pt").read_bytes()
    for info in nz.infolist():
        if "/data/" in info.filename:
            n, m = np.frombuffer(raw[info.header_offset + 26:info.header_offset + 30], "<u2")
            assert (info.header_offset + 30 + n + m) % 64 == 0


def test_file_objects_and_pathlike(tmp_path):
    buf = io.BytesIO()
    numtorch.save(views(numtorch), buf)
    buf.seek(0)
    assert_identical(views(torch), numtorch.load(buf))
    buf.seek(0)
    assert_identical(torch.load(buf, weights_only=True), views(numtorch))
    with open(tmp_path / "f.pt", "wb") as f:
        torch.save(views(torch), f)
    with open(tmp_path / "f.pt", "rb") as f:
        assert_identical(views(torch), numtorch.load(f))


@pytest.mark.parametrize("kind", ["bytesio", "file"])
def test_mmap_needs_a_path_like_torch(kind, tmp_path):
    path = tmp_path / "f.pt"
    torch.save(views(torch), path)

    def body(T):
        if kind == "bytesio":
            return T.load(io.BytesIO(path.read_bytes()), mmap=True)
        with open(path, "rb") as f:
            return T.load(f, mmap=True)
    compare(body, match_message=True)


def test_whole_module_needs_weights_only_false(tmp_path):
    path = tmp_path / "module.pt"
    m = _model(numtorch)
    numtorch.save(m, path)
    with pytest.raises(pickle.UnpicklingError, match="numtorch.nn.modules.container.Sequential"):
        numtorch.load(path)
    back = numtorch.load(path, weights_only=False)
    assert type(back) is type(m)
    x = numtorch.tensor(MAT)
    np.testing.assert_array_equal(back(x).detach().numpy(), m(x).detach().numpy())
    assert back[0].weight.requires_grad and type(back[0].weight).__name__ == "Parameter"


def test_whole_torch_module_loads_as_numtorch_module(tmp_path):
    path = tmp_path / "torch_module.pt"
    m = _model(torch)
    torch.save(m, path)
    back = numtorch.load(path, weights_only=False)
    assert isinstance(back, numtorch.nn.Sequential)
    out = back(numtorch.tensor(MAT)).detach().numpy()
    np.testing.assert_allclose(out, m(torch.tensor(MAT)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_loaded_tensors_are_writable_and_shared(tmp_path):
    path = tmp_path / "v.pt"
    torch.save(views(torch), path)
    for mmap in (False, True):
        d = numtorch.load(path, mmap=mmap)
        d["t"][0, 1] = 42.0  # t[0,1] is a[1,0]
        assert float(d["a"][1, 0]) == 42.0 and float(d["offset"][0, 0]) == 42.0
    assert float(torch.load(path)["a"][1, 0]) == float(MAT[1, 0])  # mmap is copy-on-write


def test_plain_pickle_and_deepcopy_of_tensors():
    import copy
    p = numtorch.nn.Parameter(numtorch.tensor(MAT))
    t = numtorch.tensor(MAT[0]).to(numtorch.bfloat16)
    for obj in (pickle.loads(pickle.dumps({"p": p, "t": t})), copy.deepcopy({"p": p, "t": t})):
        assert type(obj["p"]) is type(p) and obj["p"].requires_grad
        np.testing.assert_array_equal(obj["p"].detach().numpy(), MAT)
        assert obj["t"].dtype is numtorch.bfloat16
    m = _model(numtorch)
    m2 = pickle.loads(pickle.dumps(m))
    for (k, a), (k2, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert k == k2 and np.array_equal(a.numpy(), b.numpy())


def test_save_refuses_same_memory_as_two_dtypes(tmp_path):
    a = numtorch.zeros(4)
    b = numtorch.Tensor.__new__(numtorch.Tensor)
    b._data = a._data.view(np.int32)

    def body(T):
        x = T.zeros(4)
        y = x.view(T.int32) if T is torch else b
        T.save([x if T is torch else a, y], io.BytesIO())
    with pytest.raises(RuntimeError, match="view the same data as different types"):
        body(numtorch)
    with pytest.raises(RuntimeError, match="view the same data as different types"):
        body(torch)
