"""torch's pre-1.6 checkpoint stream: magic number, protocol, sys_info, pickle, storage bytes.

Layout: four pickles back to back (the magic number ``0x1950a86a20f9469cfc6c``, the protocol
version 1001, ``sys_info`` with ``little_endian`` and ``type_sizes``, then the object whose
storages are persistent ids ``('storage', type, key, location, numel, view_metadata)``), a
pickled list of storage keys, then per key an 8-byte element count and the raw bytes. Files
written on Windows (``long: 4``) and big-endian machines read the same.
"""
from __future__ import annotations

import pickle
import struct
import sys
from typing import Any, BinaryIO

import numpy as np

from ._loader import check_pid, make_unpickler, restore_location
from ._pickler import CheckpointPickler
from ._storage import CheckpointError, LoadedStorage, byteswap_storage

__all__ = ["MAGIC_NUMBER", "PROTOCOL_VERSION", "load_legacy", "save_legacy", "is_legacy"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_MAGIC_PICKLE = pickle.dumps(MAGIC_NUMBER, protocol=2)[2:]  # LONG1 opcode + bytes


def is_legacy(head: bytes) -> bool:
    """Whether a file starting with ``head`` looks like a legacy torch checkpoint."""
    return _MAGIC_PICKLE in head[:32]


def _no_pid(pid):
    raise CheckpointError(f"unexpected persistent id {pid!r} in the legacy header")


class _LegacyStorages:
    def __init__(self, restore, remaining: int) -> None:
        self.restore = restore
        self.remaining = remaining
        self.roots: dict[str, LoadedStorage] = {}
        self.numels: dict[str, int] = {}

    def persistent_load(self, pid) -> LoadedStorage:
        if isinstance(pid, tuple) and pid and pid[0] == "module":
            raise pickle.UnpicklingError(
                "Weights only load failed: this legacy checkpoint pickles a whole module class "
                f"({pid[1]!r}); load it with weights_only=False if you trust its source")
        stype, key, location, numel = check_pid(pid, "legacy pickle")
        view = pid[5] if len(pid) > 5 else None
        item = 1 if stype.dtype is None else stype.dtype.itemsize
        root = self.roots.get(key)
        if root is None:
            if numel * item > self.remaining:
                raise CheckpointError(f"legacy storage '{key}' claims {numel * item} bytes, more "
                                      f"than the file holds ({self.remaining}); corrupt file")
            root = LoadedStorage(np.empty(numel * item, dtype=np.uint8), stype.dtype, location,
                                 key)
            root = self.restore(root, location)
            self.roots[key] = root
            self.numels[key] = numel
        if view is None:
            return root
        if not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[0], str) and
                type(view[1]) is int and type(view[2]) is int and view[1] >= 0 and view[2] >= 0):
            raise CheckpointError(f"legacy storage view metadata {view!r} is malformed")
        view_key, offset, size = view
        if (offset + size) * item > root.data.size:
            raise CheckpointError(f"legacy storage view '{view_key}' reaches past storage '{key}'")
        st = LoadedStorage(root.data[offset * item:(offset + size) * item], stype.dtype,
                           location, view_key)
        st.device = root.device
        return st


def _read_exact(f: BinaryIO, out: np.ndarray, key: str) -> None:
    mv = memoryview(out)
    done = 0
    while done < len(mv):
        got = f.readinto(mv[done:])
        if not got:
            raise CheckpointError(f"legacy storage '{key}': file ends after {done} of "
                                  f"{len(mv)} bytes; truncated")
        done += got


def load_legacy(f: BinaryIO, size: int, *, map_location, weights_only: bool, mmap: bool,
                unknown_globals: str, pickle_load_args: dict) -> Any:
    """Load a legacy (pre-1.6) torch checkpoint from the open binary file ``f``."""
    if mmap:
        raise RuntimeError(
            "mmap can only be used with files saved with `torch.save(_use_new_zipfile_"
            "serialization=True), please torch.save your checkpoint with this option in order "
            "to use mmap.")

    def header(what: str):
        u = make_unpickler(f, _no_pid, weights_only=True, unknown_globals="error",
                           record=f"legacy {what}", pickle_load_args=pickle_load_args)
        return u.load()
    if header("magic number") != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = header("protocol version")
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    sys_info = header("sys_info")
    if not isinstance(sys_info, dict):
        raise CheckpointError("legacy sys_info is not a dict; corrupt file")
    little = sys_info.get("little_endian", True)
    storages = _LegacyStorages(restore_location(map_location), size - f.tell())
    result = make_unpickler(f, storages.persistent_load, weights_only=weights_only,
                            unknown_globals=unknown_globals, record="legacy pickle",
                            pickle_load_args=pickle_load_args).load()
    keys = header("storage keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise CheckpointError("legacy storage key list is malformed")
    for key in keys:
        st = storages.roots.get(key)
        if st is None:
            raise CheckpointError(f"legacy storage '{key}' is listed but never used")
        raw = f.read(8)
        if len(raw) != 8:
            raise CheckpointError(f"legacy storage '{key}': file ends before its size; "
                                  "truncated")
        numel = struct.unpack("<q" if little else ">q", raw)[0]
        if numel != storages.numels[key]:
            raise CheckpointError(f"legacy storage '{key}' has wrong size: expected "
                                  f"{storages.numels[key]} got {numel}")
        _read_exact(f, st.data, key)
        if not little:
            byteswap_storage(st.data, st.dtype)
    missing = set(storages.roots) - set(keys)
    if missing:
        raise CheckpointError(f"legacy storages {sorted(missing)} are used but have no data")
    return result


class _LegacyPickler(CheckpointPickler):
    def persistent_id(self, obj):
        pid = super().persistent_id(obj)
        return None if pid is None else pid + (None,)


def save_legacy(obj, f: BinaryIO, protocol: int = 2) -> None:
    """Write ``obj`` in torch's legacy (pre-1.6) format, as ``_use_new_zipfile_serialization=False``."""
    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": struct.calcsize("l")}}
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info):
        f.write(pickle.dumps(header, protocol=protocol))
    pickler = _LegacyPickler(f, protocol)
    pickler.dump(obj)
    records = pickler.storages
    f.write(pickle.dumps([r.key for r in records], protocol=protocol))
    for r in records:
        numel = r.data.size // (r.dtype.itemsize if r.typed else 1)
        f.write(struct.pack("<q", numel))
        f.write(memoryview(r.data))
