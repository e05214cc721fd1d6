"""``numtorch.cuda``: what torch.cuda reports on a machine without a CUDA backend."""
from __future__ import annotations

from ._device import cuda_unavailable

__all__ = ["is_available", "device_count", "get_device_name", "current_device",
           "manual_seed", "manual_seed_all", "synchronize", "empty_cache", "is_initialized",
           "get_device_capability", "get_device_properties", "seed", "seed_all"]


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
    """Wait for CUDA work to finish; raises as torch does when there is no CUDA."""
    raise cuda_unavailable()


def empty_cache() -> None:
    """Nothing to free without CUDA."""


def is_initialized() -> bool:
    """Whether CUDA has been initialised (never, without CUDA)."""
    return False


def get_device_capability(device=None) -> tuple:
    """Compute capability of a CUDA device; raises as torch does when there is none."""
    raise cuda_unavailable()


def get_device_properties(device=None):
    """Properties of a CUDA device; raises as torch does when there is none."""
    raise cuda_unavailable()


def seed() -> None:
    """Seeding CUDA generators is a no-op without CUDA, as in torch."""


def seed_all() -> None:
    """Seeding CUDA generators is a no-op without CUDA, as in torch."""
