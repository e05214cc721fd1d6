"""safetensors files, read and written by numtorch itself (no ``safetensors`` package needed).

Format: an 8-byte little-endian header length, a JSON header mapping each tensor name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (plus optional ``__metadata__`` of
str -> str), padded with spaces to 8 bytes, then the tensors' bytes back to back.
"""
from __future__ import annotations

import json
import mmap as _mmap
import os
import struct
from typing import Iterator

import numpy as np

from .. import _dtype as D
from .._device import as_device
from .._tensor import Tensor, _from_array
from ._storage import CheckpointError

__all__ = ["save_safetensors", "load_safetensors", "safe_open", "SafetensorsFile"]

_MAX_HEADER = 100 << 20


def _root(arr: np.ndarray) -> np.ndarray:
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _check_shared(tensors: dict) -> None:
    groups: dict[int, list[str]] = {}
    for name, t in tensors.items():
        if t._data.size:
            groups.setdefault(id(_root(t._data)), []).append(name)
    shared = []
    for names in groups.values():
        if len(names) < 2:
            continue
        overlap = [n for n in names
                   if any(m != n and np.shares_memory(tensors[n]._data, tensors[m]._data)
                          for m in names)]
        if overlap:
            shared.append(overlap)
    if shared:
        raise RuntimeError(
            f"Some tensors share memory, this will lead to duplicate memory on disk and potential "
            f"differences when loading them again: {shared}.\nA potential way to correctly save "
            "your model is to keep one name per shared tensor (drop the tied duplicates, e.g. "
            "with their .clone() or by deleting the aliases) before saving.")


def save_safetensors(tensors: dict, path, metadata: dict | None = None) -> None:
    """Write a dict of name -> Tensor to a safetensors file; tensors may not share memory."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, Tensor] but received {type(tensors)}")
    for name, t in tensors.items():
        if not isinstance(name, str) or not isinstance(t, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected str to Tensor mapping")
    _check_shared(tensors)
    header: dict = {}
    if metadata is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("metadata must be a dict of str to str")
        header["__metadata__"] = dict(metadata)
    order = sorted(tensors, key=lambda n: (-tensors[n].dtype.itemsize, n))
    offset = 0
    for name in order:
        t = tensors[name]
        nbytes = t._data.size * t._data.itemsize
        header[name] = {"dtype": t.dtype.safetensors_code, "shape": list(t._data.shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            for name in order:
                arr = np.ascontiguousarray(tensors[name]._data)
                if arr.size:
                    f.write(memoryview(arr.reshape(-1).view(np.uint8)))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _parse_header(buf, size: int, where: str) -> tuple[dict, dict, int]:
    if size < 8:
        raise CheckpointError(f"{where}: too small to be a safetensors file ({size} bytes)")
    (n,) = struct.unpack("<Q", bytes(buf[:8]))
    if n > min(size - 8, _MAX_HEADER):
        raise CheckpointError(f"{where}: header length {n} runs past the end of the file")
    try:
        header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{where}: header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{where}: header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise CheckpointError(f"{where}: __metadata__ is not an object")
    data_size = size - 8 - n
    for name, info in header.items():
        _check_entry(name, info, data_size, where)
    return header, meta, 8 + n


def _check_entry(name, info, data_size: int, where: str) -> None:
    if not isinstance(info, dict):
        raise CheckpointError(f"{where}: entry {name!r} is not an object")
    code, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    try:
        dt = D.by_safetensors_code(code)
    except (KeyError, TypeError):
        raise CheckpointError(f"{where}: tensor {name!r} has unsupported dtype {code!r}") from None
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise CheckpointError(f"{where}: tensor {name!r} has invalid shape {shape!r}")
    if not (isinstance(offs, list) and len(offs) == 2 and all(type(o) is int for o in offs)
            and 0 <= offs[0] <= offs[1] <= data_size):
        raise CheckpointError(f"{where}: tensor {name!r} has invalid data_offsets {offs!r}")
    numel = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if offs[1] - offs[0] != numel * dt.itemsize:
        raise CheckpointError(f"{where}: tensor {name!r} of shape {shape} needs "
                              f"{numel * dt.itemsize} bytes but data_offsets span "
                              f"{offs[1] - offs[0]}")


def _view(buf, info: dict, base: int) -> np.ndarray:
    """The tensor's bytes in ``buf`` (a buffer object) as its own array (one root per tensor)."""
    dt = D.by_safetensors_code(info["dtype"])
    b, e = info["data_offsets"]
    if e == b:
        return np.empty(info["shape"], dtype=dt.np)
    raw = np.frombuffer(buf, dtype=np.uint8, count=e - b, offset=base + b)
    return raw.view(dt.np).reshape(info["shape"])


class SafetensorsFile:
    """Lazy access to a safetensors file through a private memory map (``safe_open``)."""

    def __init__(self, path, framework: str = "pt", device="cpu") -> None:
        self.path = os.fspath(path)
        self.device = as_device(device)
        with open(self.path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise CheckpointError(f"{self.path}: empty file, not safetensors")
            self._map = _mmap.mmap(f.fileno(), 0, access=_mmap.ACCESS_COPY)
        self._header, self._meta, self._base = _parse_header(memoryview(self._map), size,
                                                             self.path)

    def keys(self) -> list[str]:
        return list(self._header)

    def metadata(self) -> dict:
        return dict(self._meta)

    def get_tensor(self, name: str) -> Tensor:
        info = self._header.get(name)
        if info is None:
            raise KeyError(f"File does not contain tensor {name}")
        return _from_array(_view(self._map, info, self._base), device=self.device)

    def __iter__(self) -> Iterator[str]:
        return iter(self._header)

    def __enter__(self) -> "SafetensorsFile":
        return self

    def __exit__(self, *exc) -> None:
        pass


def safe_open(path, framework: str = "pt", device="cpu") -> SafetensorsFile:
    """Open a safetensors file for lazy, per-tensor reads (``keys``, ``get_tensor``, ``metadata``)."""
    return SafetensorsFile(path, framework, device)


def load_safetensors(path, device="cpu") -> dict:
    """Read every tensor of a safetensors file into memory: a dict of name -> Tensor."""
    path = os.fspath(path)
    dev = as_device(device)
    out = {}
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        n = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
        head += f.read(min(n, _MAX_HEADER))
        header, _meta, base = _parse_header(head, size, path)
        for name, info in header.items():
            b, e = info["data_offsets"]
            raw = bytearray(e - b)
            f.seek(base + b)
            if f.readinto(raw) != e - b:
                raise CheckpointError(f"{path}: tensor {name!r} is cut short; truncated file")
            out[name] = _from_array(_view(raw, info, -b), device=dev)
    return out
