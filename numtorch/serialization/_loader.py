"""Shared loading machinery: map_location, persistent ids -> storages, choosing the unpickler."""
from __future__ import annotations

import io
import mmap as _mmap
import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

from .._device import CPU, META, device as Device
from ._storage import CheckpointError, LoadedStorage, StorageType, byteswap_storage
from ._unpickler import TrustingUnpickler, WeightsUnpickler
from . import torch_zip as Z

__all__ = ["restore_location", "make_unpickler", "load_zip", "UNKNOWN_GLOBALS"]

UNKNOWN_GLOBALS = ("error", "placeholder")
_CUDA_MESSAGE = (
    "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
    "If you are running on a CPU-only machine, please use torch.load with "
    "map_location=torch.device('cpu') to map your storages to the CPU.")


def _default_restore(storage: LoadedStorage, location: str) -> LoadedStorage:
    loc = str(location)
    if loc == "cpu" or loc.startswith("cpu:"):
        storage.device = CPU
    elif loc == "meta":
        storage.device = META
    elif loc.startswith("cuda"):
        raise RuntimeError(_CUDA_MESSAGE)
    else:
        raise RuntimeError(f"don't know how to restore data location of "
                           f"torch.storage.UntypedStorage (tagged with {loc})")
    return storage


def restore_location(map_location) -> Callable[[LoadedStorage, str], LoadedStorage]:
    """torch's map_location rules: None, str, device, dict or callable(storage, location)."""
    if map_location is None:
        return _default_restore
    if isinstance(map_location, (str, Device)):
        target = str(map_location)
        return lambda storage, location: _default_restore(storage, target)
    if isinstance(map_location, dict):
        def by_dict(storage, location):
            return _default_restore(storage, str(map_location.get(location, location)))
        return by_dict
    if callable(map_location):
        def by_call(storage, location):
            result = map_location(storage, location)
            if result is None:
                return _default_restore(storage, location)
            if not isinstance(result, LoadedStorage):
                raise RuntimeError(f"map_location returned {type(result).__name__}; it must "
                                   "return the storage it was given (or None)")
            return result
        return by_call
    raise TypeError(f"map_location must be None, a str, a torch.device, a dict or a callable, "
                    f"got {type(map_location).__name__}")


def make_unpickler(file, persistent_load, *, weights_only: bool, unknown_globals: str,
                   record: str, pickle_load_args: dict):
    """The unpickler for one pickle record under the chosen trust mode."""
    if unknown_globals not in UNKNOWN_GLOBALS:
        raise ValueError(f"unknown_globals must be one of {UNKNOWN_GLOBALS}, got "
                         f"{unknown_globals!r}")
    encoding = pickle_load_args.get("encoding", "ASCII")
    if weights_only:
        return WeightsUnpickler(file, persistent_load=persistent_load,
                                placeholders=unknown_globals == "placeholder",
                                encoding=encoding, record=record)
    return TrustingUnpickler(file, persistent_load=persistent_load,
                             **pickle_load_args)


def check_pid(pid, record: str) -> tuple[StorageType, str, str, int]:
    """Validate a ``('storage', type, key, location, numel)`` persistent id."""
    if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
        raise CheckpointError(f"{record}: unsupported persistent id {pid!r}")
    _, stype, key, location, numel = pid[:5]
    if not isinstance(stype, StorageType):
        raise CheckpointError(f"{record}: persistent id names {stype!r}, not a storage type")
    if not isinstance(key, str) or not isinstance(location, str) or type(numel) is not int or \
            numel < 0:
        raise CheckpointError(f"{record}: malformed persistent id {pid!r}")
    return stype, key, location, numel


