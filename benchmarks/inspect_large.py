"""Time `numtorch inspect` on a 1 GiB checkpoint written by torch (issue: under 2 seconds).

    python -m benchmarks.inspect_large [--gib 1.0] [--legacy]

inspect reads the zip directory and the pickle, memory-maps the records, and never reads
tensor data (``--legacy``: a pre-1.6 file, whose storages it skips by their recorded sizes);
the time is measured for a fresh process, as a user runs it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def make_file(path: str, gib: float, legacy: bool = False) -> None:
    import torch
    n_layers = 64
    per = int(gib * (1 << 30) / 4 / n_layers)
    side = int(per ** 0.5)
    sd = {f"layers.{i}.weight": torch.empty(side, side) for i in range(n_layers)}
    sd.update({f"layers.{i}.bias": torch.zeros(side) for i in range(n_layers)})
    torch.save(sd, path, _use_new_zipfile_serialization=not legacy)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--legacy", action="store_true", help="a legacy (pre-1.6) file")
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="inspect-bench-")
    path = os.path.join(folder, "big.pt")
    make_file(path, args.gib, args.legacy)
    size = os.path.getsize(path) / (1 << 30)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "numtorch", "inspect", path], check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    os.remove(path)
    kind = "legacy" if args.legacy else "zip"
    print(f"numtorch inspect on a {size:.2f} GiB {kind} torch checkpoint: best {min(times):.2f} s, "
          f"median {sorted(times)[1]:.2f} s (fresh process each; target < 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
