"""`numtorch diff A B`: how two checkpoints differ; exit status 1 when they do."""
from __future__ import annotations

import json
import sys

import numpy as np

from ._files import read


def add_parser(sub) -> None:
    p = sub.add_parser("diff", help="compare two checkpoints (exit 1 when they differ)")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (default exact)")
    p.add_argument("--atol", type=float, default=0.0, help="absolute tolerance (default exact)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _values(t) -> np.ndarray:
    a = t._data
    if a.dtype.kind == "V" or str(a.dtype) in ("bfloat16", "float8_e4m3fn", "float8_e5m2"):
        a = a.astype(np.float32)
    return a


def compare(a_path: str, b_path: str, rtol: float = 0.0, atol: float = 0.0) -> dict:
    """Keys only in A / only in B, shape and dtype changes, and value differences."""
    fa, fb = read(a_path), read(b_path)
    ea = {e.key: e for e in fa.entries}
    eb = {e.key: e for e in fb.entries}
    report = {"only_in_a": [k for k in ea if k not in eb],
              "only_in_b": [k for k in eb if k not in ea],
              "shape_changed": [], "dtype_changed": [], "values_differ": [], "equal": 0}
    for k in ea:
        if k not in eb:
            continue
        x, y = ea[k], eb[k]
        if x.shape != y.shape:
            report["shape_changed"].append({"key": k, "a": list(x.shape), "b": list(y.shape)})
            continue
        if x.dtype != y.dtype:
            report["dtype_changed"].append({"key": k, "a": x.dtype, "b": y.dtype})
        va, vb = _values(x.tensor), _values(y.tensor)
        if va.dtype.kind == "b":
            va, vb = va.astype(np.int8), vb.astype(np.int8)
        da = va.astype(np.float64) if va.dtype.kind != "c" else va.astype(np.complex128)
        db = vb.astype(np.float64) if vb.dtype.kind != "c" else vb.astype(np.complex128)
        diff = np.abs(da - db)
        nan_mismatch = bool(np.any(np.isnan(da) != np.isnan(db)))
        diff = np.where(np.isnan(da) & np.isnan(db), 0.0, diff)
        max_abs = float(np.nanmax(diff)) if diff.size else 0.0
        denom = np.abs(db)
        rel = np.where(denom > 0, diff / np.where(denom > 0, denom, 1), np.where(diff > 0,
                                                                                 np.inf, 0))
        max_rel = float(np.nanmax(rel)) if rel.size else 0.0
        if nan_mismatch or np.any(diff > atol + rtol * denom):
            report["values_differ"].append({"key": k, "max_abs": max_abs, "max_rel": max_rel})
        else:
            report["equal"] += 1
    return report


def differs(report: dict) -> bool:
    return any(report[k] for k in ("only_in_a", "only_in_b", "shape_changed", "dtype_changed",
                                   "values_differ"))


def render(report: dict, a: str, b: str) -> str:
    lines = []
    for k in report["only_in_a"]:
        lines.append(f"- {k}  (only in {a})")
    for k in report["only_in_b"]:
        lines.append(f"+ {k}  (only in {b})")
    for d in report["shape_changed"]:
        lines.append(f"~ {d['key']}  shape {d['a']} -> {d['b']}")
    for d in report["dtype_changed"]:
        lines.append(f"~ {d['key']}  dtype {d['a']} -> {d['b']}")
    for d in report["values_differ"]:
        lines.append(f"~ {d['key']}  values differ: max abs {d['max_abs']:.6g}, "
                     f"max rel {d['max_rel']:.6g}")
    verdict = "differ" if differs(report) else "are identical"
    lines.append(f"{report['equal']} tensors equal; files {verdict}")
    return "\n".join(lines)


def run(args) -> int:
    report = compare(args.a, args.b, args.rtol, args.atol)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render(report, args.a, args.b))
    return 1 if differs(report) else 0
