"""numtorch keeps freed activation memory for reuse (glibc's malloc thresholds, _allocator.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import numtorch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")


def _tuned_in_fresh_process(env_extra: dict) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMTORCH_MALLOC_TUNING", "MALLOC_MMAP_THRESHOLD_",
                        "MALLOC_TRIM_THRESHOLD_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", "import numtorch; print(numtorch._MALLOC_TUNED)"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()


def test_thresholds_are_set_at_import_and_can_be_turned_off():
    assert _tuned_in_fresh_process({}) == "True"
    assert _tuned_in_fresh_process({"NUMTORCH_MALLOC_TUNING": "0"}) == "False"
    assert _tuned_in_fresh_process({"MALLOC_TRIM_THRESHOLD_": "1000000"}) == "False"


def test_freed_activation_memory_is_reused_not_faulted_in_again():
    import resource
    x = numtorch.randn(64, 20, 24, 24, requires_grad=True)
    for _ in range(3):
        numtorch.nn.functional.relu(x).sum().backward()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        numtorch.nn.functional.relu(x).sum().backward()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    # each step allocates ~3 MiB (730 pages) of output and gradient: reused, it faults ~nothing
    assert faults < 20 * 730 // 4, faults
