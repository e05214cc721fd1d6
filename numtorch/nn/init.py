"""Parameter initialisation (nn.init): fill tensors in place from a distribution.

Every function writes into ``tensor`` without recording gradients and returns it. Random draws
come from numtorch's generators (``generator=`` or the default one), so the numbers differ from
torch's while the distributions, bounds, fan computations and errors are torch's.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .._tensor import Tensor
from ..random import Generator, numpy_generator

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant", "eye",
           "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
           "orthogonal", "sparse"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")
_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
               "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
               "float64": "Double"}


# ---------------------------------------------------------------------------- writing helpers
def _type_name(t: Tensor) -> str:
    return _TYPE_NAMES.get(t.dtype.name, t.dtype.name)


def _require_floating(t: Tensor, kernel: str) -> None:
    """torch's NotImplementedError for random fills of non-floating tensors."""
    if t._data.dtype.kind not in "fcV" and t.dtype.name != "bfloat16":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_name(t)}\'')


def _write(t: Tensor, values) -> Tensor:
    """Store ``values`` (broadcast, cast) into ``t``'s array in place and bump its version."""
    data = t._data
    if data.flags.writeable:
        np.copyto(data, values, casting="unsafe")
    else:
        t._data = np.array(np.broadcast_to(np.asarray(values).astype(data.dtype), data.shape))
    t._bump()
    return t


def _is_meta(t: Tensor) -> bool:
    return t._device.type == "meta"


def _draw_uniform(rng: np.random.Generator, shape, a: float, b: float, complex_: bool):
    if complex_:
        pair = rng.uniform(a, b, tuple(shape) + (2,))
        return pair[..., 0] + 1j * pair[..., 1]
    return rng.uniform(a, b, shape)


def _draw_normal(rng: np.random.Generator, shape, mean: float, std: float, complex_: bool):
    if complex_:
        pair = rng.standard_normal(tuple(shape) + (2,)) * (std / math.sqrt(2.0))
        return mean + pair[..., 0] + 1j * pair[..., 1]
    return rng.normal(mean, std, shape) if std else np.full(shape, float(mean))


def _fill_uniform(t: Tensor, a: float, b: float, generator: Generator | None) -> Tensor:
    _require_floating(t, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > "
                           f"to={b}")
    if _is_meta(t):
        return t
    rng = numpy_generator(generator)
    return _write(t, _draw_uniform(rng, t._data.shape, a, b, t._data.dtype.kind == "c"))


