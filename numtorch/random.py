"""Random number generation: Generator objects with exact state save/restore.

numtorch draws from NumPy's PCG64; states are uint8 tensors so they travel inside checkpoints.
The streams differ from torch's (mt19937 + torch's own transforms): seeds give reproducible
numtorch runs, not torch's numbers.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng"]

_DEFAULT_SEED = 67280421310721
_STATE_BYTES = 16 + 16 + 1 + 4 + 8


class Generator:
    """A source of random numbers, as ``torch.Generator``: ``manual_seed``, ``get_state`` ..."""

    def __init__(self, device="cpu") -> None:
        from ._device import as_device
        self.device = as_device(device)
        self._seed = _DEFAULT_SEED
        self._np = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> "Generator":
        """Reset the stream from ``seed``; returns self."""
        seed = int(seed)
        if not -0x8000_0000_0000_0000 <= seed <= 0xffff_ffff_ffff_ffff:
            raise ValueError("Overflow when unpacking long long")
        seed &= 0xffff_ffff_ffff_ffff
        self._seed = seed
        self._np = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        """Seed from a non-deterministic source; returns the seed used."""
        s = int(np.random.SeedSequence().entropy) & 0xffff_ffff_ffff_ffff
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this stream was last started from."""
        return self._seed

    def get_state(self):
        """The full state as a uint8 tensor (restore it with ``set_state``)."""
        from ._tensor import _from_array
        st = self._np.bit_generator.state
        raw = bytearray()
        raw += int(st["state"]["state"]).to_bytes(16, "little")
        raw += int(st["state"]["inc"]).to_bytes(16, "little")
        raw += bytes([int(st["has_uint32"])])
        raw += int(st["uinteger"]).to_bytes(4, "little")
        raw += int(self._seed).to_bytes(8, "little")
        return _from_array(np.frombuffer(bytes(raw), dtype=np.uint8).copy())

    def set_state(self, new_state) -> "Generator":
        """Restore a state from ``get_state``; returns self."""
        from ._tensor import Tensor
        arr = new_state._data if isinstance(new_state, Tensor) else np.asarray(new_state)
        if arr.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if arr.size != _STATE_BYTES:
            raise RuntimeError(f"Expected a tensor of {_STATE_BYTES} bytes for the generator "
                               f"state, but got {arr.size} (was it saved by torch rather than "
                               "numtorch? their generators differ)")
        raw = arr.tobytes()
        bg = np.random.PCG64()
        bg.state = {"bit_generator": "PCG64",
                    "state": {"state": int.from_bytes(raw[0:16], "little"),
                              "inc": int.from_bytes(raw[16:32], "little")},
                    "has_uint32": raw[32], "uinteger": int.from_bytes(raw[33:37], "little")}
        self._np = np.random.Generator(bg)
        self._seed = int.from_bytes(raw[37:45], "little")
        return self

    def __getstate__(self):
        return {"device": str(self.device), "state": self.get_state()._data.tobytes()}

    def __setstate__(self, d):
        self.__init__(d["device"])
        self.set_state(np.frombuffer(d["state"], dtype=np.uint8))


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(new_state)


class fork_rng:
    """Context manager that restores the default generator's state on exit."""

    def __init__(self, devices=None, enabled: bool = True, **kwargs) -> None:
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self._state = get_rng_state()

    def __exit__(self, *exc):
        if self.enabled:
            set_rng_state(self._state)
        return False


def numpy_generator(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (the default one when None)."""
    return (generator or default_generator)._np
