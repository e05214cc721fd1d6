"""weights_only loading never runs a checkpoint's code; allow-lists, placeholders, NumPy objects.

Malicious pickles are written by hand (GLOBAL os.system / builtins.eval / subprocess.Popen via
REDUCE, INST, NEWOBJ, STACK_GLOBAL, BUILD) into zip and legacy files; torch and numtorch must both
refuse them, and the marker file the payload would create must never appear.
"""
from __future__ import annotations

import argparse
import io
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import numtorch
from harness import compare
from numtorch.serialization import CheckpointError, Placeholder

LEGACY_HEADER = b"".join(pickle.dumps(x, protocol=2) for x in (
    0x1950A86A20F9469CFC6C, 1001,
    {"protocol_version": 1001, "little_endian": True,
     "type_sizes": {"short": 2, "int": 4, "long": 8}}))


def _str(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def payloads(marker: str) -> dict[str, bytes]:
    """Hand-written pickles that would create ``marker`` if any code of theirs ran."""
    cmd = f"touch {marker}"
    py = f"open({marker!r}, 'w').close()"
    return {
        "os.system REDUCE": b"\x80\x02cos\nsystem\n" + _str(cmd) + b"\x85R.",
        "posix.system REDUCE": b"\x80\x02cposix\nsystem\n" + _str(cmd) + b"\x85R.",
        "builtins.eval REDUCE": b"\x80\x02c__builtin__\neval\n" + _str(py) + b"\x85R.",
        "builtins.exec py3 name": b"\x80\x03cbuiltins\nexec\n" + _str(py) + b"\x85R.",
        "subprocess.Popen REDUCE": b"\x80\x02csubprocess\nPopen\n(X\x05\x00\x00\x00touch"
                                   + _str(marker) + b"l\x85R.",
        "subprocess.Popen NEWOBJ": b"\x80\x02csubprocess\nPopen\n(X\x05\x00\x00\x00touch"
                                   + _str(marker) + b"l\x85\x81.",
        "os.system INST": b"(" + _str(cmd)[0:0] + b"S'" + cmd.encode() + b"'\nios\nsystem\n.",
        "os.system STACK_GLOBAL": b"\x80\x04\x8c\x02os\x8c\x06system\x93" + _str(cmd)
                                  + b"\x85R.",
        "eval in a state dict": b"\x80\x02}(X\x01\x00\x00\x00wc__builtin__\neval\n" + _str(py)
                                + b"\x85Ru.",
    }


def zip_checkpoint(pickled: bytes, archive: str = "archive") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{archive}/data.pkl", pickled)
        z.writestr(f"{archive}/byteorder", "little")
        z.writestr(f"{archive}/version", "3\n")
    return buf.getvalue()


def legacy_checkpoint(pickled: bytes) -> bytes:
    return LEGACY_HEADER + pickled + pickle.dumps([], protocol=2)


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
@pytest.mark.parametrize("name", list(payloads("m")))
def test_malicious_checkpoint_is_refused_and_nothing_runs(name, fmt, tmp_path):
    marker = tmp_path / "PWNED"
    pickled = payloads(str(marker))[name]
    data = zip_checkpoint(pickled) if fmt == "zip" else legacy_checkpoint(pickled)
    path = tmp_path / "evil.pt"
    path.write_bytes(data)
    for mmap in (False, True) if fmt == "zip" else (False,):
        with pytest.raises(pickle.UnpicklingError) as info:
            numtorch.load(path, mmap=mmap)
        assert not marker.exists()
    if "STACK" not in name and "INST" not in name:  # opcodes torch's reader has: same words
        compare(lambda T: T.load(path), match_message=True)
    with pytest.raises(pickle.UnpicklingError):  # torch refuses it too
        torch.load(path, weights_only=True)
    assert not marker.exists()
    placeholder = numtorch.load(path, unknown_globals="placeholder")  # inert, never run
    assert not marker.exists()
    found = placeholder["w"] if isinstance(placeholder, dict) else placeholder
    assert isinstance(found, Placeholder)
    assert found.global_name.rsplit(".", 1)[-1] in ("system", "eval", "exec", "Popen")


@pytest.mark.parametrize("payload", [b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.",
                                     b"\x80\x02cargparse\nNamespace\n)R.",
                                     b"\x80\x02c__builtin__\neval\n.",
                                     b"\x80\x02cbuiltins\nrange\nK\x05\x85R.",
                                     b"\x80\x02ctorch\nfloat32\n}b."],
                         ids=["blocked module", "class", "py2 builtin", "range", "build dtype"])
def test_refusal_messages_are_torchs(payload, tmp_path):
    path = tmp_path / "evil.pt"
    path.write_bytes(zip_checkpoint(payload))
    if b"}b." in payload:  # torch names its own dtype class; compare the words around it
        for T in (torch, numtorch):
            with pytest.raises(pickle.UnpicklingError, match="Can only build Tensor, Parameter"):
                T.load(path)
        return
    compare(lambda T: T.load(path), match_message=True)
    with pytest.raises(pickle.UnpicklingError) as ours:
        numtorch.load(path)
    if b"Namespace" in payload:  # numtorch's advice follows torch's whole message
        assert "unknown_globals=\"placeholder\"" in str(ours.value)


def test_get_unsafe_globals_in_checkpoint_matches_torch(tmp_path):
    path = tmp_path / "ns.pt"
    torch.save({"args": argparse.Namespace(lr=0.1), "w": torch.ones(2),
                "od": OrderedDict(a=1)}, path)
    assert numtorch.serialization.get_unsafe_globals_in_checkpoint(path) == \
        torch.serialization.get_unsafe_globals_in_checkpoint(path) == ["argparse.Namespace"]
    torch.save({"args": argparse.Namespace(lr=0.1)}, path, _use_new_zipfile_serialization=False)
    assert numtorch.serialization.get_unsafe_globals_in_checkpoint(path) == ["argparse.Namespace"]
    evil = tmp_path / "evil.pt"
    evil.write_bytes(zip_checkpoint(payloads("m")["os.system REDUCE"]))
    assert numtorch.serialization.get_unsafe_globals_in_checkpoint(evil) == ["os.system"]


class Config:
    """A user class a checkpoint may hold."""

    def __init__(self, lr=0.1):
        self.lr = lr


def test_safe_globals_allow_a_user_class(tmp_path):
    path = tmp_path / "cfg.pt"
    numtorch.save({"cfg": Config(0.5), "w": numtorch.ones(2)}, path)
    for T in (torch, numtorch):
        with pytest.raises(pickle.UnpicklingError, match=f"{__name__}.Config"):
            T.load(path, weights_only=True)
        with T.serialization.safe_globals([Config]):
            assert Config in T.serialization.get_safe_globals()
            cfg = T.load(path, weights_only=True)["cfg"]
            assert type(cfg) is Config and cfg.lr == 0.5
        assert Config not in T.serialization.get_safe_globals()
        T.serialization.add_safe_globals([Config])
        assert T.load(path, weights_only=True)["cfg"].lr == 0.5
        T.serialization.clear_safe_globals()
        with pytest.raises(pickle.UnpicklingError):
            T.load(path, weights_only=True)


def test_placeholder_mode_reads_tensors_of_any_checkpoint(tmp_path):
    path = tmp_path / "ns.pt"
    torch.save({"args": argparse.Namespace(lr=0.1, layers=[1, 2]), "w": torch.arange(3.)}, path)
    with pytest.raises(pickle.UnpicklingError, match="argparse.Namespace"):
        numtorch.load(path)
    d = numtorch.load(path, unknown_globals="placeholder")
    np.testing.assert_array_equal(d["w"].numpy(), [0, 1, 2])
    ns = d["args"]
    assert isinstance(ns, Placeholder) and ns.global_name == "argparse.Namespace"
    assert ns.state == {"lr": 0.1, "layers": [1, 2]}


def test_numpy_objects_load_safely_beyond_torch(tmp_path):
    path = tmp_path / "np.pt"
    obj = {"arr": np.arange(6, dtype=np.int32).reshape(2, 3), "f": np.float64(2.5),
           "i": np.int64(-3), "dt": np.dtype("float16"), "be": np.arange(3, dtype=">f4"),
           "t": torch.ones(2)}
    torch.save(obj, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)  # torch's default refuses NumPy globals
    d = numtorch.load(path)
    np.testing.assert_array_equal(d["arr"], obj["arr"])
    assert d["arr"].dtype == np.int32 and d["f"] == 2.5 and type(d["f"]) is np.float64
    assert d["i"] == -3 and d["dt"] == np.dtype("float16")
    np.testing.assert_array_equal(d["be"], [0, 1, 2])
    assert d["be"].dtype == pickle.loads(pickle.dumps(obj["be"], protocol=2)).dtype
    assert np.dtype("f4").byteorder == "=" and np.dtype("float32").isnative  # globals untouched


def test_numpy_object_arrays_are_refused(tmp_path):
    path = tmp_path / "obj.pt"
    torch.save({"a": np.array([1, "x"], dtype=object)}, path)
    with pytest.raises((pickle.UnpicklingError, CheckpointError)):
        numtorch.load(path)


def test_build_cannot_modify_allowed_globals(tmp_path):
    # GLOBAL torch.float32, then BUILD with attacker state: must be refused, dtype unchanged
    evil = b"\x80\x02ctorch\nfloat32\n}X\x04\x00\x00\x00nameX\x01\x00\x00\x00xsb."
    path = tmp_path / "build.pt"
    path.write_bytes(zip_checkpoint(evil))
    with pytest.raises(pickle.UnpicklingError, match="Can only build"):
        numtorch.load(path)
    assert numtorch.float32.name == "float32"
    # REDUCE on a value that is not a resolved global is refused too
    evil2 = b"\x80\x02X\x03\x00\x00\x00abc)R."
    path.write_bytes(zip_checkpoint(evil2))
    with pytest.raises(pickle.UnpicklingError):
        numtorch.load(path)


def test_strides_reaching_outside_the_storage_are_refused(tmp_path):
    """A hostile stride/offset must never let a view read past its storage's bytes."""
    path = tmp_path / "ok.pt"
    numtorch.save({"w": numtorch.zeros(4)}, path)
    with zipfile.ZipFile(path) as z:
        pkl = z.read("ok/data.pkl")
        data = z.read("ok/data/0")
    for old, new in ((b"K\x04\x85", b"K\x05\x85"),            # size 5 of a 4-element storage
                     (b"K\x00K\x04\x85", b"K\x03K\x04\x85"),  # offset 3, size 4
                     (b"K\x01\x85", b"M\x00\x10\x85")):       # stride 4096
        evil = pkl.replace(old, new, 1)
        assert evil != pkl
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("ok/data.pkl", evil)
            z.writestr("ok/data/0", data)
        buf.seek(0)
        with pytest.raises(CheckpointError, match="needs .* bytes but the storage holds 16"):
            numtorch.load(buf)
