"""`numtorch inspect FILE`: what a checkpoint holds, grouped by module path."""
from __future__ import annotations

import json
import sys
from collections import OrderedDict

from ._files import FileContents, human_bytes, read, to_json

KIND_LABEL = {"param": "param", "buffer": "buffer", "optim": "optim", "tensor": "tensor"}
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
    totals: dict = OrderedDict()
    for e in fc.entries:
        t = totals.setdefault(e.kind, {"tensors": 0, "elements": 0, "bytes": 0})
        if e.tied_to:
            continue
        n = 1
        for s in e.shape:
            n *= s
        t["tensors"] += 1
        t["elements"] += n
        t["bytes"] += e.nbytes
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


def render(fc: FileContents, max_rows: int | None = None) -> str:
    """The human-readable report: a tree of module paths with aligned columns."""
    lines = [f"{fc.path}: {fc.format.replace('-', ' ')}"]
    if fc.unsafe_globals:
        lines.append("WARNING: this file asks for globals outside the safe allow-list; they were "
                     "NOT executed (loaded as inert placeholders):")
        lines += [f"  - {g}" for g in fc.unsafe_globals]
    rows = []
    last_group = None
    for e in fc.entries:
        group, name = _group(e.key)
        if group != last_group:
            if group:
                rows.append((group + "/", "", "", "", "", ""))
            last_group = group
        note = f"tied to {e.tied_to}" if e.tied_to else (
            f"shares storage with {e.shares_storage_with}" if e.shares_storage_with else "")
        rows.append(("  " + name if group else name, KIND_LABEL[e.kind],
                     "[" + ", ".join(str(s) for s in e.shape) + "]", e.dtype,
                     human_bytes(e.nbytes), note))
    hidden = 0
    if max_rows is not None and len(rows) > max_rows:
        hidden = sum(1 for r in rows[max_rows:] if r[1])
        rows = rows[:max_rows]
    if rows:
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            if not r[1]:
                lines.append(r[0])
                continue
            cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                     r[3].ljust(widths[3]), r[4].rjust(widths[4])]
            lines.append("  ".join(cells) + ("  " + r[5] if r[5] else ""))
    if hidden:
        lines.append(f"... {hidden} more tensors (--max-rows to show more)")
    totals = summarise(fc)
    lines.append("")
    for kind, t in totals.items():
        lines.append(f"{TOTAL_LABEL[kind]:<10} {t['tensors']:>6} tensors  "
                     f"{t['elements']:>14,} elements  {human_bytes(t['bytes']):>10}")
    all_bytes = sum(t["bytes"] for t in totals.values())
    lines.append(f"{'total':<10} {sum(t['tensors'] for t in totals.values()):>6} tensors  "
                 f"{sum(t['elements'] for t in totals.values()):>14,} elements  "
                 f"{human_bytes(all_bytes):>10}")
    if fc.metadata:
        lines.append("metadata: " + json.dumps(fc.metadata)[:300])
    if fc.non_tensors:
        lines.append("other values:")
        for k, v in list(fc.non_tensors.items())[:8]:
            text = repr(to_json(v))
            lines.append(f"  {k} = {text if len(text) <= 60 else text[:57] + '...'}")
        if len(fc.non_tensors) > 8:
            lines.append(f"  ... {len(fc.non_tensors) - 8} more")
    return "\n".join(lines)


def run(args) -> int:
    fc = read(args.file)
    if args.json:
        json.dump(as_dict(fc), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render(fc, args.max_rows))
    return 0
