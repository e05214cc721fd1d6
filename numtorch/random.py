"""Random number generation: Generator objects with exact state save/restore.

numtorch draws from NumPy's PCG64; states are uint8 tensors so they travel inside checkpoints.
The streams differ from torch's (mt19937 + torch's own transforms): seeds give reproducible
numtorch runs, not torch's numbers.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng", "bernoulli", "multinomial", "poisson"]

_DEFAULT_SEED = 67280421310721
_STATE_BYTES = 16 + 16 + 1 + 4 + 8


_NO_GENERATOR = {   # torch's CPU build, asked for a generator on another device
    "cuda": "Cannot get CUDA generator without ATen_cuda library. PyTorch splits its backend into "
            "two shared libraries: a CPU library and a CUDA library; this error has occurred "
            "because you are trying to use some CUDA functionality, but the CUDA library has not "
            "been loaded by the dynamic linker for some reason.  The CUDA library MUST be loaded, "
            "EVEN IF you don't directly use any symbols from the CUDA library! One common culprit "
            "is a lack of -Wl,--no-as-needed in your link arguments; many dynamic linkers will "
            "delete dynamic library dependencies if you don't depend on any of their symbols.  "
            "You can check if this has occurred by using ldd on your binary to see if there is a "
            "dependency on *_cuda.so library.",
    "meta": "META device type not an accelerator.",
    "xpu": "Cannot get XPU generator without ATen_xpu library.",
    "mps": "Cannot execute getNewGenerator() without MPS backend.",
}


class Generator:
    """A source of random numbers, as ``torch.Generator``: ``manual_seed``, ``get_state`` ..."""

    def __init__(self, device="cpu") -> None:
        from ._device import as_device
        if isinstance(device, int) and not isinstance(device, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        self.device = as_device(device)
        if self.device.type != "cpu":
            raise RuntimeError(_NO_GENERATOR.get(self.device.type, "Cannot access accelerator "
                                                 "device when none is available."))
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


# --------------------------------------------------------------------------- in-place sampling
_KIND_WORDS = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}
_CPP_INT_NAMES = {"int64": "long", "int32": "int", "int16": "short", "int8": "signed char",
                  "uint8": "unsigned char", "bool": "bool"}


def _dtype_word(t) -> str:
    return _KIND_WORDS.get(t.dtype.name, t.dtype.name.capitalize())


def _require_float(t, kernel: str) -> None:
    if t._data.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_word(t)}'")


def _write(t, values: np.ndarray, generator_used=True):
    """Store sampled ``values`` into ``t`` in place (torch's leaf check, version bump)."""
    from .autograd.grad_mode import STATE
    from ._device import META
    if t._requires_grad and STATE.enabled and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if t._device is META:
        return t
    with np.errstate(invalid="ignore", over="ignore"):
        if t._data.flags.writeable:
            np.copyto(t._data, values, casting="unsafe")
        else:
            t._data = np.array(values, dtype=t._data.dtype)
    t._bump()
    return t


def _rng(generator):
    return (generator or default_generator)._np


def uniform_(t, from_: float = 0.0, to: float = 1.0, *, generator=None):
    """Fill ``t`` with samples uniform on [from, to)."""
    _require_float(t, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_num(from_)} > to={_num(to)}")
    return _write(t, _rng(generator).uniform(from_, to, t._data.shape))


def normal_(t, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """Fill ``t`` with normal samples."""
    _require_float(t, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")
    return _write(t, _rng(generator).normal(mean, std, t._data.shape))


def _random_bounds(t, from_, to):
    dt = t._data.dtype
    if to is None:
        if from_ is not None and from_ != 0:
            return 0, int(from_)
        if dt.kind == "b":
            return 0, 2
        if dt.kind in "iu":
            return 0, int(np.iinfo(dt).max) + 1
        mantissa = {2: 11, 4: 24, 8: 53}.get(dt.itemsize, 8)
        return 0, 2 ** mantissa + 1
    lo, hi = int(from_ or 0), int(to)
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= "
                           f"to={hi}")
    if dt.kind in "iub" and hi - 1 > (1 if dt.kind == "b" else np.iinfo(dt).max):
        raise RuntimeError(f"to - 1 is out of bounds for {_CPP_INT_NAMES.get(t.dtype.name)}")
    return lo, hi


def random_(t, from_=None, to=None, *, generator=None):
    """Fill ``t`` with integers uniform on [from, to - 1] (default: the dtype's range)."""
    if from_ is not None and to is None and from_ != 0:
        lo, hi = 0, int(from_)
    else:
        lo, hi = _random_bounds(t, from_, to)
    return _write(t, _rng(generator).integers(lo, hi, t._data.shape, dtype=np.int64)
                  if hi <= 2 ** 63 else _rng(generator).integers(lo, hi, t._data.shape,
                                                                 dtype=np.uint64))


def bernoulli_(t, p=0.5, *, generator=None):
    """Fill ``t`` with 0/1 draws that are 1 with probability ``p`` (a number or tensor)."""
    from ._tensor import Tensor
    prob = p._data if isinstance(p, Tensor) else p
    if not isinstance(p, Tensor) and not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_num(p)}")
    draws = _rng(generator).random(t._data.shape) < prob
    return _write(t, draws)


def exponential_(t, lambd: float = 1.0, *, generator=None):
    """Fill ``t`` with exponential samples of rate ``lambd``."""
    if t._data.dtype.kind not in "fV":
        raise RuntimeError("Exponential distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {_dtype_word(t)}")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_num(lambd)}")
    return _write(t, _rng(generator).exponential(1.0 / lambd, t._data.shape))