class _ZipStorages:
    """Storages of a zip checkpoint, each read (or mapped) once, in parallel where possible."""

    def __init__(self, reader: Z.ZipReader, restore, byteorder: str, mapped) -> None:
        self.reader = reader
        self.restore = restore
        self.swap = byteorder == "big"
        self.mapped = mapped
        self.cache: dict[str, LoadedStorage] = {}
        self.jobs: list = []
        self.pool: ThreadPoolExecutor | None = None
        self.fd_ok = Z._fileno(reader.f) is not None

    def persistent_load(self, pid) -> LoadedStorage:
        stype, key, location, numel = check_pid(pid, self.reader.prefix + "data.pkl")
        dtype = stype.dtype
        nbytes = numel * (1 if dtype is None else dtype.itemsize)
        st = self.cache.get(key)
        if st is None:
            data = self._bytes(key, nbytes)
            st = LoadedStorage(data, dtype, location, key)
            st = self.restore(st, location)
            self.cache[key] = st
        elif st.dtype is not dtype and dtype is not None:
            st = LoadedStorage(st.data, dtype, location, key)
            st.device = self.cache[key].device
        if st.data.size < nbytes:
            raise CheckpointError(f"record '{self.reader.prefix}data/{key}' holds "
                                  f"{st.data.size} bytes but its storage needs {nbytes}")
        return st

    def _bytes(self, key: str, nbytes: int) -> np.ndarray:
        name = f"data/{key}"
        size = self.reader.stored_size(name)
        if size is None:  # compressed record
            return np.frombuffer(bytearray(self.reader.read(name)), dtype=np.uint8)
        if size < nbytes:
            raise CheckpointError(f"record '{self.reader.prefix}{name}' holds {size} bytes but "
                                  f"its storage needs {nbytes}")
        if self.mapped is not None:  # its own array over the map: one root per storage
            start, size = self.reader.locate(name)
            return np.frombuffer(self.mapped, dtype=np.uint8, count=size, offset=start)
        out = np.empty(size, dtype=np.uint8)
        if self.fd_ok:  # header lookup and read run in worker threads, records in parallel
            if self.pool is None:
                self.pool = ThreadPoolExecutor(2)
            self.jobs.append(self.pool.submit(self._read_record, name, out))
        else:
            self._read_record(name, out)
        return out

    def _read_record(self, name: str, out: np.ndarray) -> None:
        start, _size = self.reader.locate(name)
        Z.read_into(self.reader.f, start, out)

    def finish(self) -> None:
        if self.pool is not None:
            try:
                for job in self.jobs:
                    job.result()
            finally:
                self.pool.shutdown()
        if self.swap:
            for st in self.cache.values():  # buffers here are private and writable
                byteswap_storage(st.data, st.dtype)


def load_zip(reader: Z.ZipReader, *, map_location, weights_only: bool, mmap_file,
             unknown_globals: str, pickle_load_args: dict, pickle_name: str = "data.pkl") -> Any:
    """Load a torch zip checkpoint from its open ``reader``."""
    byteorder = "little"
    if reader.has("byteorder"):
        byteorder = reader.read("byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise CheckpointError(f"record '{reader.prefix}byteorder' says {byteorder!r}; "
                                  "expected 'little' or 'big'")
    storages = _ZipStorages(reader, restore_location(map_location), byteorder, mmap_file)
    if byteorder == "big" and mmap_file is not None:
        storages.mapped = None  # swapped bytes need their own memory
    data = reader.read(pickle_name)
    unpickler = make_unpickler(io.BytesIO(data), storages.persistent_load, weights_only=weights_only,
                               unknown_globals=unknown_globals,
                               record=reader.prefix + pickle_name,
                               pickle_load_args=pickle_load_args)
    try:
        result = unpickler.load()
    finally:
        storages.finish()
    return result


def map_file(f):
    """A copy-on-write memory map of a real file (a private copy for in-memory files)."""
    fd = Z._fileno(f)
    if fd is None:
        if isinstance(f, io.BytesIO):
            return bytearray(f.getbuffer())
        return None
    try:
        return _mmap.mmap(fd, 0, access=_mmap.ACCESS_COPY)
    except (ValueError, OSError) as exc:
        raise CheckpointError(f"cannot memory-map the checkpoint: {exc}") from None
