"""Run benchmark workloads under numtorch and torch in one process and report ratios.

Each ``benchmarks/bench_*.py`` defines ``WORKLOADS``: a list of ``Workload``. A workload's
``setup(T)`` builds everything with module ``T`` (torch or numtorch) and returns a zero-argument
callable that runs one unit of work. The runner times the two modules in pairs of adjacent
rounds (which of the two goes first alternates) and reports each module's median time and
``speedup``, the median over pairs of ``torch_time / numtorch_time`` (above 1: numtorch is
faster): on a shared machine whose speed drifts by tens of percent between seconds, a pair's
two rounds see the same machine, so their ratio is steadier than a ratio of medians.

    python -m benchmarks.run                 # every workload
    python -m benchmarks.run -k adam         # names containing "adam"
    python -m benchmarks.run --markdown      # a table for RESULTS.md
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib
import pkgutil
import statistics
import sys
import time
from typing import Callable


# Each round starts with untimed calls for this long: the other library's worker threads
# (torch's OpenMP pool, NumPy's OpenBLAS threads) keep spinning for up to ~0.1 s after their
# last call and would take a core from whichever library runs next, and cores that went idle
# run slowly for the first tens of milliseconds. Rounds then time the steady state a training
# loop runs in.
WARMUP_S = 0.15


@dataclasses.dataclass
class Workload:
    name: str
    setup: Callable  # setup(T) -> callable running one unit of work
    target: str = ""  # what the issue asks, e.g. ">= 2.0x"
    min_speedup: float | None = None
    number: int = 0  # calls per round; 0 = calibrate to ~0.2 s
    rounds: int = 11
    before_round: Callable | None = None  # untimed, before every round of either module
    warm_each_round: bool = True  # untimed calls (WARMUP_S) start every round


def _time_round(fn, number: int) -> float:
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number
    finally:
        gc.enable()


def _warm(fn) -> None:
    end = time.perf_counter() + WARMUP_S
    fn()
    while time.perf_counter() < end:
        fn()


def _calibrate(fn) -> int:
    n = 1
    while True:
        if _time_round(fn, n) * n > 0.2 or n >= 1 << 20:
            return n
        n *= 4


def measure(w: Workload) -> dict:
    """Median seconds per unit for torch and numtorch and the median paired ratio."""
    import numtorch
    import torch
    fns = {"torch": w.setup(torch), "numtorch": w.setup(numtorch)}
    for fn in fns.values():
        fn()  # warm up
    number = w.number or max(_calibrate(fns["torch"]), 1)
    times = {k: [] for k in fns}
    for i in range(w.rounds):
        for k in (("torch", "numtorch") if i % 2 == 0 else ("numtorch", "torch")):
            if w.before_round is not None:
                w.before_round()
            if w.warm_each_round:
                _warm(fns[k])
            times[k].append(_time_round(fns[k], number))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = statistics.median(t / n for t, n in zip(times["torch"], times["numtorch"]))
    return {"name": w.name, "torch_s": med["torch"], "numtorch_s": med["numtorch"],
            "speedup": ratio, "target": w.target,
            "min_speedup": w.min_speedup, "number": number, "rounds": w.rounds}


def discover(keyword: str | None = None) -> list[Workload]:
    import benchmarks
    out = []
    for info in pkgutil.iter_modules(benchmarks.__path__):
        if not info.name.startswith("bench_"):
            continue
        mod = importlib.import_module(f"benchmarks.{info.name}")
        for w in getattr(mod, "WORKLOADS", ()):
            if keyword is None or keyword in w.name:
                out.append(w)
    return out


def _fmt(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", dest="keyword")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    results = [measure(w) for w in discover(args.keyword)]
    if args.markdown:
        print("| workload | torch | numtorch | speedup | target | met |")
        print("|---|---|---|---|---|---|")
    for r in results:
        met = "" if r["min_speedup"] is None else ("yes" if r["speedup"] >= r["min_speedup"]
                                                   else "NO")
        if args.markdown:
            print(f"| {r['name']} | {_fmt(r['torch_s'])} | {_fmt(r['numtorch_s'])} | "
                  f"{r['speedup']:.2f}x | {r['target']} | {met} |")
        else:
            print(f"{r['name']:<48} torch {_fmt(r['torch_s']):>10}  numtorch "
                  f"{_fmt(r['numtorch_s']):>10}  speedup {r['speedup']:5.2f}x  {r['target']} "
                  f"{met}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
