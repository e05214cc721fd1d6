"""`numtorch convert A B`: between torch zip .pt, legacy .pt (read only) and .safetensors,
keeping dtypes, key order, tied weights, the state dict's ``_metadata`` and the user's
safetensors metadata (see ``_stmeta``)."""
from __future__ import annotations

import os
import pickle
import sys
from collections import OrderedDict

from .._tensor import Tensor
from . import _stmeta
from ._common import USAGE, CliError, emit
from ._entries import memory_key, root_array
from ._files import detect_format, load_object


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


def torch_to_safetensors(obj, dst: str) -> list[str]:
    """Write a (nested) dict of tensors as safetensors, keeping ties, order and metadata.
    Returns the names of views that had to be written as copies of their shared storage."""
    from ..serialization import save_safetensors
    flat: OrderedDict = OrderedDict()
    bad: list = []
    _flatten(obj, "", flat, bad)
    if bad:
        raise CliError(f"safetensors holds only tensors; these entries are not tensors: "
                       f"{', '.join(bad[:10])}{' ...' if len(bad) > 10 else ''}. Convert a "
                       "state_dict (model.state_dict()) instead.")
    seen: dict = {}
    roots: set = set()
    tied: dict = {}
    copied: list = []
    unique: OrderedDict = OrderedDict()
    for k, t in flat.items():
        key = memory_key(t)
        if key is not None and key in seen:
            tied[k] = seen[key]
            continue
        if key is not None:
            seen[key] = k
            root = id(root_array(t._data))
            if root in roots:  # a different view of a storage already written
                copied.append(k)
                t = t.clone()
            roots.add(root)
        unique[k] = t.contiguous()
    user = getattr(obj, _stmeta.PT_ATTRIBUTE, None)
    meta = _stmeta.record(list(flat), tied, getattr(obj, "_metadata", None),
                          user if isinstance(user, dict) else None)
    save_safetensors(unique, dst, metadata=meta)
    return copied


def safetensors_to_state_dict(src: str) -> "OrderedDict":
    """A safetensors file as the ordered state dict it was written from: ties, ``_metadata``
    and the user's metadata (as ``_safetensors_metadata``) restored."""
    from ..serialization import safe_open
    with safe_open(src) as f:
        meta = dict(f.metadata() or {})
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    out, _tied = _stmeta.restore(meta, tensors, src)
    user = _stmeta.user_metadata(meta)
    if user:
        setattr(out, _stmeta.PT_ATTRIBUTE, user)
    return out


def _load_torch(src: str, fmt: str):
    from .. import serialization as ser
    try:
        return load_object(src, fmt, data=True, placeholders=False)
    except pickle.UnpicklingError:
        unsafe = ser.get_unsafe_globals_in_checkpoint(src)
        raise CliError(f"{src} asks for globals outside the weights-only allow-list, which "
                       f"convert will not load: {', '.join(unsafe) or '(unknown)'}; nothing "
                       "was run or written (see `numtorch inspect` for what the file holds)")\
            from None


def convert(src: str, dst: str, force: bool = False) -> tuple[str, list]:
    """Convert ``src`` to ``dst`` (format from dst's extension); returns the format written
    and the views written as copies."""
    from .. import serialization as ser
    src_format = detect_format(src)
    if os.path.exists(dst) and os.path.samefile(src, dst):
        raise CliError("source and destination are the same file", USAGE)
    if os.path.isdir(dst):
        raise CliError(f"{dst}: is a directory")
    if os.path.exists(dst) and not force:
        raise CliError(f"{dst} exists; pass --force to overwrite it")
    obj = safetensors_to_state_dict(src) if src_format == "safetensors" else \
        _load_torch(src, src_format)
    if dst.endswith(".safetensors"):
        return "safetensors", torch_to_safetensors(obj, dst)
    ser.save(obj, dst)
    return "torch-zip", []


def run(args) -> int:
    written, copied = convert(args.src, args.dst, args.force)
    if copied:
        print(f"numtorch convert: warning: safetensors cannot share storage between different "
              f"views; written as copies: {', '.join(copied[:10])}", file=sys.stderr)
    emit(f"wrote {args.dst} ({written.replace('-', ' ')})")
    return 0
