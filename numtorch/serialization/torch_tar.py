"""torch's oldest checkpoint format: a tar archive of ``storages``, ``tensors`` and ``pickle``.

``storages`` holds a pickled count, then per storage a pickled ``(key, location, storage
class)``, an 8-byte element count and the raw bytes, then a pickled list of storage views
``(key, root key, offset, numel)``; ``tensors`` a pickled count, then per tensor a pickled
``(key, storage key, tensor class)`` and its ndim, sizes, strides and offset as little-endian
integers; ``pickle`` the object, whose persistent ids are those keys. torch refuses the format
under ``weights_only=True``; numtorch reads it only with ``weights_only=False`` too.
"""
from __future__ import annotations

import struct
import tarfile
from typing import Any, BinaryIO

import numpy as np

from ._allowlist import UNSAFE_MESSAGE
from ._loader import make_unpickler, restore, run_unpickler
from ._rebuild import finish_tensor
from ._restore import restore_location
from ._storage import CheckpointError, LoadedStorage, Passthrough, StorageType, tensor_view

__all__ = ["is_tar", "load_tar", "WEIGHTS_ONLY_REFUSED"]

WEIGHTS_ONLY_REFUSED = ("Cannot use ``weights_only=True`` with files saved in the legacy .tar "
                        "format. " + UNSAFE_MESSAGE)


def is_tar(head: bytes) -> bool:
    """Whether a file starting with ``head`` (at least 512 bytes of it) is a tar archive."""
    return len(head) >= 262 and head[257:262] == b"ustar"


def _no_pid(pid):
    raise CheckpointError(f"unexpected persistent id {pid!r} in a tar checkpoint's tables")


def _exact(f: BinaryIO, n: int, what: str) -> bytes:
    raw = f.read(n)
    if len(raw) != n:
        raise CheckpointError(f"tar checkpoint: {what} is cut short; truncated file")
    return raw


class _Tables:
    """Reads the ``storages`` and ``tensors`` members into ``objects`` by key."""

    def __init__(self, restore_fn, pickle_load_args: dict) -> None:
        self.restore = restore_fn
        self.args = pickle_load_args
        self.objects: dict = {}

    def value(self, f: BinaryIO, what: str):
        return make_unpickler(f, _no_pid, weights_only=True, unknown_globals="placeholder",
                              record=f"tar {what}", pickle_load_args=self.args).load()

    def storages(self, f: BinaryIO) -> None:
        count = self.value(f, "storages")
        for _ in range(_count(count, "storages")):
            entry = self.value(f, "storages")
            if not (isinstance(entry, tuple) and len(entry) == 3 and
                    isinstance(entry[2], StorageType) and entry[2].dtype is not None):
                raise CheckpointError(f"tar checkpoint: malformed storage entry {entry!r}")
            key, location, stype = entry
            (numel,) = struct.unpack("<q", _exact(f, 8, f"storage {key!r}"))
            data = np.frombuffer(bytearray(_exact(f, numel * stype.dtype.itemsize,
                                                  f"storage {key!r}")), dtype=np.uint8)
            st = LoadedStorage(data, stype.dtype, str(location), str(key))
            self.objects[key] = restore(self.restore, st, str(location))
        for view in self.value(f, "storage views"):
            self._view(view)

    def _view(self, view) -> None:
        if not (isinstance(view, tuple) and len(view) == 4 and view[1] in self.objects and
                all(type(v) is int and v >= 0 for v in view[2:])):
            raise CheckpointError(f"tar checkpoint: malformed storage view {view!r}")
        target, root_key, offset, numel = view
        root = self.objects[root_key]
        item = root.dtype.itemsize
        if (offset + numel) * item > root.data.size:
            raise CheckpointError(f"tar checkpoint: storage view {target!r} reaches past its "
                                  "storage")
        st = LoadedStorage(root.data[offset * item:(offset + numel) * item], root.dtype,
                           root.location, str(target))
        st.device = root.device
        self.objects[target] = st

    def tensors(self, f: BinaryIO) -> None:
        count = self.value(f, "tensors")
        for _ in range(_count(count, "tensors")):
            entry = self.value(f, "tensors")
            if not (isinstance(entry, tuple) and len(entry) == 3 and entry[1] in self.objects):
                raise CheckpointError(f"tar checkpoint: malformed tensor entry {entry!r}")
            key, storage_key, _tensor_type = entry
            (ndim,) = struct.unpack("<i", _exact(f, 4, f"tensor {key!r}"))
            if not 0 <= ndim <= 64:
                raise CheckpointError(f"tar checkpoint: tensor {key!r} has {ndim} dimensions")
            _exact(f, 4, f"tensor {key!r}")  # ndim was written as 8 bytes
            size = struct.unpack(f"<{ndim}q", _exact(f, 8 * ndim, f"tensor {key!r}"))
            stride = struct.unpack(f"<{ndim}q", _exact(f, 8 * ndim, f"tensor {key!r}"))
            (offset,) = struct.unpack("<q", _exact(f, 8, f"tensor {key!r}"))
            storage = self.objects[storage_key]
            view = tensor_view(storage, storage.dtype, offset, size, stride)
            self.objects[key] = finish_tensor(view, storage, False)


def _count(n, what: str) -> int:
    if type(n) is not int or n < 0:
        raise CheckpointError(f"tar checkpoint: invalid number of {what} {n!r}")
    return n


def _member(tar: tarfile.TarFile, name: str) -> BinaryIO:
    try:
        f = tar.extractfile(name)
    except KeyError:
        f = None
    if f is None:
        raise CheckpointError(f"tar checkpoint has no '{name}' member")
    return f


def load_tar(f: BinaryIO, *, map_location, unknown_globals: str, pickle_load_args: dict) -> Any:
    """Load a tar-format checkpoint (``weights_only=False`` only: the caller checks)."""
    try:
        tar = tarfile.open(fileobj=f, mode="r:", format=tarfile.PAX_FORMAT)
    except tarfile.TarError as exc:
        raise CheckpointError(f"not a valid tar checkpoint: {exc}") from None
    with tar:
        tables = _Tables(restore_location(map_location), pickle_load_args)
        try:
            tables.storages(_member(tar, "storages"))
        except Passthrough as wrapped:  # map_location's own error
            raise wrapped.exc from None
        tables.tensors(_member(tar, "tensors"))

        def persistent_load(saved_id):
            if isinstance(saved_id, tuple):
                return saved_id[0]  # a whole module's class
            try:
                return tables.objects[int(saved_id)]
            except (KeyError, ValueError, TypeError):
                raise CheckpointError(f"tar checkpoint: unknown persistent id {saved_id!r}") \
                    from None
        unpickler = make_unpickler(_member(tar, "pickle"), persistent_load, weights_only=False,
                                   unknown_globals=unknown_globals, record="tar pickle",
                                   pickle_load_args=pickle_load_args)
        return run_unpickler(unpickler)
