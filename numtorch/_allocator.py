"""Keep freed array memory in the process instead of handing it back to the OS at once.

A training step allocates and frees the same megabyte-sized activations and gradients over
and over. glibc's malloc returns such blocks to the kernel (``munmap`` or trimming the heap) as
soon as they are freed, so every step page-faults them in again: a third of a small CNN's step
goes to page faults. Fixing glibc's thresholds (blocks up to ``MMAP_THRESHOLD`` come from the
heap; up to ``TRIM_THRESHOLD`` of free heap top is kept) lets the next step reuse the memory.
Larger blocks are still mapped and unmapped, so huge tensors go back to the OS when freed.

Applied once at import on Linux with glibc, unless ``NUMTORCH_MALLOC_TUNING=0`` or the user set
glibc's own ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_``.
"""
from __future__ import annotations

import os
import sys

__all__ = ["tune_malloc", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit
TRIM_THRESHOLD = 128 << 20
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc() -> bool:
    """Set glibc's malloc thresholds; returns whether they were set."""
    if not sys.platform.startswith("linux") or os.environ.get("NUMTORCH_MALLOC_TUNING") == "0":
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: no glibc thresholds
            return False
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
            bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False
