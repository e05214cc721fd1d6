"""Tensors out of TorchScript archives (``torch.jit.save``), without ever running their code.

A TorchScript archive holds ``data.pkl`` (the module object graph, whose classes are
``__torch__.*`` names compiled from ``code/``), ``constants.pkl`` (tensor constants) and the
storages under ``data/``. numtorch unpickles both with every non-allow-listed global as an inert
Placeholder, then collects the tensors by attribute path: ``{"lin.weight": ..., "b": ...}``.
"""
from __future__ import annotations

import io
from collections import OrderedDict

from .._tensor import Tensor
from ._loader import check_pid, make_unpickler, restore_location
from ._storage import CheckpointError, LoadedStorage
from ._unpickler import Placeholder
from . import torch_zip as Z

__all__ = ["load_torchscript"]


class _Storages:
    def __init__(self, reader: Z.ZipReader, restore) -> None:
        self.reader = reader
        self.restore = restore
        self.cache: dict = {}

    def persistent_load(self, pid) -> LoadedStorage:
        stype, key, location, numel = check_pid(pid, "TorchScript pickle")
        nbytes = numel * (1 if stype.dtype is None else stype.dtype.itemsize)
        st = self.cache.get((key, stype.dtype))
        if st is None:
            name = f"data/{key}" if self.reader.has(f"data/{key}") else f"constants/{key}"
            raw = bytearray(self.reader.read(name))
            if len(raw) < nbytes:
                raise CheckpointError(f"record '{self.reader.prefix}{name}' holds {len(raw)} "
                                      f"bytes but its storage needs {nbytes}")
            import numpy as np
            st = LoadedStorage(np.frombuffer(raw, dtype=np.uint8), stype.dtype, location, key)
            st = self.restore(st, location)
            self.cache[(key, stype.dtype)] = st
        return st


def _collect(obj, prefix: str, out: OrderedDict, seen: set) -> None:
    if isinstance(obj, Tensor):
        out.setdefault(prefix, obj)
        return
    if id(obj) in seen:
        return
    if isinstance(obj, Placeholder):
        seen.add(id(obj))
        state = obj.state
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
            state = state[0]
        if isinstance(state, dict):
            for k, v in state.items():
                _collect(v, f"{prefix}.{k}" if prefix else str(k), out, seen)
        elif state is not None:
            _collect(state, prefix, out, seen)
        for i, a in enumerate(obj.args):
            _collect(a, f"{prefix}.{i}" if prefix else str(i), out, seen)
    elif isinstance(obj, dict):
        seen.add(id(obj))
        for k, v in obj.items():
            _collect(v, f"{prefix}.{k}" if prefix else str(k), out, seen)
    elif isinstance(obj, (list, tuple)):
        seen.add(id(obj))
        for i, v in enumerate(obj):
            _collect(v, f"{prefix}.{i}" if prefix else str(i), out, seen)


def load_torchscript(reader: Z.ZipReader, map_location=None) -> "OrderedDict[str, Tensor]":
    """The tensors of a TorchScript archive by attribute path; constants as ``constants.<i>``."""
    storages = _Storages(reader, restore_location(map_location))
    out: OrderedDict = OrderedDict()
    for record, prefix in (("data.pkl", ""), ("constants.pkl", "constants")):
        if not reader.has(record):
            continue
        unpickler = make_unpickler(io.BytesIO(reader.read(record)), storages.persistent_load,
                                   weights_only=True, unknown_globals="placeholder",
                                   record=reader.prefix + record, pickle_load_args={})
        _collect(unpickler.load(), prefix, out, set())
    return out
