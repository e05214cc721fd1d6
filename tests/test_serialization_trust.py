"""What runs while loading, and when: weights_only=None, data ready before user code sees it,
errors of user code passed through, memory-hungry builtins refused, the global scan.

Each case runs with torch and numtorch where both can (``compare``); payloads are hand-written
pickles that would leave a marker file if any of their code ran.
"""
from __future__ import annotations

import io
import pickle
import struct
import zipfile

import pytest
import torch

import numtorch
from harness import compare
from numtorch.serialization import CheckpointError

N = 1 << 20  # a storage large enough that reading it takes a while


def zip_checkpoint(pickled: bytes, records: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickled)
        z.writestr("archive/byteorder", "little")
        for key, data in (records or {}).items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def _str(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


# ------------------------------------------------------------------ weights_only=None
@pytest.mark.parametrize("value", [None, True])
def test_weights_only_none_is_the_safe_default(value, tmp_path):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pt"
    path.write_bytes(zip_checkpoint(b"\x80\x02cos\nsystem\n" + _str(f"touch {marker}") + b"\x85R."))
    compare(lambda T: T.load(path, weights_only=value), match_message=True)
    assert not marker.exists()
    path.write_bytes(zip_checkpoint(b"\x80\x02cargparse\nNamespace\n)R."))
    compare(lambda T: T.load(path, weights_only=value), match_message=True)


def test_pickle_module_without_weights_only_means_trusting(tmp_path):
    path = tmp_path / "ns.pt"
    torch.save({"w": torch.arange(3.0)}, path)
    compare(lambda T: T.load(path, pickle_module=pickle)["w"])
    compare(lambda T: T.load(path, pickle_module=pickle, weights_only=True), match_message=True)


# ------------------------------------------------------------------ data before user code
class Probe:
    """An allow-listed class whose __setstate__ looks at the tensor it is given."""

    seen: list = []

    def __setstate__(self, state):
        Probe.seen.append(state["t"].detach().numpy()[[0, 1, -1]].tolist())
        self.__dict__.update(state)


def _probe_file(path):
    p = Probe.__new__(Probe)
    p.__dict__["t"] = torch.arange(float(N))
    torch.save({"x": torch.ones(N), "p": p}, path)


@pytest.mark.parametrize("weights_only", [True, False])
def test_allowlisted_setstate_sees_the_tensor_data(weights_only, tmp_path):
    path = tmp_path / "probe.pt"
    _probe_file(path)

    def body(T):
        Probe.seen = []
        with T.serialization.safe_globals([Probe]):
            T.load(path, weights_only=weights_only)
        return Probe.seen
    expected, actual = compare(body)
    assert actual == [[0.0, 1.0, N - 1.0]]


def test_map_location_callable_sees_the_storage_bytes(tmp_path):
    path = tmp_path / "bytes.pt"
    torch.save({"a": torch.arange(N, dtype=torch.uint8),
                "b": torch.full((5,), 7, dtype=torch.uint8)}, path)

    def body(T):
        seen = []

        def where(storage, location):
            seen.append((len(storage), storage.nbytes(), storage[0], storage[1], storage[-1],
                         location))
            return storage
        T.load(path, map_location=where)
        return seen
    expected, _ = compare(body)
    assert expected == [(N, N, 0, 1, 255, "cpu"), (5, 5, 7, 7, 7, "cpu")]


# ------------------------------------------------------------------ errors pass through
class Grumpy:
    """An allow-listed class that refuses its state."""

    def __setstate__(self, state):
        raise KeyError("grumpy")


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_errors_of_user_code_reach_the_caller_unchanged(fmt, tmp_path):
    path = tmp_path / "u.pt"
    g = Grumpy.__new__(Grumpy)
    g.__dict__["x"] = 1
    torch.save({"w": torch.ones(2), "g": g}, path, _use_new_zipfile_serialization=fmt == "zip")

    def refuse(storage, location):
        raise ValueError(f"no room at {location}")

    def body(T):
        with T.serialization.safe_globals([Grumpy]):
            return T.load(path)
    compare(body, match_message=True)
    compare(lambda T: T.load(path, map_location=refuse, weights_only=False), match_message=True)
    with pytest.raises(ValueError) as info:
        numtorch.load(path, map_location=refuse, weights_only=False)
    assert type(info.value) is ValueError and str(info.value) == "no room at cpu"


# ------------------------------------------------------------------ memory-hungry builtins
@pytest.mark.parametrize("payload", [
    b"\x80\x02c__builtin__\nset\nc__builtin__\nrange\nJ\x00\xe4\x0bT\x85R\x85R.",
    b"\x80\x02c__builtin__\nfrozenset\n)R.",
    b"\x80\x02c__builtin__\nslice\nK\x01\x85R.",
], ids=["set(range(huge))", "frozenset", "slice"])
def test_builtins_torch_refuses_are_refused(payload, tmp_path):
    path = tmp_path / "mem.pt"
    path.write_bytes(zip_checkpoint(payload))
    compare(lambda T: T.load(path), match_message=True)


@pytest.mark.parametrize("payload", [
    b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00\x40\x85R.",      # bytearray(2**30)
    b"\x80\x02c__builtin__\nset\nX\x03\x00\x00\x00abc\x85R.",           # set of a str: fine in
    b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R.",  # torch too
], ids=["bytearray(int)", "set(str)", "codecs zlib"])
def test_allowed_builtins_only_take_what_pickles_pass(payload, tmp_path):
    """numtorch checks the arguments of the builtins torch allows (beyond torch)."""
    path = tmp_path / "mem.pt"
    path.write_bytes(zip_checkpoint(payload))
    with pytest.raises(CheckpointError, match="not the arguments a pickle passes"):
        numtorch.load(path)


def test_allowed_builtins_still_load_their_usual_arguments(tmp_path):
    path = tmp_path / "ok.pt"
    obj = {"s": {1, 2}, "b": bytearray(b"\x00\xff"), "c": 1 + 2j, "bytes": b"\x01\x02",
           "od": __import__("collections").OrderedDict(a=1),
           "cnt": __import__("collections").Counter("aab")}
    torch.save(obj, path)
    compare(lambda T: T.load(path))


# ------------------------------------------------------------------ the global scan
@pytest.mark.parametrize("pickled,expected", [
    (b"\x80\x04\x8c\x02os\x8c\x06system\x8c\x04junk0\x93.", ["os.system"]),
    (b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94h\x00h\x01\x93.", ["os.system"]),
    (b"\x80\x04\x8c\x08argparse\x8c\tNamespace\x932\x93.", ["argparse.Namespace"]),
    (b"\x80\x04(\x8c\x01a\x8c\x01b1\x8c\x02os\x8c\x05popen\x93.", ["os.popen"]),
    (b"\x80\x04\x8c\x0bcollections\x8c\x0bOrderedDict\x93)R.", []),
], ids=["POP after junk", "memo", "DUP", "POP_MARK", "allowed"])
def test_unsafe_globals_follow_the_pickle_stack(pickled, expected, tmp_path):
    path = tmp_path / "scan.pt"
    path.write_bytes(zip_checkpoint(pickled))
    assert numtorch.serialization.get_unsafe_globals_in_checkpoint(path) == expected
    if expected:
        with pytest.raises(pickle.UnpicklingError, match=expected[0].replace(".", r"\.")):
            numtorch.load(path)


def test_unsafe_globals_python2_names_like_torch(tmp_path):
    path = tmp_path / "py2.pt"
    path.write_bytes(zip_checkpoint(b"\x80\x02c__builtin__\neval\n."))
    assert numtorch.serialization.get_unsafe_globals_in_checkpoint(path) == \
        torch.serialization.get_unsafe_globals_in_checkpoint(path) == ["builtins.eval"]


def test_unsafe_globals_of_a_file_at_an_offset(tmp_path):
    buf = io.BytesIO(b"junk" * 10)
    buf.seek(0, 2)
    torch.save({"ns": __import__("argparse").Namespace(a=1)}, buf)
    buf.seek(40)
    assert numtorch.serialization.get_unsafe_globals_in_checkpoint(buf) == ["argparse.Namespace"]


@pytest.mark.parametrize("opcode", [b"\x96", b"\x8e", b"\x8d", b"B", b"X"],
                         ids=["BYTEARRAY8", "BINBYTES8", "BINUNICODE8", "BINBYTES", "BINUNICODE"])
@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_huge_length_fields_allocate_nothing(opcode, fmt, tmp_path):
    """A length field claiming gigabytes in a tiny file: a clean error, no huge buffer."""
    import tracemalloc
    n = 1 << 30  # small enough to be allocated (and counted) if anything tried
    size = struct.pack("<Q" if opcode in (b"\x96", b"\x8e", b"\x8d") else "<I", n)
    pickled = b"\x80\x05" + opcode + size + b"abc."
    path = tmp_path / "bomb.pt"
    if fmt == "zip":
        path.write_bytes(zip_checkpoint(pickled))
    else:
        header = b"".join(pickle.dumps(h, protocol=2) for h in (
            0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True,
                                           "type_sizes": {"short": 2, "int": 4, "long": 4}}))
        path.write_bytes(header + pickled)
    tracemalloc.start()
    try:
        with pytest.raises((CheckpointError, pickle.UnpicklingError)):
            numtorch.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"allocated {peak} bytes"
