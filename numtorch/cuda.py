"""``numtorch.cuda``: what torch.cuda reports on a machine without a CUDA backend."""
from __future__ import annotations

from ._device import cuda_unavailable

__all__ = ["is_available", "device_count", "get_device_name", "current_device",
           "manual_seed", "manual_seed_all", "synchronize", "empty_cache"]


def is_available() -> bool:
    """Whether a CUDA device can be used (numtorch has no CUDA backend yet: False)."""
    return False


def device_count() -> int:
    """Number of usable CUDA devices."""
    return 0


def get_device_name(device=None) -> str:
    """Name of a CUDA device; raises as torch does when there is none."""
    raise cuda_unavailable()


def current_device() -> int:
    """Index of the current CUDA device; raises as torch does when there is none."""
    raise cuda_unavailable()


def manual_seed(seed: int) -> None:
    """Seeding CUDA generators is a no-op without CUDA, as in torch."""


def manual_seed_all(seed: int) -> None:
    """Seeding CUDA generators is a no-op without CUDA, as in torch."""


def synchronize(device=None) -> None:
    raise cuda_unavailable()


def empty_cache() -> None:
    """Nothing to free without CUDA."""