def _fill_normal(t: Tensor, mean: float, std: float, generator: Generator | None) -> Tensor:
    _require_floating(t, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if _is_meta(t):
        return t
    rng = numpy_generator(generator)
    return _write(t, _draw_normal(rng, t._data.shape, mean, std, t._data.dtype.kind == "c"))


# ---------------------------------------------------------------------------- gains and fans
def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """The recommended gain for a nonlinearity (``'relu'`` -> sqrt(2), ``'tanh'`` -> 5/3 ...).

    ``param`` is leaky_relu's negative slope (default 0.01). Raises ValueError for an unknown
    nonlinearity or a non-numeric slope.
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif (isinstance(param, int) and not isinstance(param, bool)) or \
                isinstance(param, float):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shaped (out, in, *kernel); ValueError below 2 dims."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid = ["fan_in", "fan_out"]
    if mode not in valid:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ---------------------------------------------------------------------------- basic fills
def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` from U(a, b); returns it."""
    return _fill_uniform(tensor, a, b, generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill ``tensor`` from N(mean, std^2); returns it."""
    return _fill_normal(tensor, mean, std, generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val`` (cast to its dtype); returns it."""
    if _is_meta(tensor):
        return tensor
    if isinstance(val, Tensor):
        val = val._data
    return _write(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with ones; returns it."""
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros; returns it."""
    return constant_(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-d ``tensor`` with the identity matrix; returns it. ValueError otherwise."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if _is_meta(tensor):
        return tensor
    return _write(tensor, np.eye(*tensor._data.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3/4/5-d conv weight with the Dirac delta (identity convolution); returns it."""
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    shape = tensor.shape
    if shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    if _is_meta(tensor):
        return tensor
    per_group = shape[0] // groups
    n = min(per_group, shape[1])
    values = np.zeros(shape)
    d = np.arange(n)
    out_idx = (np.arange(groups)[:, None] * per_group + d[None, :]).ravel()
    in_idx = np.tile(d, groups)
    centre = tuple(s // 2 for s in shape[2:])
    values[(out_idx, in_idx) + centre] = 1
    return _write(tensor, values)


# ---------------------------------------------------------------------------- scaled fills
def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)); returns it."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _fill_uniform(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)); returns it."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill_normal(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def _zero_element(tensor: Tensor) -> bool:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan_mode); returns it."""
    if _zero_element(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _fill_uniform(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan_mode); returns it."""
    if _zero_element(tensor):
        return tensor
    return _fill_normal(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def _truncated_normal(rng: np.random.Generator, n: int, mean: float, std: float, a: float,
                      b: float) -> np.ndarray:
    """``n`` draws of N(mean, std^2) restricted to [a, b], redrawing rejected ones in rounds."""
    mass = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
    out = np.empty(n)
    pending = np.arange(n)
    if mass > 0.3:          # plain rejection from the normal accepts often enough
        while pending.size:
            draw = rng.normal(mean, std, pending.size)
            ok = (draw >= a) & (draw <= b)
            out[pending[ok]] = draw[ok]
            pending = pending[~ok]
        return out
    mode = max(a, min(mean, b))     # narrow window: uniform proposals, accept by density ratio
    log_peak = -0.5 * ((mode - mean) / std) ** 2
    while pending.size:
        draw = rng.uniform(a, b, pending.size)
        log_ratio = -0.5 * ((draw - mean) / std) ** 2 - log_peak
        ok = np.log(rng.random(pending.size)) <= log_ratio
        out[pending[ok]] = draw[ok]
        pending = pending[~ok]
    return out


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Fill from N(mean, std^2) truncated to [a, b] (values outside redrawn); returns it."""
    if _is_meta(tensor):
        return tensor
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    _require_floating(tensor, "normal_kernel_cpu")
    rng = numpy_generator(generator)
    values = _truncated_normal(rng, tensor.numel(), mean, std, a, b)
    return _write(tensor, values.reshape(tensor._data.shape))


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Generator | None = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix (trailing dims flattened) times ``gain``."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0 or _is_meta(tensor):
        return tensor
    _require_floating(tensor, "normal_kernel_cpu")
    if tensor.dtype.name in ("float16", "bfloat16"):
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for '{_type_name(tensor)}'")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _draw_normal(numpy_generator(generator), (rows, cols), 0.0, 1.0,
                        tensor._data.dtype.kind == "c")
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    diag = np.diagonal(r)
    q = q * np.where(diag == 0, 0, diag / np.where(diag == 0, 1, np.abs(diag)))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor._data.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Generator | None = None) -> Tensor:
    """Fill a 2-d tensor from N(0, std^2) with ceil(sparsity * rows) zeros in each column."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if _is_meta(tensor):
        return tensor
    _require_floating(tensor, "normal_kernel_cpu")
    rows, cols = tensor.shape
    rng = numpy_generator(generator)
    values = rng.normal(0.0, std, (rows, cols)) if std else np.zeros((rows, cols))
    num_zeros = math.ceil(sparsity * rows)
    ranks = np.argsort(rng.random((rows, cols)), axis=0)[:num_zeros]
    values[ranks, np.arange(cols)[None, :]] = 0
    return _write(tensor, values)


# ---------------------------------------------------------------------------- deprecated names
def _make_deprecated(method):
    new_name = method.__name__
    old_name = new_name[:-1]

    def deprecated(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return method(*args, **kwargs)

    deprecated.__name__ = old_name
    deprecated.__doc__ = f"Deprecated alias of :func:`{new_name}`."
    return deprecated


uniform = _make_deprecated(uniform_)
normal = _make_deprecated(normal_)
constant = _make_deprecated(constant_)
eye = _make_deprecated(eye_)
dirac = _make_deprecated(dirac_)
xavier_uniform = _make_deprecated(xavier_uniform_)
xavier_normal = _make_deprecated(xavier_normal_)
kaiming_uniform = _make_deprecated(kaiming_uniform_)
kaiming_normal = _make_deprecated(kaiming_normal_)
orthogonal = _make_deprecated(orthogonal_)
sparse = _make_deprecated(sparse_)
