"""The safetensors layout, checked as strictly as the ``safetensors`` package checks it.

An 8-byte little-endian header length, a JSON header mapping each tensor name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (plus an optional ``__metadata__`` of
str -> str), padded with spaces to 8 bytes, then the tensors' bytes back to back: sorted by
offset they start at 0, leave no hole, never overlap, and end where the file ends.
"""
from __future__ import annotations

import json
import struct

import numpy as np

from .. import _dtype as D
from ._storage import CheckpointError

__all__ = ["FORMAT_CODES", "Header", "parse_header", "build_header", "dtype_of", "MAX_HEADER"]

MAX_HEADER = 100 << 20
# the dtype codes of the safetensors format in the package's order (it writes tensors sorted
# by this order, last first); numtorch has all but the 4- and 6-bit floats
_ORDER = ("BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
          "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64",
          "F64", "I64", "U64")
_RANK = {code: i for i, code in enumerate(_ORDER)}
FORMAT_CODES = frozenset(_ORDER) - {"F4", "F6_E2M3", "F6_E3M2"}


def dtype_of(code) -> D.dtype | None:
    """numtorch's dtype for a safetensors dtype code (None when numtorch has none)."""
    if code not in FORMAT_CODES:
        return None
    try:
        return D.by_safetensors_code(code)
    except KeyError:
        return None


class Header:
    """A parsed header: ``entries`` name -> info in file order, ``metadata`` (None when the file
    has none), ``base`` the offset of the data."""

    __slots__ = ("entries", "metadata", "base")

    def __init__(self, entries: dict, metadata: dict | None, base: int) -> None:
        self.entries = entries
        self.metadata = metadata
        self.base = base


def _metadata(header: dict, where: str) -> dict | None:
    meta = header.pop("__metadata__", None)
    if meta is None:
        return None
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in meta.items()):
        raise CheckpointError(f"{where}: __metadata__ must map strings to strings")
    return meta


def parse_header(buf, size: int, where: str) -> Header:
    """Parse and check the header at the start of ``buf`` (a file of ``size`` bytes)."""
    if size < 8:
        raise CheckpointError(f"{where}: too small to be a safetensors file ({size} bytes)")
    (n,) = struct.unpack("<Q", bytes(buf[:8]))
    if n > min(size - 8, MAX_HEADER):
        raise CheckpointError(f"{where}: header length {n} runs past the end of the file")
    try:
        header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{where}: header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{where}: header is not a JSON object")
    meta = _metadata(header, where)
    for name, info in header.items():
        _check_entry(name, info, where)
    _check_coverage(header, size - 8 - n, where)
    return Header(header, meta, 8 + n)


def _check_entry(name, info, where: str) -> None:
    if not isinstance(info, dict):
        raise CheckpointError(f"{where}: entry {name!r} is not an object")
    code, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    dt = dtype_of(code) if isinstance(code, str) else None
    if dt is None:
        raise CheckpointError(f"{where}: tensor {name!r} has unsupported dtype {code!r}")
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise CheckpointError(f"{where}: tensor {name!r} has invalid shape {shape!r}")
    if not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)
            and 0 <= offs[0] <= offs[1]):
        raise CheckpointError(f"{where}: tensor {name!r} has invalid data_offsets {offs!r}")
    numel = 1
    for s in shape:
        numel *= s
    if offs[1] - offs[0] != numel * dt.itemsize:
        raise CheckpointError(f"{where}: invalid shape, data type, or offset for tensor "
                              f"{name!r}: shape {shape} of {code} needs {numel * dt.itemsize} "
                              f"bytes but data_offsets span {offs[1] - offs[0]}")


def _check_coverage(header: dict, data_size: int, where: str) -> None:
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, stop = info["data_offsets"]
        if begin != end:
            raise CheckpointError(f"{where}: invalid offset for tensor `{name}` (its bytes start "
                                  f"at {begin}, the previous tensor's end at {end})")
        end = stop
    if end != data_size:
        raise CheckpointError(f"{where}: incomplete metadata, file not fully covered (tensors "
                              f"hold {end} bytes, the data section has {data_size})")


def build_header(arrays: dict, codes: dict, metadata: dict | None) -> tuple[bytes, list]:
    """The padded header for ``arrays`` (name -> contiguous array) and the write order
    (by dtype, the package's order from the end, then by name: the package's bytes)."""
    header: dict = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    order = sorted(arrays, key=lambda n: (-_RANK[codes[n]], n))
    offset = 0
    for name in order:
        nbytes = arrays[name].nbytes
        header[name] = {"dtype": codes[name], "shape": list(arrays[name].shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw, order


def view(buf, info: dict, base: int) -> np.ndarray:
    """The tensor's bytes in ``buf`` (a buffer object) as its own array (one root per tensor)."""
    dt = dtype_of(info["dtype"])
    b, e = info["data_offsets"]
    if e == b:
        return np.empty(info["shape"], dtype=dt.np)
    raw = np.frombuffer(buf, dtype=np.uint8, count=e - b, offset=base + b)
    return raw.view(dt.np).reshape(info["shape"])
