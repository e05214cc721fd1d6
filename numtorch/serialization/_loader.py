"""Shared loading machinery: persistent ids -> storages, choosing and running the unpickler.

A storage handed to the unpickler always holds its bytes: zip records are read ahead on two
threads in the order torch wrote them (the order its pickle uses them), and each storage waits
for its own read before anything (a ``map_location`` callable, an allow-listed class, code under
``weights_only=False``) can see it.
"""
from __future__ import annotations

import io
import mmap as _mmap
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from .._device import META
from ._restore import is_meta_location, restore_location
from ._storage import CheckpointError, LoadedStorage, Passthrough, StorageType, meta_bytes
from ._unpickler import PlaceholderGlobal, TrustingUnpickler, WeightsUnpickler, storage_placeholder
from . import torch_zip as Z

__all__ = ["make_unpickler", "run_unpickler", "check_pid", "ZipStorages", "load_zip", "map_file",
           "UNKNOWN_GLOBALS"]

UNKNOWN_GLOBALS = ("error", "placeholder")


def make_unpickler(file, persistent_load, *, weights_only: bool, unknown_globals: str,
                   record: str, pickle_load_args: dict):
    """The unpickler for one pickle record under the chosen trust mode."""
    if unknown_globals not in UNKNOWN_GLOBALS:
        raise ValueError(f"unknown_globals must be one of {UNKNOWN_GLOBALS}, got "
                         f"{unknown_globals!r}")
    if weights_only:
        return WeightsUnpickler(file, persistent_load=persistent_load,
                                placeholders=unknown_globals == "placeholder",
                                encoding=pickle_load_args.get("encoding", "utf-8"),
                                record=record)
    return TrustingUnpickler(file, persistent_load=persistent_load, record=record,
                             **pickle_load_args)


def run_unpickler(unpickler) -> Any:
    """``unpickler.load()``; errors of user code and of ``map_location`` come out unchanged."""
    try:
        return unpickler.load()
    except Passthrough as wrapped:
        raise wrapped.exc from None


def check_pid(pid, record: str, placeholders: bool = False):
    """Validate a ``('storage', type, key, location, numel)`` persistent id.

    Returns ``(storage type, key, location, numel)``; the type is a ``PlaceholderGlobal`` for a
    storage class numtorch cannot build when ``placeholders`` allows it.
    """
    if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
        raise CheckpointError(f"{record}: unsupported persistent id {pid!r}")
    _, stype, key, location, numel = pid[:5]
    if isinstance(location, bytes):
        location = location.decode("ascii", "replace")
    if not isinstance(stype, StorageType) and not (placeholders and
                                                   isinstance(stype, PlaceholderGlobal)):
        raise CheckpointError(f"{record}: persistent id names {stype!r}, not a storage type")
    if not isinstance(key, str) or not isinstance(location, str) or type(numel) is not int or \
            numel < 0:
        raise CheckpointError(f"{record}: malformed persistent id {pid!r}")
    return stype, key, location, numel


def restore(restore_fn, storage: LoadedStorage, location: str) -> LoadedStorage:
    """``map_location`` applied to one storage; its errors pass through the unpickler."""
    try:
        return restore_fn(storage, location)
    except Exception as exc:  # noqa: BLE001 - torch's and the user's errors, unchanged
        raise Passthrough(exc) from exc