def geometric_(t, p: float, *, generator=None):
    """Fill ``t`` with geometric samples (trials until the first success, >= 1)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_num(p)}")
    return _write(t, _rng(generator).geometric(p, t._data.shape))


def log_normal_(t, mean: float = 1.0, std: float = 2.0, *, generator=None):
    """Fill ``t`` with samples whose logarithm is normal(mean, std)."""
    _require_float(t, "log_normal_cpu")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_num(std)}")
    return _write(t, _rng(generator).lognormal(mean, std, t._data.shape))


def cauchy_(t, median: float = 0.0, sigma: float = 1.0, *, generator=None):
    """Fill ``t`` with Cauchy samples."""
    _require_float(t, "cauchy_cpu")
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_num(sigma)}")
    return _write(t, median + sigma * _rng(generator).standard_cauchy(t._data.shape))


def _num(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


TENSOR_METHODS = {"uniform_": uniform_, "normal_": normal_, "random_": random_,
                  "bernoulli_": bernoulli_, "exponential_": exponential_,
                  "geometric_": geometric_, "log_normal_": log_normal_, "cauchy_": cauchy_}


# --------------------------------------------------------------------------- sampling functions
def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples, 1 with probability ``input`` (or ``p``) elementwise."""
    from ._tensor import _from_array
    a = input._data
    if a.dtype.kind not in "fV":
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for "
                                  f"'{_dtype_word(input)}'")
    prob = a if p is None else p
    if p is None and ((a < 0) | (a > 1) | np.isnan(a)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an enhancement "
                           "request to PyTorch.)")
    draws = (_rng(generator).random(a.shape) < prob).astype(a.dtype)
    return _from_array(draws, device=input._device)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None,
                out=None):
    """Indices drawn from the rows of ``input`` as (unnormalised) probabilities."""
    from ._tensor import _from_array
    probs = np.asarray(input._data, dtype=np.float64)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    rows = probs.reshape(math.prod(probs.shape[:-1]), probs.shape[-1]) if probs.ndim else \
        probs.reshape(1, 1)
    if not replacement and num_samples > rows.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if replacement:
        _check_multinomial_entries(rows)
    elif not np.isfinite(probs).all() or (probs < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    sums = rows.sum(axis=-1)
    if (sums <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator)
    if replacement:
        cdf = np.cumsum(rows / sums[:, None], axis=-1)
        u = rng.random((rows.shape[0], num_samples))
        idx = np.empty(u.shape, np.int64)
        for row, (c, r) in enumerate(zip(cdf, u)):
            idx[row] = np.minimum(np.searchsorted(c, r, side="right"), rows.shape[-1] - 1)
    else:
        # Gumbel-top-k: sampling without replacement in proportion to the weights
        keys = np.log(rng.random(rows.shape)) / np.where(rows > 0, rows, np.nan)
        keys = np.where(rows > 0, keys, -np.inf)
        idx = np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    out_shape = probs.shape[:-1] + (num_samples,)
    return _from_array(idx.reshape(out_shape).astype(np.int64), device=input._device)


def _check_multinomial_entries(rows: np.ndarray) -> None:
    """torch's per-entry checks when sampling with replacement: the first bad entry decides."""
    bad = np.flatnonzero(~(rows >= 0) | np.isinf(rows))
    if bad.size:
        if rows.flat[bad[0]] == np.inf:
            raise RuntimeError("invalid multinomial distribution (encountering probability entry "
                               "= infinity or NaN)")
        raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")


def poisson(input, generator=None):
    """Poisson samples with rates ``input``."""
    from ._tensor import _from_array
    a = input._data
    if (a < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _from_array(_rng(generator).poisson(a).astype(a.dtype), device=input._device)
