"""`numtorch convert A B`: between torch zip .pt, legacy .pt (read only) and .safetensors."""
from __future__ import annotations

import json
import os
from collections import OrderedDict

from .._tensor import Tensor
from ._files import _memory_key, detect_format

TIED_KEY = "numtorch.tied"
ORDER_KEY = "numtorch.key_order"
MODULE_META_KEY = "numtorch._metadata"


def add_parser(sub) -> None:
    p = sub.add_parser("convert", help="convert between .pt and .safetensors")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--force", action="store_true", help="overwrite an existing destination")
    p.set_defaults(func=run)


def _flatten(obj, prefix: str, out: "OrderedDict", bad: list) -> None:
    if isinstance(obj, Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out, bad)
    elif isinstance(obj, (list, tuple)) and obj and all(isinstance(v, Tensor) for v in obj):
        for i, v in enumerate(obj):
            _flatten(v, f"{prefix}.{i}" if prefix else str(i), out, bad)
    else:
        bad.append(prefix or "<root>")


def torch_to_safetensors(obj, dst: str) -> None:
    """Write a (nested) dict of tensors as safetensors, keeping ties, order and _metadata."""
    from ..serialization import save_safetensors
    flat: OrderedDict = OrderedDict()
    bad: list = []
    _flatten(obj, "", flat, bad)
    if bad:
        raise SystemExit(f"numtorch convert: safetensors holds only tensors; these entries are "
                         f"not tensors: {', '.join(bad[:10])}{' ...' if len(bad) > 10 else ''}. "
                         "Save a state_dict (model.state_dict()) instead.")
    seen: dict = {}
    tied: dict = {}
    unique: OrderedDict = OrderedDict()
    for k, t in flat.items():
        key = _memory_key(t) if t.numel() else None
        if key is not None and key in seen:
            tied[k] = seen[key]
            continue
        if key is not None:
            seen[key] = k
        unique[k] = t.contiguous() if hasattr(t, "contiguous") else t
    meta = {"format": "pt", ORDER_KEY: json.dumps(list(flat))}
    if tied:
        meta[TIED_KEY] = json.dumps(tied)
    module_meta = getattr(obj, "_metadata", None)
    if module_meta is not None:
        meta[MODULE_META_KEY] = json.dumps({k: dict(v) for k, v in module_meta.items()})
    save_safetensors(unique, dst, metadata=meta)


def safetensors_to_state_dict(src: str) -> "OrderedDict":
    """Read a safetensors file back into an ordered state dict with ties and _metadata."""
    from ..serialization import safe_open
    with safe_open(src) as f:
        meta = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    tied = json.loads(meta.get(TIED_KEY, "{}"))
    order = json.loads(meta.get(ORDER_KEY, "null")) or list(tensors) + list(tied)
    out: OrderedDict = OrderedDict()
    for k in order:
        out[k] = tensors[tied[k]] if k in tied else tensors[k]
    if MODULE_META_KEY in meta:
        out._metadata = OrderedDict((k, dict(v)) for k, v in
                                    json.loads(meta[MODULE_META_KEY]).items())
    return out


def convert(src: str, dst: str, force: bool = False) -> str:
    """Convert ``src`` to ``dst`` (format from dst's extension); returns the format written."""
    from .. import serialization as ser
    if os.path.abspath(src) == os.path.abspath(dst):
        raise SystemExit("numtorch convert: source and destination are the same file")
    if os.path.exists(dst) and not force:
        raise SystemExit(f"numtorch convert: {dst} exists; pass --force to overwrite it")
    src_format = detect_format(src)
    to_safetensors = dst.endswith(".safetensors")
    if src_format == "safetensors":
        obj = safetensors_to_state_dict(src)
    else:
        obj = ser.load(src, map_location="cpu", weights_only=True)
    if to_safetensors:
        torch_to_safetensors(obj, dst)
        return "safetensors"
    ser.save(obj, dst)
    return "torch-zip"


def run(args) -> int:
    written = convert(args.src, args.dst, args.force)
    print(f"wrote {args.dst} ({written.replace('-', ' ')})")
    return 0