class ZipStorages:
    """The storages of one pickle of a zip checkpoint (records under ``folder``), read once."""

    def __init__(self, reader: Z.ZipReader, map_location, byteorder: str, mapped,
                 folder: str = "data", placeholders: bool = False) -> None:
        self.reader = reader
        self.restore = restore_location(map_location)
        self.meta = is_meta_location(map_location)
        self.swap = byteorder == "big"
        self.mapped = None if self.swap else mapped  # swapped bytes need their own memory
        self.folder = folder
        self.placeholders = placeholders
        self.record = reader.prefix + ("data.pkl" if folder == "data" else "constants.pkl")
        self.cache: dict[str, LoadedStorage] = {}
        self.pending: dict[str, Future] = {}
        self.pool: ThreadPoolExecutor | None = None
        if self.mapped is None and not self.meta and Z._fileno(reader.f) is not None:
            self._read_ahead()

    def _read_ahead(self) -> None:
        start = f"{self.folder}/"
        names = [n for n in self.reader.names() if n.startswith(start) and
                 self.reader.is_stored(n)]
        if names:
            self.pool = ThreadPoolExecutor(2, thread_name_prefix="numtorch-load")
            for name in names:
                self.pending[name[len(start):]] = self.pool.submit(self._read_record, name)

    def _read_record(self, name: str) -> np.ndarray:
        start, size = self.reader.locate(name)
        out = np.empty(size, dtype=np.uint8)
        Z.read_into(self.reader.f, start, out, self.reader.prefix + name)
        return out

    def persistent_load(self, pid):
        stype, key, location, numel = check_pid(pid, self.record, self.placeholders)
        if isinstance(stype, PlaceholderGlobal):
            return storage_placeholder(stype, pid, self._raw(key))
        dtype = stype.dtype
        st = self.cache.get(key)
        if st is None:
            nbytes = numel * (1 if dtype is None else dtype.itemsize)
            st = LoadedStorage(self._bytes(key, nbytes), dtype, location, key)
            st.swap = self.swap  # swapped in place by the first tensor viewing it
            st = self._place(st, location)
            self.cache[key] = st
        elif st.dtype is not dtype and dtype is not None:
            moved = LoadedStorage(st.data, dtype, location, key)
            moved.device, moved.swap = st.device, st.swap
            st = moved
        return st

    def _place(self, st: LoadedStorage, location: str) -> LoadedStorage:
        if self.meta:  # torch reads nothing and skips map_location for the meta device
            st.device = META
            return st
        return restore(self.restore, st, location)

    def _name(self, key: str) -> str:
        return f"{self.folder}/{key}"

    def _raw(self, key: str) -> np.ndarray:
        job = self.pending.pop(key, None)
        if job is not None:
            return job.result()
        return np.frombuffer(bytearray(self.reader.read(self._name(key))), dtype=np.uint8)

    def _bytes(self, key: str, nbytes: int) -> np.ndarray:
        name = self._name(key)
        size = self.reader.stored_size(name)
        if self.meta:
            return meta_bytes(nbytes)
        if size is not None:
            self._check_size(size, nbytes, name)
            if self.mapped is not None:  # its own array over the map: one root per storage
                start, size = self.reader.locate(name)
                return np.frombuffer(self.mapped, dtype=np.uint8, count=size, offset=start)
        data = self._raw(key)
        self._check_size(data.size, nbytes, name)
        return data

    def _check_size(self, size: int, nbytes: int, name: str) -> None:
        """torch's check (its mmap path reads only the first ``nbytes`` of a longer record)."""
        if size != nbytes and not (self.mapped is not None and size > nbytes):
            raise CheckpointError(
                f"record size ({size} bytes) does not match expected size ({nbytes} bytes = "
                f"{nbytes} elements * 1 bytes/element) for dtype Byte (record "
                f"'{self.reader.prefix}{name}')")

    def close(self) -> None:
        """Stop reading ahead (records nobody asked for are dropped)."""
        if self.pool is not None:
            for job in self.pending.values():
                job.cancel()
            self.pool.shutdown(wait=True)
            self.pool = None


def read_byteorder(reader: Z.ZipReader) -> str:
    """The ``byteorder`` record ('little' when absent, as torch assumes)."""
    if not reader.has("byteorder"):
        return "little"
    byteorder = reader.read("byteorder").decode("ascii", "replace").strip()
    if byteorder not in ("little", "big"):
        raise ValueError(f"Unknown endianness type: {byteorder}")
    return byteorder


def load_zip(reader: Z.ZipReader, *, map_location, weights_only: bool, mmap_file,
             unknown_globals: str, pickle_load_args: dict) -> Any:
    """Load a torch zip checkpoint from its open ``reader``."""
    storages = ZipStorages(reader, map_location, read_byteorder(reader), mmap_file,
                           placeholders=unknown_globals == "placeholder")
    try:
        data = reader.read("data.pkl")
        unpickler = make_unpickler(io.BytesIO(data), storages.persistent_load,
                                   weights_only=weights_only, unknown_globals=unknown_globals,
                                   record=reader.prefix + "data.pkl",
                                   pickle_load_args=pickle_load_args)
        return run_unpickler(unpickler)
    finally:
        storages.close()


def map_file(f):
    """A copy-on-write memory map of the open real file ``f``."""
    try:
        return _mmap.mmap(f.fileno(), 0, access=_mmap.ACCESS_COPY)
    except (ValueError, OSError) as exc:
        raise CheckpointError(f"cannot memory-map the checkpoint: {exc}") from None
