"""safetensors files: ``save_safetensors``, ``load_safetensors`` and lazy ``safe_open``.

Whole-file reads and writes go through the ``safetensors`` package's NumPy API when it is
installed (and handles every dtype involved); numtorch's own reader and writer, which produce
the same bytes, are the fallback and serve ``safe_open``'s lazy, memory-mapped access. Headers
are checked as strictly as the package checks them (dtypes, shapes, offsets that cover the file
exactly, string metadata) before any tensor is built.
"""
from __future__ import annotations

import mmap as _mmap
import os
import struct
from typing import Iterator

import numpy as np

from .._device import as_device
from .._tensor import Tensor, _from_array
from . import _st_format as F
from ._storage import CheckpointError

__all__ = ["save_safetensors", "load_safetensors", "safe_open", "SafetensorsFile", "SafeSlice"]

use_package = True  # False: always numtorch's own reader and writer
# dtypes the package's NumPy API reads back (it has no NumPy type for the float8s)
_PACKAGE_READS = frozenset(("BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "F16",
                            "BF16", "F32", "F64", "C64"))


def _package():
    """``safetensors.numpy`` when installed and enabled, else None."""
    if not use_package:
        return None
    try:
        import safetensors.numpy as package
    except ImportError:
        return None
    return package


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


def _check_save_args(tensors, metadata) -> dict:
    """The tensors' safetensors dtype codes, after the package's checks on the arguments."""
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, Tensor] but received {type(tensors)}")
    codes = {}
    for name, t in tensors.items():
        if not isinstance(name, str) or not isinstance(t, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected str to Tensor mapping")
        code = t.dtype.safetensors_code
        if code not in F.FORMAT_CODES:
            raise ValueError(f"Unknown dtype \"{t.dtype.name}\" for tensor `{name}`: the "
                             "safetensors format has no code for it. Supported dtypes: "
                             + ", ".join(sorted(F.FORMAT_CODES)))
        codes[name] = code
    if metadata is not None:
        for k, v in metadata.items():
            for x in (k, v):
                if not isinstance(x, str):
                    raise TypeError(f"argument 'metadata': '{type(x).__name__}' object is not "
                                    "an instance of 'str'")
    _check_shared(tensors)
    return codes


def _replace(path: str, write) -> None:
    """``write(tmp)`` a temporary file next to ``path``, sync it, rename it over ``path``."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_own(tmp: str, arrays: dict, codes: dict, metadata) -> None:
    head, order = F.build_header(arrays, codes, metadata)
    with open(tmp, "wb") as f:
        f.write(head)
        for name in order:
            if arrays[name].size:
                f.write(memoryview(arrays[name].reshape(-1).view(np.uint8)))


def save_safetensors(tensors: dict, path, metadata: dict | None = None) -> None:
    """Write a dict of name -> Tensor to a safetensors file (atomically); tensors may not
    share memory, and complex128 (which the format lacks) is refused as the package does."""
    codes = _check_save_args(tensors, metadata)
    arrays = {name: np.asarray(t._data, order="C") for name, t in tensors.items()}
    path = os.fspath(path)
    package = _package()
    if package is not None:
        _replace(path, lambda tmp: package.save_file(arrays, tmp, metadata=metadata))
    else:
        _replace(path, lambda tmp: _write_own(tmp, arrays, codes, metadata))


def _read_header(f, path: str) -> F.Header:
    size = os.fstat(f.fileno()).st_size
    head = f.read(8)
    n = struct.unpack("<Q", head)[0] if len(head) == 8 else 0
    head += f.read(min(n, F.MAX_HEADER))
    return F.parse_header(head, size, path)


def load_safetensors(path, device="cpu") -> dict:
    """Read every tensor of a safetensors file into memory: a dict of name -> Tensor."""
    path = os.fspath(path)
    dev = as_device(device)
    with open(path, "rb") as f:
        header = _read_header(f, path)
        package = _package()
        if package is not None and all(info["dtype"] in _PACKAGE_READS
                                       for info in header.entries.values()):
            try:
                arrays = package.load_file(path)
            except Exception as exc:  # noqa: BLE001 - the package's own error type
                raise CheckpointError(f"{path}: {exc}") from None
            return {name: _from_array(_writable(arrays[name]), device=dev)
                    for name in header.entries}
        return {name: _from_array(_read_tensor(f, info, header.base, name, path), device=dev)
                for name, info in header.entries.items()}


def _writable(arr: np.ndarray) -> np.ndarray:
    return arr if arr.flags.writeable else arr.copy()


def _read_tensor(f, info: dict, base: int, name: str, path: str) -> np.ndarray:
    b, e = info["data_offsets"]
    raw = bytearray(e - b)
    f.seek(base + b)
    if f.readinto(raw) != e - b:
        raise CheckpointError(f"{path}: tensor {name!r} is cut short; truncated file")
    return F.view(raw, info, -b)


class SafeSlice:
    """One tensor of an open file, sliced before it is read (``safe_open(...).get_slice``)."""

    def __init__(self, owner: "SafetensorsFile", name: str, info: dict) -> None:
        self._owner, self._name, self._info = owner, name, info

    def get_shape(self) -> list[int]:
        return list(self._info["shape"])

    def get_dtype(self) -> str:
        return self._info["dtype"]

    def __getitem__(self, index) -> Tensor:
        items = index if isinstance(index, tuple) else (index,)
        shape = self._info["shape"]
        if sum(1 for i in items if i is not Ellipsis) > len(shape):
            raise IndexError(f"Error during slicing {index!r} with shape {shape}: more slicing "
                             "indexes than dimensions in tensor")
        for dim, (i, n) in enumerate(zip(items, shape)):
            start = i.start if isinstance(i, slice) else i
            if isinstance(start, int) and not -n <= start <= n:
                raise IndexError(f"Error during slicing {index!r} with shape {shape}: index "
                                 f"{start} out of bounds for tensor dimension #{dim} of size {n}")
        arr = F.view(self._owner._map, self._info, self._owner._header.base)
        return _from_array(np.array(arr[index], copy=True), device=self._owner.device)


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
        self._header = F.parse_header(memoryview(self._map), size, self.path)

    def keys(self) -> list[str]:
        return list(self._header.entries)

    def metadata(self) -> dict | None:
        """The file's ``__metadata__`` (None when it has none, as the package says)."""
        meta = self._header.metadata
        return None if meta is None else dict(meta)

    def _info(self, name: str) -> dict:
        info = self._header.entries.get(name)
        if info is None:
            raise KeyError(f"File does not contain tensor {name}")
        return info

    def get_tensor(self, name: str) -> Tensor:
        return _from_array(F.view(self._map, self._info(name), self._header.base),
                           device=self.device)

    def get_slice(self, name: str) -> SafeSlice:
        """The tensor ``name`` to slice lazily: only the indexed part is copied out."""
        return SafeSlice(self, name, self._info(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self._header.entries)

    def __enter__(self) -> "SafetensorsFile":
        return self

    def __exit__(self, *exc) -> None:
        pass


def safe_open(path, framework: str = "pt", device="cpu") -> SafetensorsFile:
    """Open a safetensors file for lazy, per-tensor reads (``keys``, ``get_tensor``,
    ``get_slice``, ``metadata``)."""
    return SafetensorsFile(path, framework, device)
