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

from ._loader import check_pid, make_unpickler, restore, run_unpickler
from ._pickler import CheckpointPickler
from ._restore import restore_location
from ._storage import CheckpointError, LoadedStorage, byteswap_storage
from ._unpickler import PlaceholderGlobal, storage_placeholder

__all__ = ["MAGIC_NUMBER", "PROTOCOL_VERSION", "load_legacy", "save_legacy", "is_legacy",
           "mmap_refused"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_MAGIC_PICKLE = pickle.dumps(MAGIC_NUMBER, protocol=2)[2:]  # LONG1 opcode + bytes
# element sizes of the storage classes numtorch loads only as placeholders (quantized)
_PLACEHOLDER_ITEMSIZE = {"QInt8Storage": 1, "QUInt8Storage": 1, "QInt32Storage": 4,
                         "QUInt4x2Storage": 1, "QUInt2x4Storage": 1}


def is_legacy(head: bytes) -> bool:
    """Whether a file starting with ``head`` looks like a legacy torch checkpoint."""
    return _MAGIC_PICKLE in head[:32]


def mmap_refused(f) -> RuntimeError:
    """torch's error for ``mmap=True`` on a file that is not a zip checkpoint."""
    f_name = f"{f}, " if isinstance(f, str) else ""
    return RuntimeError(
        "mmap can only be used with files saved with "
        f"`torch.save({f_name}_use_new_zipfile_serialization=True), please torch.save your "
        "checkpoint with this option in order to use mmap.")


def _no_pid(pid):
    raise CheckpointError(f"unexpected persistent id {pid!r} in the legacy header")


class _LegacyStorages:
    def __init__(self, restore_fn, remaining: int, weights_only: bool,
                 placeholders: bool) -> None:
        self.restore = restore_fn
        self.remaining = remaining
        self.weights_only = weights_only
        self.placeholders = placeholders
        self.roots: dict[str, tuple] = {}  # key -> (storage or placeholder, bytes, numel)

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and pid and pid[0] in ("module", b"module"):
            if self.weights_only and not (len(pid) > 1 and isinstance(pid[1], PlaceholderGlobal)):
                raise pickle.UnpicklingError(
                    f"Only persistent_load of storage is allowed, but got {type(pid[0])}")
            return pid[1]  # a whole module's class (its source is not checked)
        stype, key, location, numel = check_pid(pid, "legacy pickle", self.placeholders)
        view = pid[5] if len(pid) > 5 else None
        root = self.roots.get(key)
        if root is None:
            root = self._new_root(stype, pid, key, location, numel)
        st, data, _ = root
        if view is None or not isinstance(st, LoadedStorage):
            return st
        return self._view(st, view, key)

    def _new_root(self, stype, pid, key: str, location: str, numel: int) -> tuple:
        if isinstance(stype, PlaceholderGlobal):
            item = _PLACEHOLDER_ITEMSIZE.get(stype.name)
            if item is None:
                raise CheckpointError(f"legacy storage '{key}' is a {stype!r}: numtorch cannot "
                                      "tell its size")
        else:
            item = 1 if stype.dtype is None else stype.dtype.itemsize
        if numel * item > self.remaining:
            raise CheckpointError(f"legacy storage '{key}' claims {numel * item} bytes, more "
                                  f"than the file holds ({self.remaining}); corrupt file")
        data = np.empty(numel * item, dtype=np.uint8)
        if isinstance(stype, PlaceholderGlobal):
            st = storage_placeholder(stype, pid, data)
        else:
            st = restore(self.restore, LoadedStorage(data, stype.dtype, location, key), location)
        self.roots[key] = root = (st, data, numel)
        return root

    @staticmethod
    def _view(root: LoadedStorage, view, key: str) -> LoadedStorage:
        if not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[0], str) and
                type(view[1]) is int and type(view[2]) is int and view[1] >= 0 and view[2] >= 0):
            raise CheckpointError(f"legacy storage view metadata {view!r} is malformed")
        view_key, offset, size = view
        item = 1 if root.dtype is None else root.dtype.itemsize
        if (offset + size) * item > root.data.size:
            raise CheckpointError(f"legacy storage view '{view_key}' reaches past storage '{key}'")
        st = LoadedStorage(root.data[offset * item:(offset + size) * item], root.dtype,
                           root.location, view_key)
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


def _header(f, what: str, pickle_load_args: dict):
    u = make_unpickler(f, _no_pid, weights_only=True, unknown_globals="error",
                       record=f"legacy {what}", pickle_load_args=pickle_load_args)
    return u.load()


def load_legacy(f: BinaryIO, size: int, *, map_location, weights_only: bool,
                unknown_globals: str, pickle_load_args: dict, mmap: bool = False,
                read_data: bool = True) -> Any:
    """Load a legacy (pre-1.6) torch checkpoint from the open binary file ``f`` (``size`` bytes
    from its current position). ``read_data=False`` skips the storages' bytes (their tensors
    hold uninitialised memory: for looking at shapes and dtypes only)."""
    if mmap:
        raise mmap_refused(f)
    end = f.tell() + size
    if _header(f, "magic number", pickle_load_args) != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = _header(f, "protocol version", pickle_load_args)
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    sys_info = _header(f, "sys_info", pickle_load_args)
    if not isinstance(sys_info, dict):
        raise CheckpointError("legacy sys_info is not a dict; corrupt file")
    little = sys_info.get("little_endian", True)
    storages = _LegacyStorages(restore_location(map_location), end - f.tell(), weights_only,
                               unknown_globals == "placeholder")
    result = run_unpickler(make_unpickler(f, storages.persistent_load, weights_only=weights_only,
                                          unknown_globals=unknown_globals, record="legacy pickle",
                                          pickle_load_args=pickle_load_args))
    keys = _header(f, "storage keys", pickle_load_args)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise CheckpointError("legacy storage key list is malformed")
    for key in keys:
        _read_storage(f, storages, key, little, read_data)
    missing = set(storages.roots) - set(keys)
    if missing:
        raise CheckpointError(f"legacy storages {sorted(missing)} are used but have no data")
    return result


def _read_storage(f: BinaryIO, storages: _LegacyStorages, key: str, little: bool,
                  read_data: bool) -> None:
    root = storages.roots.get(key)
    if root is None:
        raise CheckpointError(f"legacy storage '{key}' is listed but never used")
    st, data, expected = root
    raw = f.read(8)
    if len(raw) != 8:
        raise CheckpointError(f"legacy storage '{key}': file ends before its size; truncated")
    numel = struct.unpack("<q" if little else ">q", raw)[0]
    if numel != expected:
        raise CheckpointError(f"legacy storage '{key}' has wrong size: expected {expected} got "
                              f"{numel}")
    if not read_data:
        f.seek(data.size, 1)
        return
    _read_exact(f, data, key)
    if not little and isinstance(st, LoadedStorage):
        byteswap_storage(data, st.dtype)


class _LegacyPickler(CheckpointPickler):
    def persistent_id(self, obj):
        pid = super().persistent_id(obj)
        return None if pid is None else pid + (None,)


def save_legacy(obj, f: BinaryIO, protocol: int = 2) -> None:
    """Write ``obj`` in torch's legacy (pre-1.6) format, as ``_use_new_zipfile_serialization=False``."""
    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": struct.calcsize("=l")}}
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
