"""numtorch's own safetensors metadata: what a safetensors file cannot hold by itself.

safetensors stores each tensor once, by name, with no sharing and no order. When numtorch
writes one it records, as JSON strings in ``__metadata__``: ``numtorch.tied`` (each dropped
duplicate -> the name whose data it shares), ``numtorch.key_order`` (the state dict's key
order) and ``numtorch._metadata`` (the state dict's per-module ``_metadata``). Every other
metadata entry is the user's and travels unchanged; a torch ``.pt`` file keeps it in the state
dict's ``_safetensors_metadata`` attribute (torch.load keeps such attributes of an OrderedDict).
"""
from __future__ import annotations

import json
from collections import OrderedDict

from ._common import CliError

TIED_KEY = "numtorch.tied"
ORDER_KEY = "numtorch.key_order"
MODULE_META_KEY = "numtorch._metadata"
RESERVED = (TIED_KEY, ORDER_KEY, MODULE_META_KEY)
PT_ATTRIBUTE = "_safetensors_metadata"


def user_metadata(meta: dict) -> dict:
    """The entries of ``meta`` that are not numtorch's own bookkeeping."""
    return {k: v for k, v in meta.items() if k not in RESERVED}


def _json(meta: dict, key: str, default, kind: type, path: str):
    if key not in meta:
        return default
    try:
        value = json.loads(meta[key])
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, kind):
        raise CliError(f"{path}: metadata {key!r} is not a JSON {kind.__name__}; the file's "
                       "numtorch metadata is corrupt")
    return value


def restore(meta: dict, tensors: dict, path: str) -> tuple["OrderedDict", dict]:
    """The state dict a safetensors file stands for: tied names put back, keys in their
    recorded order, ``_metadata`` attached. Returns it and the tied map (name -> original)."""
    tied = _json(meta, TIED_KEY, {}, dict, path)
    order = _json(meta, ORDER_KEY, None, list, path)
    for name, target in tied.items():
        if target not in tensors:
            raise CliError(f"{path}: metadata ties {name!r} to {target!r}, which the file "
                           "does not hold")
    if order is None:
        order = list(tensors) + [k for k in tied if k not in tensors]
    else:
        unknown = [k for k in order if k not in tensors and k not in tied]
        if unknown:
            raise CliError(f"{path}: metadata key order names tensors the file does not hold: "
                           f"{unknown[:5]}")
        order += [k for k in tensors if k not in set(order)]
    out: OrderedDict = OrderedDict()
    for key in order:
        out[key] = tensors[tied[key]] if key in tied else tensors[key]
    module_meta = _json(meta, MODULE_META_KEY, None, dict, path)
    if module_meta is not None:
        out._metadata = OrderedDict((k, dict(v)) for k, v in module_meta.items())
    return out, tied


def record(order: list, tied: dict, module_meta, user: dict | None) -> dict:
    """The ``__metadata__`` for a safetensors file written from a state dict."""
    meta = {"format": "pt"}
    meta.update(user or {})
    meta[ORDER_KEY] = json.dumps(list(order))
    if tied:
        meta[TIED_KEY] = json.dumps(tied)
    if module_meta is not None:
        meta[MODULE_META_KEY] = json.dumps({k: dict(v) for k, v in module_meta.items()})
    return meta
