"""A checkpoint's contents as entries: one per tensor, with what it shares."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._tensor import Tensor


@dataclass
class Entry:
    """One tensor in a file: where it sits, what it is, and what it shares."""
    key: str
    shape: tuple
    dtype: str
    nbytes: int
    kind: str  # "param", "buffer", "optim", "tensor"
    tensor: Any = field(default=None, repr=False)
    tied_to: str | None = None
    shares_storage_with: str | None = None
    storage_bytes: int = 0  # bytes of its storage, counted at the storage's first tensor only


@dataclass
class FileContents:
    """What a checkpoint holds; ``metadata`` is None for a file with no place for any."""
    path: str
    format: str
    entries: list
    unsafe_globals: list = field(default_factory=list)
    metadata: dict | None = None
    non_tensors: dict = field(default_factory=dict)
    module_metadata: Any = None


def make_entry(key: str, t: Tensor, kind: str) -> Entry:
    return Entry(key=key, shape=tuple(t.shape), dtype=str(t.dtype).replace("torch.", ""),
                 nbytes=t.numel() * t.element_size(), kind=kind, tensor=t)


def root_array(a: np.ndarray) -> np.ndarray:
    """The array owning the memory ``a`` views (a storage's bytes, as loaded)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def memory_key(t: Tensor) -> tuple | None:
    """Equal for two tensors exactly when they view the same elements; None if empty."""
    a = t._data
    if a.size == 0:
        return None
    return (id(root_array(a)), a.__array_interface__["data"][0], a.shape, a.strides,
            a.dtype.str)


def mark_sharing(entries: list) -> None:
    """Mark tied tensors (same view) and views sharing a storage; count each storage once."""
    by_view: dict = {}
    by_root: dict = {}
    for e in entries:
        t = e.tensor
        key = memory_key(t) if t is not None else None
        if key is None:
            e.storage_bytes = e.nbytes
            continue
        if key in by_view:
            e.tied_to = by_view[key]
            continue
        by_view[key] = e.key
        if key[0] in by_root:
            e.shares_storage_with = by_root[key[0]]
        else:
            by_root[key[0]] = e.key
            e.storage_bytes = root_array(t._data).nbytes
