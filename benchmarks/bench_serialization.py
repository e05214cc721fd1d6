"""Checkpoint save/load at disk speed: a ~1 GiB state dict plus its Adam state (~3.3 GiB in all).

Workloads (run by ``python -m benchmarks.run -k checkpoint``) time ``save`` and ``load`` under
torch and numtorch on the same file. ``python -m benchmarks.bench_serialization`` also measures
what the runner cannot: ``load(mmap=True)`` plus touching every tensor against a plain NumPy read
of the same bytes, and the peak memory of ``load(mmap=True)`` before any tensor is touched.
Files go to ``$BENCH_DIR`` (default /tmp). ``BENCH_CKPT_MIB`` scales the model (default 1024).
"""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import time

import numpy as np

from benchmarks.run import Workload

DIR = os.environ.get("BENCH_DIR", "/tmp")
MIB = int(os.environ.get("BENCH_CKPT_MIB", "1024"))
HIDDEN = 1024
_CACHE: dict = {}


def _shapes() -> list[tuple[str, tuple]]:
    per_layer = [("attn.q.weight", (HIDDEN, HIDDEN)), ("attn.k.weight", (HIDDEN, HIDDEN)),
                 ("attn.v.weight", (HIDDEN, HIDDEN)), ("attn.o.weight", (HIDDEN, HIDDEN)),
                 ("attn.o.bias", (HIDDEN,)), ("fc1.weight", (4 * HIDDEN, HIDDEN)),
                 ("fc1.bias", (4 * HIDDEN,)), ("fc2.weight", (HIDDEN, 4 * HIDDEN)),
                 ("fc2.bias", (HIDDEN,)), ("norm.weight", (HIDDEN,)), ("norm.bias", (HIDDEN,))]
    layer_mib = 48
    shapes = [("embed.weight", (32000 * MIB // 1024, HIDDEN))]
    for i in range(max(1, (MIB - 125 * MIB // 1024) // layer_mib)):
        shapes += [(f"layers.{i}.{n}", s) for n, s in per_layer]
    return shapes


def warm_memory() -> None:
    """Touch most of RAM once: on a fresh VM the first touch of a page costs ~10x a later one,
    which would otherwise charge whichever library runs first."""
    if _CACHE.get("warm"):
        return
    gib = int(os.environ.get("BENCH_WARM_GIB", "12"))
    for _ in range(gib):
        np.ones(1 << 28, dtype=np.float32)
    _CACHE["warm"] = True


def checkpoint(T):
    """{'model': state_dict, 'optim': Adam state_dict, 'epoch'} built with module ``T``."""
    warm_memory()
    if T.__name__ in _CACHE:
        return _CACHE[T.__name__]
    model, state = {}, {}
    for i, (name, shape) in enumerate(_shapes()):
        model[name] = T.full(shape, float(i % 7), dtype=T.float32)
        state[i] = {"step": T.tensor(10.0), "exp_avg": T.full(shape, 0.5),
                    "exp_avg_sq": T.full(shape, 0.25)}
    groups = [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
               "amsgrad": False, "params": list(range(len(model)))}]
    ck = {"model": model, "optim": {"state": state, "param_groups": groups}, "epoch": 3}
    _CACHE[T.__name__] = ck
    return ck


def _path(tag: str) -> str:
    return os.path.join(DIR, f"bench_ckpt_{MIB}mib_{tag}.pt")


def _save(T):
    ck = checkpoint(T)
    path = _path(f"save_{T.__name__}")
    return lambda: T.save(ck, path)


def _load(T):
    src = _path("torch_written")
    if not os.path.exists(src):
        import torch
        torch.save(checkpoint(torch), src)
    if T.__name__ == "torch":
        return lambda: T.load(src, weights_only=True)
    return lambda: T.load(src)


def _flush_disk() -> None:
    """Start each round with no dirty pages, so neither library's save waits for the disk to
    write back the bytes of the save before it."""
    os.sync()


WORKLOADS = [
    Workload(f"checkpoint save, {MIB} MiB params + Adam state", _save,
             target=">= 1.0x (issue 5)", min_speedup=1.0, number=1, rounds=3,
             before_round=_flush_disk, warm_each_round=False),
    Workload(f"checkpoint load, {MIB} MiB params + Adam state", _load,
             target=">= 1.5x (issue 5)", min_speedup=1.5, number=1, rounds=3,
             before_round=_flush_disk, warm_each_round=False),
]


# ------------------------------------------------------------------ mmap figures
def _touch_all(arrays) -> float:
    total = 0.0
    for a in arrays:
        total += float(a.max()) if a.size else 0.0
    return total


def mmap_vs_numpy(path: str, rounds: int = 3) -> dict:
    """Median seconds: load(mmap=True) + max() over every tensor vs np.fromfile + max() over it."""
    import numtorch
    from numtorch.serialization.torch_zip import ZipReader
    with open(path, "rb") as f:
        reader = ZipReader(f, os.fstat(f.fileno()).st_size)
        spans = [reader.locate(n) for n in reader.names() if n.startswith("data/")]

    def ours():
        ck = numtorch.load(path, mmap=True)
        arrays = [t._data for t in ck["model"].values()]
        arrays += [s[k]._data for s in ck["optim"]["state"].values() for k in s]
        return _touch_all(arrays)

    def plain():
        raw = np.fromfile(path, dtype=np.uint8)
        return _touch_all(raw[o:o + n].view(np.float32) for o, n in spans if n % 4 == 0)
    times = {"numtorch.load(mmap=True) + touch": [], "np.fromfile + touch": []}
    for _ in range(rounds):
        for name, fn in (("numtorch.load(mmap=True) + touch", ours),
                         ("np.fromfile + touch", plain)):
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: sorted(v)[len(v) // 2] for k, v in times.items()}


_PEAK_SCRIPT = """
import sys, tracemalloc, resource, time
import numtorch, numtorch.serialization
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t0 = time.perf_counter()
ck = numtorch.load(sys.argv[1], mmap=True)
dt = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1]
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak, (rss1 - rss0) * 1024, dt)
"""


def mmap_peak_memory(path: str) -> tuple[int, int, float]:
    """(tracemalloc peak bytes, max-RSS growth bytes, seconds) of load(mmap=True) untouched."""
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, path], capture_output=True,
                         text=True, check=True).stdout.split()
    return int(out[0]), int(out[1]), float(out[2])


def main() -> None:
    import numtorch
    src = _path("numtorch_written")
    numtorch.save(checkpoint(numtorch), src)
    size = os.path.getsize(src)
    print(f"checkpoint file: {size / 2**30:.2f} GiB")
    peak, rss, secs = mmap_peak_memory(src)
    print(f"load(mmap=True), untouched: {secs * 1e3:.1f} ms, tracemalloc peak "
          f"{peak / 2**20:.2f} MiB, max RSS growth {rss / 2**20:.1f} MiB (target < 50 MiB)")
    t = mmap_vs_numpy(src)
    for k, v in t.items():
        print(f"{k:<36} {v:.3f} s")
    ratio = t["numtorch.load(mmap=True) + touch"] / t["np.fromfile + touch"]
    print(f"ratio numtorch/numpy: {ratio:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
