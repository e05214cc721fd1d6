"""`numtorch inspect FILE`: what a checkpoint holds, grouped by module path.

Reads only the file's header and pickle (never tensor data) and runs none of its code.
"""
from __future__ import annotations

import json
from collections import OrderedDict

from .._summary import human_bytes
from ._common import emit, to_json
from ._entries import FileContents
from ._files import read

TOTAL_LABEL = {"param": "parameters", "buffer": "buffers", "optim": "optimizer",
               "tensor": "other"}


def add_parser(sub) -> None:
    p = sub.add_parser("inspect", help="show the tensors in a checkpoint file (no code runs)")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--max-rows", type=int, default=None,
                   help="show at most this many tensor rows (totals always cover all)")
    p.set_defaults(func=run)


def summarise(fc: FileContents) -> dict:
    """Per kind: tensors (tied duplicates not counted), elements, and bytes stored (each
    storage once, under the kind of its first tensor)."""
    totals: dict = OrderedDict()
    for e in fc.entries:
        t = totals.setdefault(e.kind, {"tensors": 0, "elements": 0, "bytes": 0})
        t["bytes"] += e.storage_bytes
        if e.tied_to:
            continue
        n = 1
        for s in e.shape:
            n *= s
        t["tensors"] += 1
        t["elements"] += n
    return totals


def as_dict(fc: FileContents) -> dict:
    """Everything ``inspect`` knows, JSON-ready."""
    return {
        "file": fc.path, "format": fc.format,
        "tensors": [{"key": e.key, "kind": e.kind, "shape": list(e.shape), "dtype": e.dtype,
                     "bytes": e.nbytes, "tied_to": e.tied_to,
                     "shares_storage_with": e.shares_storage_with} for e in fc.entries],
        "totals": summarise(fc),
        "unsafe_globals": fc.unsafe_globals,
        "metadata": fc.metadata,
        "other_values": {k: to_json(v) for k, v in fc.non_tensors.items()},
    }


def _group(key: str) -> tuple[str, str]:
    if "." not in key:
        return "", key
    head, tail = key.rsplit(".", 1)
    return head, tail


def _note(e) -> str:
    if e.tied_to:
        return f"tied to {e.tied_to}"
    if e.shares_storage_with:
        return f"shares storage with {e.shares_storage_with}"
    return ""


def _rows(fc: FileContents) -> list:
    rows = []
    last_group = None
    for e in fc.entries:
        group, name = _group(e.key)
        if group != last_group:
            if group:
                rows.append((group + "/",))
            last_group = group
        rows.append(("  " + name if group else name, e.kind,
                     "[" + ", ".join(str(s) for s in e.shape) + "]", e.dtype,
                     human_bytes(e.nbytes), _note(e)))
    return rows


def _table(rows: list) -> list[str]:
    """Tensor rows with aligned columns (name, kind, shape, dtype, size right-aligned, note);
    group headings on lines of their own."""
    tensor_rows = [r for r in rows if len(r) > 1]
    if not tensor_rows:
        return [r[0] for r in rows]
    widths = [max(len(r[i]) for r in tensor_rows) for i in range(5)]
    lines = []
    for r in rows:
        if len(r) == 1:
            lines.append(r[0])
            continue
        cells = [r[i].ljust(widths[i]) for i in range(4)] + [r[4].rjust(widths[4])]
        lines.append("  ".join(cells) + ("  " + r[5] if r[5] else ""))
    return lines


def _totals(fc: FileContents) -> list[str]:
    totals = summarise(fc)
    rows = [(TOTAL_LABEL[k], t) for k, t in totals.items()]
    rows.append(("total", {f: sum(t[f] for t in totals.values())
                           for f in ("tensors", "elements", "bytes")}))
    lines = [f"{label:<10} {t['tensors']:>6} tensors  {t['elements']:>14,} elements  "
             f"{human_bytes(t['bytes']):>10} stored" for label, t in rows]
    if any(e.shares_storage_with for e in fc.entries):
        lines.append("(views of one storage are stored once; tied tensors count once)")
    return lines


def _others(fc: FileContents) -> list[str]:
    lines = []
    if fc.metadata:
        lines.append("metadata: " + json.dumps(fc.metadata)[:300])
    if fc.non_tensors:
        lines.append("other values:")
        for k, v in list(fc.non_tensors.items())[:8]:
            text = repr(to_json(v))
            lines.append(f"  {k} = {text if len(text) <= 60 else text[:57] + '...'}")
        if len(fc.non_tensors) > 8:
            lines.append(f"  ... {len(fc.non_tensors) - 8} more")
    return lines


def render(fc: FileContents, max_rows: int | None = None) -> str:
    """The human-readable report: a tree of module paths with aligned columns, totals, and
    the file's other values."""
    lines = [f"{fc.path}: {fc.format.replace('-', ' ')}"]
    if fc.unsafe_globals:
        lines.append("WARNING: this file asks for globals outside the safe allow-list; they were "
                     "NOT executed (loaded as inert placeholders):")
        lines += [f"  - {g}" for g in fc.unsafe_globals]
    rows = _rows(fc)
    hidden = 0
    if max_rows is not None and len(rows) > max_rows:
        hidden = sum(1 for r in rows[max_rows:] if len(r) > 1)
        rows = rows[:max_rows]
    lines += _table(rows)
    if hidden:
        lines.append(f"... {hidden} more tensors (--max-rows to show more)")
    lines.append("")
    lines += _totals(fc)
    lines += _others(fc)
    return "\n".join(lines)


def run(args) -> int:
    fc = read(args.file)
    if args.json:
        emit(json.dumps(as_dict(fc), indent=2, default=str))
    else:
        emit(render(fc, args.max_rows))
    return 0
