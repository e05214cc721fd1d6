"""Write benchmarks/RESULTS.md: every benchmark, run in this process's environment.

    python -m benchmarks.report            # (what `make bench` runs)

Runs the torch-vs-numtorch workloads (``benchmarks.run --markdown``), the memory-mapped load
figures (``benchmarks.bench_serialization``) and the ``inspect`` timing
(``benchmarks.inspect_large``), each in a fresh process, and records their output with the
machine and the date.
"""
from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
STEPS = [
    ("Workloads: the same code under torch and numtorch in one process",
     ["-m", "benchmarks.run", "--markdown"]),
    ("Memory-mapped load of the 1 GiB checkpoint", ["-m", "benchmarks.bench_serialization"]),
    ("`numtorch inspect` on a 1 GiB torch checkpoint", ["-m", "benchmarks.inspect_large"]),
]


def _machine() -> str:
    import numpy
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
            f"NumPy {numpy.__version__}, torch {torch.__version__}")


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    sections = []
    for title, args in STEPS:
        print(f"running python {' '.join(args)} ...", flush=True)
        done = subprocess.run([sys.executable, *args], cwd=root, capture_output=True, text=True)
        if done.returncode:
            sys.stderr.write(done.stdout + done.stderr)
            return done.returncode
        body = done.stdout.strip()
        if not body.startswith("|"):
            body = "```\n" + body + "\n```"
        sections.append(f"## {title}\n\n`python {' '.join(args)}`\n\n{body}\n")
    today = datetime.date.today().isoformat()
    RESULTS.write_text(
        "# Benchmark results\n\n"
        f"Produced by `python -m benchmarks.report` (`make bench`) on {today}: "
        f"{_machine()}.\n"
        "Speedup is torch's time divided by numtorch's (above 1: numtorch is faster), the "
        "median over pairs of adjacent rounds (alternating which library goes first); the "
        "times are each library's median round.\n\n" + "\n".join(sections))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
