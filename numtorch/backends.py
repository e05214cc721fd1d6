"""``numtorch.backends``: the flags scripts set and the availability questions they ask, answered
for a NumPy CPU build (no cuDNN, no MPS, no CUDA)."""
from __future__ import annotations

from types import SimpleNamespace

__all__ = ["cudnn", "mps", "cuda", "cpu", "mkldnn"]


def _no() -> bool:
    return False


cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                        is_available=_no, version=lambda: None)
mps = SimpleNamespace(is_available=_no, is_built=_no)
cuda = SimpleNamespace(is_built=_no, matmul=SimpleNamespace(
    allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
    allow_bf16_reduced_precision_reduction=True))
cpu = SimpleNamespace(get_cpu_capability=lambda: "DEFAULT")  # no vectorised ATen kernels
mkldnn = SimpleNamespace(is_available=_no, enabled=False)
