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
from ._loader import ZipStorages, make_unpickler, read_byteorder, run_unpickler
from ._unpickler import Placeholder
from . import torch_zip as Z

__all__ = ["load_torchscript"]


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
    """The tensors of a TorchScript archive by attribute path; constants as ``constants.<i>``.

    ``data.pkl`` names its storages under ``data/``, ``constants.pkl`` under ``constants/``
    (each numbered from 0).
    """
    out: OrderedDict = OrderedDict()
    byteorder = read_byteorder(reader)
    for record, folder, prefix in (("data.pkl", "data", ""),
                                   ("constants.pkl", "constants", "constants")):
        if not reader.has(record):
            continue
        storages = ZipStorages(reader, map_location, byteorder, None, folder=folder,
                               placeholders=True)
        try:
            unpickler = make_unpickler(io.BytesIO(reader.read(record)), storages.persistent_load,
                                       weights_only=True, unknown_globals="placeholder",
                                       record=reader.prefix + record, pickle_load_args={})
            _collect(run_unpickler(unpickler), prefix, out, set())
        finally:
            storages.close()
    return out
