"""`numtorch diff A B`: how two checkpoints differ; exit status 0 when they are the same, 1 when
they differ, 2 when a file cannot be read (as diff(1))."""
from __future__ import annotations

import json
import math

import numpy as np

from ._common import USAGE, CliError, emit, to_json
from ._files import read

DIFFERENCES = ("only_in_a", "only_in_b", "shape_changed", "dtype_changed", "values_differ",
               "other_changed", "metadata_changed")


def add_parser(sub) -> None:
    p = sub.add_parser("diff", help="compare two checkpoints (exit 1 when they differ)")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (default exact)")
    p.add_argument("--atol", type=float, default=0.0, help="absolute tolerance (default exact)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run, failure_status=USAGE)


def _values(t) -> np.ndarray:
    a = np.asarray(t._data)
    if a.dtype.kind == "b":
        return a.astype(np.int8)
    if a.dtype.kind not in "biufc":  # bfloat16, float8 (ml_dtypes)
        return a.astype(np.float32)
    return a


def _value_difference(x, y, rtol: float, atol: float) -> dict | None:
    """max abs / max rel difference of two same-shape tensors; None when within tolerance."""
    va, vb = _values(x.tensor), _values(y.tensor)
    wide = np.complex128 if "c" in (va.dtype.kind, vb.dtype.kind) else np.float64
    da, db = va.astype(wide), vb.astype(wide)
    both_nan = np.isnan(da) & np.isnan(db)
    nan_mismatch = bool(np.any(np.isnan(da) != np.isnan(db)))
    with np.errstate(invalid="ignore"):
        diff = np.where(both_nan | (da == db), 0.0, np.abs(da - db))
    denom = np.abs(db)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(denom > 0, diff / np.where(denom > 0, denom, 1),
                       np.where(diff > 0, np.inf, 0.0))
    max_abs = float(np.nanmax(diff)) if diff.size else 0.0
    max_rel = float(np.nanmax(rel)) if rel.size else 0.0
    if nan_mismatch or bool(np.any(diff > atol + rtol * denom)):
        return {"max_abs": max_abs, "max_rel": max_rel}
    return None


def _same_value(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - values of odd types: compare what they show
        return repr(a) == repr(b)


def _compare_metadata(fa, fb, report: dict) -> None:
    if fa.metadata is None or fb.metadata is None:
        return
    for k in dict.fromkeys(list(fa.metadata) + list(fb.metadata)):
        a, b = fa.metadata.get(k), fb.metadata.get(k)
        if a != b:
            report["metadata_changed"].append({"key": k, "a": a, "b": b})


def compare(a_path: str, b_path: str, rtol: float = 0.0, atol: float = 0.0) -> dict:
    """Keys only in A / only in B, shape and dtype changes, tensor value differences, changed
    non-tensor values (numbers, strings, hyper-parameters) and changed file metadata."""
    fa, fb = read(a_path, data=True), read(b_path, data=True)
    ea = {e.key: e for e in fa.entries}
    eb = {e.key: e for e in fb.entries}
    keys_a = list(ea) + [k for k in fa.non_tensors if k not in ea]
    keys_b = list(eb) + [k for k in fb.non_tensors if k not in eb]
    set_a, set_b = set(keys_a), set(keys_b)
    report: dict = {"only_in_a": [k for k in keys_a if k not in set_b],
                    "only_in_b": [k for k in keys_b if k not in set_a]}
    for name in DIFFERENCES[2:]:
        report[name] = []
    report["equal"] = 0
    report["other_equal"] = 0
    for k in keys_a:
        if k not in set_b:
            continue
        if (k in ea) != (k in eb):
            report["other_changed"].append(
                {"key": k, "a": "<tensor>" if k in ea else to_json(fa.non_tensors[k]),
                 "b": "<tensor>" if k in eb else to_json(fb.non_tensors[k])})
        elif k in ea:
            _compare_tensor(k, ea[k], eb[k], rtol, atol, report)
        elif _same_value(fa.non_tensors[k], fb.non_tensors[k]):
            report["other_equal"] += 1
        else:
            report["other_changed"].append({"key": k, "a": to_json(fa.non_tensors[k]),
                                            "b": to_json(fb.non_tensors[k])})
    _compare_metadata(fa, fb, report)
    return report


def _compare_tensor(k: str, x, y, rtol: float, atol: float, report: dict) -> None:
    if x.shape != y.shape:
        report["shape_changed"].append({"key": k, "a": list(x.shape), "b": list(y.shape)})
        return
    if x.dtype != y.dtype:
        report["dtype_changed"].append({"key": k, "a": x.dtype, "b": y.dtype})
    d = _value_difference(x, y, rtol, atol)
    if d is not None:
        report["values_differ"].append({"key": k, **d})
    elif x.dtype == y.dtype:
        report["equal"] += 1


def differs(report: dict) -> bool:
    return any(report[k] for k in DIFFERENCES)


def _show(v) -> str:
    text = v if isinstance(v, str) and v.startswith("<") else repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def render(report: dict, a: str, b: str) -> str:
    lines = [f"- {k}  (only in {a})" for k in report["only_in_a"]]
    lines += [f"+ {k}  (only in {b})" for k in report["only_in_b"]]
    lines += [f"~ {d['key']}  shape {d['a']} -> {d['b']}" for d in report["shape_changed"]]
    lines += [f"~ {d['key']}  dtype {d['a']} -> {d['b']}" for d in report["dtype_changed"]]
    lines += [f"~ {d['key']}  values differ: max abs {d['max_abs']:.6g}, "
              f"max rel {d['max_rel']:.6g}" for d in report["values_differ"]]
    lines += [f"~ {d['key']}  {_show(d['a'])} -> {_show(d['b'])}"
              for d in report["other_changed"]]
    lines += [f"~ metadata {d['key']}  {_show(d['a'])} -> {_show(d['b'])}"
              for d in report["metadata_changed"]]
    verdict = "differ" if differs(report) else "are identical"
    lines.append(f"{report['equal']} tensors and {report['other_equal']} other values equal; "
                 f"files {verdict}")
    return "\n".join(lines)


def _strict_json(value):
    """``value`` with infinite and NaN floats as the strings "inf", "-inf", "nan" (JSON has
    no numbers for them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict_json(v) for v in value]
    return value


def run(args) -> int:
    if args.rtol < 0 or args.atol < 0:
        raise CliError("--rtol and --atol must be >= 0", USAGE)
    report = compare(args.a, args.b, args.rtol, args.atol)
    status = 1 if differs(report) else 0
    emit(json.dumps(_strict_json(report), indent=2, allow_nan=False) if args.json
         else render(report, args.a, args.b))
    return status
