"""numtorch: PyTorch's tensors, autograd and module-state system on NumPy.

``import numtorch as torch`` runs ordinary PyTorch code that builds, trains, saves and loads
models, reading and writing real PyTorch checkpoint files.
"""
from __future__ import annotations

import builtins

from ._allocator import tune_malloc as _tune_malloc

_MALLOC_TUNED = _tune_malloc()
from . import _dtype
from ._dtype import (bfloat16, complex64, complex128, dtype, float8_e4m3fn, float8_e5m2, float16,
                     float32, float64, get_default_dtype, int8, int16, int32, int64,
                     set_default_dtype, uint8, uint16, uint32, uint64, promote_types)
from ._dtype import bool_ as bool  # noqa: A001  torch.bool
from ._dtype import can_cast, finfo, iinfo
from ._device import device, get_default_device, set_default_device
from ._tensor import Tensor, Size
from .autograd.anomaly_mode import (is_anomaly_check_nan_enabled, is_anomaly_enabled,
                                    set_anomaly_enabled)
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference,
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from .random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed,
                     manual_seed, multinomial, poisson, seed, set_rng_state)
from ._printing import set_printoptions
from ._parallel import get_num_threads, set_num_threads
from ._legacy import (BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor,
                      FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor, is_nonzero,
                      result_type, typename)
from . import _ops
from . import autograd, backends, cuda, random, version
from .version import __version__

float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128
strided = "torch.strided"
contiguous_format = "torch.contiguous_format"
channels_last = "torch.channels_last"
preserve_format = "torch.preserve_format"

globals().update(_ops.FUNCTIONS)


def is_tensor(obj) -> "builtins.bool":
    """Whether ``obj`` is a numtorch Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> "builtins.bool":
    """Whether ``input`` has a floating dtype."""
    return input.is_floating_point()


def numel(input: Tensor) -> "builtins.int":
    """Number of elements of ``input``."""
    return input.numel()


_deterministic = [False]


def use_deterministic_algorithms(mode: "builtins.bool", *, warn_only: "builtins.bool" = False
                                 ) -> None:
    """Record the flag (numtorch's NumPy kernels are deterministic anyway)."""
    _deterministic[0] = builtins.bool(mode)


def are_deterministic_algorithms_enabled() -> "builtins.bool":
    """The flag set by ``use_deterministic_algorithms``."""
    return _deterministic[0]


def _lazy_submodule(name: str):
    import importlib
    return importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str):
    if name in ("nn", "optim", "serialization", "utils", "checkpoint"):
        mod = _lazy_submodule(name)
        globals()[name] = mod
        return mod
    if name in ("save", "load"):
        ser = _lazy_submodule("serialization")
        return getattr(ser, name)
    if name == "summary":
        return _lazy_submodule("_summary").summary
    raise AttributeError(f"module 'numtorch' has no attribute '{name}'")
