"""Reading any checkpoint file into a flat, labelled list of tensors, without running its code."""
from __future__ import annotations

import json
import os
import pickle
import struct
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._tensor import Tensor

BUFFER_NAMES = {"running_mean", "running_var", "num_batches_tracked"}
BUNDLE_FORMAT = "numtorch.checkpoint"


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


@dataclass
class FileContents:
    path: str
    format: str
    entries: list
    unsafe_globals: list = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    non_tensors: dict = field(default_factory=dict)
    module_metadata: Any = None


def detect_format(path: str) -> str:
    """'safetensors', 'torch-zip', 'torch-legacy' or 'torchscript'; ValueError otherwise."""
    with open(path, "rb") as f:
        head = f.read(16)
    if len(head) >= 9:
        (n,) = struct.unpack("<Q", head[:8])
        if head[8:9] == b"{" and 2 <= n <= os.path.getsize(path) - 8:
            return "safetensors"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
        if any(n.endswith("constants.pkl") for n in names) or any("/code/" in n for n in names):
            return "torchscript"
        return "torch-zip"
    if head[:1] == b"\x80":
        return "torch-legacy"
    raise ValueError(f"{path}: not a PyTorch checkpoint (zip or legacy pickle) nor a "
                     "safetensors file")


def read(path: str, *, data: bool = False) -> FileContents:
    """Load ``path`` safely (weights_only; tensors memory-mapped unless ``data``)."""
    fmt = detect_format(path)
    if fmt == "safetensors":
        return _read_safetensors(path, fmt)
    from .. import serialization as ser
    unsafe: list = []
    try:
        obj = ser.load(path, map_location="cpu", weights_only=True,
                       mmap=(fmt == "torch-zip" and not data))
    except pickle.UnpicklingError:
        unsafe = list(ser.get_unsafe_globals_in_checkpoint(path))
        obj = ser.load(path, map_location="cpu", weights_only=True, mmap=False,
                       unknown_globals="placeholder")
    return _from_object(path, fmt, obj, unsafe)


def _read_safetensors(path: str, fmt: str) -> FileContents:
    from ..serialization import safe_open
    entries = []
    with safe_open(path) as f:
        meta = dict(f.metadata() or {})
        for key in f.keys():
            t = f.get_tensor(key)
            entries.append(_entry(key, t, _kind_from_name(key, t)))
    _mark_sharing(entries)
    return FileContents(path, fmt, entries, metadata=meta)


def _kind_from_name(key: str, t: Tensor) -> str:
    last = key.rsplit(".", 1)[-1]
    if last in BUFFER_NAMES or not (t.dtype.is_floating_point or t.dtype.is_complex):
        return "buffer"
    return "param"


def _entry(key: str, t: Tensor, kind: str) -> Entry:
    return Entry(key=key, shape=tuple(t.shape), dtype=str(t.dtype).replace("torch.", ""),
                 nbytes=t.numel() * t.element_size(), kind=kind, tensor=t)


def _is_optimizer_state(obj) -> bool:
    return isinstance(obj, dict) and "state" in obj and "param_groups" in obj


def _from_object(path: str, fmt: str, obj, unsafe: list) -> FileContents:
    entries: list = []
    non_tensors: dict = {}
    buffers = set()
    if isinstance(obj, dict) and obj.get("format") == BUNDLE_FORMAT:
        fmt = "numtorch-bundle"
        buffers = set(obj.get("model_buffers", ()))
    module_metadata = getattr(obj, "_metadata", None)

    def walk(value, prefix: str, context: str) -> None:
        if isinstance(value, Tensor):
            kind = context
            if context == "model":
                last = prefix.split(".", 1)[-1] if fmt == "numtorch-bundle" else prefix
                if fmt == "numtorch-bundle" and buffers:
                    kind = "buffer" if last in buffers else "param"
                elif type(value).__name__ == "Parameter":
                    kind = "param"
                else:
                    kind = _kind_from_name(prefix, value)
            entries.append(_entry(prefix, value, kind))
            return
        if isinstance(value, dict):
            ctx = "optim" if _is_optimizer_state(value) else context
            for k, v in value.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k), ctx)
            return
        if isinstance(value, (list, tuple)) and any(_contains_tensor(v) for v in value):
            for i, v in enumerate(value):
                walk(v, f"{prefix}.{i}" if prefix else str(i), context)
            return
        non_tensors[prefix or "<root>"] = value

    if fmt == "numtorch-bundle":
        for k, v in obj.items():
            if k == "model_buffers":
                continue
            ctx = "model" if k == "model" else ("optim" if _is_optimizer_state(v) else "tensor")
            walk(v, k, ctx)
    else:
        walk(obj, "", "model")
    _mark_sharing(entries)
    return FileContents(path, fmt, entries, unsafe_globals=unsafe, non_tensors=non_tensors,
                        module_metadata=module_metadata)


def _contains_tensor(v) -> bool:
    if isinstance(v, Tensor):
        return True
    if isinstance(v, dict):
        return any(_contains_tensor(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return any(_contains_tensor(x) for x in v)
    return False


def _memory_key(t: Tensor) -> tuple:
    a = t._data
    base = a
    while isinstance(base, np.ndarray) and base.base is not None and \
            isinstance(base.base, np.ndarray):
        base = base.base
    ptr = a.__array_interface__["data"][0] if a.size else 0
    return id(base), ptr, a.shape, a.strides, a.dtype.str


def _mark_sharing(entries: list) -> None:
    by_view: dict = {}
    by_base: dict = {}
    for e in entries:
        t = e.tensor
        if t is None or t._data.size == 0:
            continue
        key = _memory_key(t)
        if key in by_view:
            e.tied_to = by_view[key]
            continue
        by_view[key] = e.key
        if key[0] in by_base:
            e.shares_storage_with = by_base[key[0]]
        else:
            by_base[key[0]] = e.key


def human_bytes(n: float) -> str:
    """``1258291`` -> ``'1.2 MiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def to_json(value) -> Any:
    """A JSON-safe rendering of a non-tensor value."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)
