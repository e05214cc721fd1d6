"""Storage bytes -> NumPy views: one shared byte buffer per storage, validated strided views.

A loaded storage is a 1-D ``uint8`` array (read into memory, or a copy-on-write slice of a
memory map). Every tensor that names the storage is a view of that one array, so views and tied
weights keep sharing memory. ``tensor_view`` checks offset, sizes and strides against the buffer
before building the view: a hostile checkpoint can never make a view reach outside its storage.
"""
from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._device import CPU, device as Device

__all__ = ["CheckpointError", "Passthrough", "StorageType", "LoadedStorage", "tensor_view",
           "storage_type", "UNTYPED", "byteswap_storage", "meta_bytes"]


class CheckpointError(RuntimeError):
    """A checkpoint file is corrupt, truncated, or not a checkpoint; says what and where."""


class Passthrough(Exception):
    """Carries an error of user code (``map_location``, allow-listed classes) or one of torch's
    own errors out of an unpickler unchanged; ``exc`` is the error itself."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(exc)
        self.exc = exc


class StorageType:
    """What a checkpoint's ``torch.FloatStorage``-style global resolves to: a dtype marker."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype) -> None:
        self.name = name
        self.dtype = dtype  # None for torch.UntypedStorage (bytes)

    def __repr__(self) -> str:
        return f"<storage type torch.{self.name}>"

    def __setstate__(self, state):
        raise CheckpointError(f"refusing to BUILD state into storage type torch.{self.name}")

    def __call__(self, *args, **kwargs):
        raise CheckpointError(f"refusing to construct torch.{self.name} from a pickle; storages "
                              "come only from the checkpoint's records")


_TYPES = {d.storage_name: StorageType(d.storage_name, d) for d in D.ALL_DTYPES if d.storage_name}
UNTYPED = StorageType("UntypedStorage", None)
_TYPES["UntypedStorage"] = UNTYPED
_TYPES["TypedStorage"] = StorageType("TypedStorage", None)


def storage_type(name: str) -> StorageType | None:
    """The marker for a torch storage class name (``FloatStorage``, ``UntypedStorage`` ...)."""
    return _TYPES.get(name)


class LoadedStorage:
    """Bytes of one storage from a checkpoint, with the dtype its persistent id named.

    ``data`` is a 1-D uint8 NumPy array; ``location`` the device string saved with it
    (``'cpu'``, ``'cuda:0'``); ``device`` where its tensors are placed after ``map_location``;
    ``swap`` whether its bytes are still big-endian (an untyped storage learns its dtype from
    the first tensor that views it).
    """

    __slots__ = ("data", "dtype", "location", "device", "key", "swap")

    def __init__(self, data: np.ndarray, dtype, location: str, key: str) -> None:
        self.data = data
        self.dtype = dtype
        self.location = location
        self.device = CPU
        self.key = key
        self.swap = False

    # the small part of torch's UntypedStorage API a map_location callable uses (bytes)
    def nbytes(self) -> int:
        return int(self.data.size)

    def size(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        return int(self.data.size)

    def __getitem__(self, i: int) -> int:
        if not isinstance(i, int):
            raise TypeError("storage indices must be integers")
        return int(self.data[i])

    def tolist(self) -> list:
        return self.data.tolist()

    def cpu(self) -> "LoadedStorage":
        self.device = CPU
        return self

    def to(self, device) -> "LoadedStorage":
        self.device = Device(device) if not isinstance(device, Device) else device
        return self

    def cuda(self, device=None):
        from .._device import cuda_unavailable
        raise cuda_unavailable()

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def __setstate__(self, state):
        raise CheckpointError(f"refusing to BUILD state into storage '{self.key}'")

    def __repr__(self) -> str:
        return (f"<storage '{self.key}' {self.data.size} bytes "
                f"{'untyped' if self.dtype is None else self.dtype} on {self.location}>")


def _is_int(x) -> bool:
    return type(x) is int or isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _check_shape(size, stride, what: str):
    if not isinstance(size, (tuple, list)) or not all(_is_int(s) and s >= 0 for s in size):
        raise CheckpointError(f"{what}: invalid tensor size {size!r}")
    if not isinstance(stride, (tuple, list)) or len(stride) != len(size) or \
            not all(_is_int(s) and s >= 0 for s in stride):
        raise CheckpointError(f"{what}: invalid strides {stride!r} for size {tuple(size)!r}")


def tensor_view(storage: LoadedStorage, dtype, offset, size, stride) -> np.ndarray:
    """A NumPy view of ``storage`` as ``dtype`` with element ``offset``, ``size`` and ``stride``.

    Raises CheckpointError when the view would reach outside the storage's bytes.
    """
    what = f"storage '{storage.key}'"
    if not isinstance(dtype, D.dtype):
        raise CheckpointError(f"{what}: {dtype!r} is not a tensor dtype")
    if not _is_int(offset) or offset < 0:
        raise CheckpointError(f"{what}: invalid storage offset {offset!r}")
    _check_shape(size, stride, what)
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    item = dtype.itemsize
    buf = storage.data
    numel = 1
    for s in size:
        numel *= s
    if numel == 0:
        return np.empty(size, dtype=dtype.np)
    last = int(offset) + sum((n - 1) * s for n, s in zip(size, stride))
    if (last + 1) * item > buf.size:
        raise CheckpointError(
            f"{what}: a tensor of size {size} with strides {stride} at offset {offset} needs "
            f"{(last + 1) * item} bytes but the storage holds {buf.size}; the file is corrupt")
    if storage.device.type == "meta":  # shape and dtype only, no memory
        return np.broadcast_to(np.zeros((), dtype=dtype.np), size)
    if storage.swap:
        storage.data = buf = byteswap_storage(buf, dtype)
        storage.swap = False
    return np.ndarray(size, dtype=dtype.np, buffer=buf, offset=int(offset) * item,
                      strides=tuple(s * item for s in stride))


def meta_bytes(nbytes: int) -> np.ndarray:
    """Stand-in bytes of a storage mapped to the meta device: its size, no memory."""
    return np.broadcast_to(np.zeros(1, dtype=np.uint8), (nbytes,))


def byteswap_storage(data: np.ndarray, dtype) -> np.ndarray:
    """Turn a big-endian storage into native order, in place when the buffer is writable."""
    if dtype is None or dtype.itemsize == 1:
        return data
    if not data.flags.writeable:
        data = data.copy()
    n = data.size // dtype.itemsize
    if dtype.is_complex:
        view = data[:n * dtype.itemsize].view(np.dtype(f"u{dtype.itemsize // 2}"))
    else:
        view = data[:n * dtype.itemsize].view(np.dtype(f"u{dtype.itemsize}"))
    view.byteswap(inplace=True)
    return data
