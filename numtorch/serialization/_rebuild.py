"""The functions a checkpoint's pickle calls: torch's tensor rebuilders and safe NumPy rebuilders.

Each one validates its arguments (types, sizes, bounds) before building anything, because the
arguments come from an untrusted file. They are what ``torch._utils._rebuild_tensor_v2`` and
friends resolve to when numtorch reads a checkpoint.
"""
from __future__ import annotations

import re

import numpy as np

from .. import _dtype as D
from .._device import META
from .._tensor import Tensor, _from_array
from ._storage import CheckpointError, LoadedStorage, tensor_view

__all__ = ["rebuild_tensor_v2", "rebuild_tensor_v3", "rebuild_tensor", "rebuild_parameter",
           "rebuild_parameter_with_state", "rebuild_meta_tensor_no_storage",
           "rebuild_from_type_v2", "TypeMarker", "TENSOR_TYPE", "PARAMETER_TYPE",
           "numpy_scalar", "numpy_dtype", "numpy_reconstruct", "check_numpy_dtype_state",
           "check_numpy_array_state", "numpy_frombuffer", "empty_bytes", "TENSOR_FUNCS",
           "TENSOR_INTERNALS", "user_attributes"]


class TypeMarker:
    """What ``torch.Tensor`` / ``torch.nn.parameter.Parameter`` resolve to inside a checkpoint."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<class '{self.name}'>"

    def __setstate__(self, state):
        raise CheckpointError(f"refusing to BUILD state into {self.name}")


TENSOR_TYPE = TypeMarker("torch.Tensor")
PARAMETER_TYPE = TypeMarker("torch.nn.parameter.Parameter")


def finish_tensor(arr: np.ndarray, storage: LoadedStorage, requires_grad) -> Tensor:
    """The tensor over ``arr`` on the storage's device, requiring grad when asked."""
    if storage.device is META:
        arr = np.broadcast_to(np.zeros((), dtype=arr.dtype), arr.shape)
        t = _from_array(arr, device=META)
    else:
        t = _from_array(arr, device=storage.device)
    if requires_grad:
        if type(requires_grad) is not bool:
            raise CheckpointError(f"requires_grad must be a bool, got {requires_grad!r}")
        t.requires_grad_(True)
    return t


def _storage_arg(storage, what: str) -> LoadedStorage:
    if not isinstance(storage, LoadedStorage):
        raise CheckpointError(f"{what}: expected a storage from the checkpoint, got "
                              f"{type(storage).__name__}")
    return storage


def rebuild_tensor(storage, storage_offset, size, stride) -> Tensor:
    """``torch._utils._rebuild_tensor``: a view of a typed storage."""
    storage = _storage_arg(storage, "_rebuild_tensor")
    if storage.dtype is None:
        raise CheckpointError(f"storage '{storage.key}' is untyped; use _rebuild_tensor_v3")
    return finish_tensor(tensor_view(storage, storage.dtype, storage_offset, size, stride),
                         storage, False)


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      metadata=None) -> Tensor:
    """``torch._utils._rebuild_tensor_v2``: a view of a typed storage, with requires_grad."""
    storage = _storage_arg(storage, "_rebuild_tensor_v2")
    if storage.dtype is None:
        raise CheckpointError(f"storage '{storage.key}' is untyped; use _rebuild_tensor_v3")
    arr = tensor_view(storage, storage.dtype, storage_offset, size, stride)
    return finish_tensor(arr, storage, requires_grad)


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      dtype, metadata=None) -> Tensor:
    """``torch._utils._rebuild_tensor_v3``: a view of an untyped storage as ``dtype``."""
    storage = _storage_arg(storage, "_rebuild_tensor_v3")
    if not isinstance(dtype, D.dtype):
        raise CheckpointError(f"_rebuild_tensor_v3: {dtype!r} is not a dtype")
    arr = tensor_view(storage, dtype, storage_offset, size, stride)
    return finish_tensor(arr, storage, requires_grad)


def _parameter(data, requires_grad):
    from ..nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise CheckpointError(f"_rebuild_parameter: data must be a tensor, got "
                              f"{type(data).__name__}")
    if type(requires_grad) is not bool:
        raise CheckpointError(f"_rebuild_parameter: requires_grad must be a bool, got "
                              f"{requires_grad!r}")
    if requires_grad and data.dtype._category < 2:
        raise CheckpointError("_rebuild_parameter: only floating point and complex tensors can "
                              "require gradients")
    return Parameter(data, requires_grad)


def rebuild_parameter(data, requires_grad, backward_hooks) -> Tensor:
    """``torch._utils._rebuild_parameter``: a Parameter over a rebuilt tensor."""
    return _parameter(data, requires_grad)


# attributes numtorch keeps on a tensor itself: a checkpoint's state may never set them
TENSOR_INTERNALS = frozenset(("_data", "_device", "_vc", "_requires_grad", "_grad", "_output_nr",
                              "_base", "_accum", "_hooks", "_retains_grad", "_post_acc_hooks",
                              "_is_param", "_is_buffer", "grad_fn"))


def user_attributes(t: Tensor) -> dict:
    """The Python attributes a user set on ``t`` (what torch pickles as the tensor's state)."""
    return {k: v for k, v in t.__dict__.items()
            if k not in TENSOR_INTERNALS and not hasattr(Tensor, k)}


def _set_state(obj, state) -> None:
    dict_state, slots_state = state if isinstance(state, tuple) and len(state) == 2 else \
        (state, None)
    for part in (dict_state, slots_state):
        if not part:
            continue
        if not isinstance(part, dict):
            raise CheckpointError(f"invalid serialized tensor state {type(part).__name__}")
        for k, v in part.items():
            if not isinstance(k, str) or not k.isidentifier() or k.startswith("__") or \
                    k in TENSOR_INTERNALS or hasattr(type(obj), k):
                raise CheckpointError(f"refusing to set attribute {k!r} from a checkpoint")
            obj.__dict__[k] = v


def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state) -> Tensor:
    """``torch._utils._rebuild_parameter_with_state``: a Parameter plus plain attributes."""
    p = _parameter(data, requires_grad)
    if state:
        _set_state(p, state)
    return p


def rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad) -> Tensor:
    """``torch._utils._rebuild_meta_tensor_no_storage``: a meta tensor (shape and dtype only)."""
    if not isinstance(dtype, D.dtype):
        raise CheckpointError(f"_rebuild_meta_tensor_no_storage: {dtype!r} is not a dtype")
    if not isinstance(size, (tuple, list)) or not all(type(s) is int and s >= 0 for s in size):
        raise CheckpointError(f"_rebuild_meta_tensor_no_storage: invalid size {size!r}")
    arr = np.broadcast_to(np.zeros((), dtype=dtype.np), tuple(size))
    t = _from_array(arr, device=META)
    if requires_grad:
        t.requires_grad_(True)
    return t


def rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: a tensor rebuilt by ``func`` plus attributes."""
    if func not in TENSOR_FUNCS:
        raise CheckpointError(f"_rebuild_from_type_v2: {func!r} is not a tensor rebuild function")
    if not isinstance(args, tuple):
        raise CheckpointError("_rebuild_from_type_v2: args must be a tuple")
    if new_type not in (TENSOR_TYPE, PARAMETER_TYPE):
        raise CheckpointError(f"_rebuild_from_type_v2: unsupported tensor type {new_type!r}")
    ret = func(*args)
    if new_type is PARAMETER_TYPE and not getattr(ret, "_is_param", False):
        ret = _parameter(ret, ret.requires_grad)
    if state:
        _set_state(ret, state)
    return ret


TENSOR_FUNCS = (rebuild_tensor, rebuild_tensor_v2, rebuild_tensor_v3, rebuild_parameter,
                 rebuild_parameter_with_state, rebuild_meta_tensor_no_storage)

# ---------------------------------------------------------------------------------- NumPy
_NUMPY_KINDS = frozenset("biufcUSm M")
_DTYPE_NAME = re.compile(r"[<>|=]?[?bBhHiIlLqQpPefdgFDGbiufcUSmM][0-9]{0,6}(\[[a-zA-Z0-9]+\])?")


def _plain_numpy_dtype(dt, what: str) -> np.dtype:
    if not isinstance(dt, np.dtype) or dt.hasobject or dt.kind not in _NUMPY_KINDS or \
            dt.fields is not None or dt.subdtype is not None:
        raise CheckpointError(f"{what}: only plain numeric NumPy dtypes load safely, got {dt!r}")
    return dt


def numpy_dtype(name, align=False, copy=True) -> np.dtype:
    """``numpy.dtype(name, align, copy)`` restricted to plain numeric type names."""
    if not isinstance(name, str) or not _DTYPE_NAME.fullmatch(name):
        raise CheckpointError(f"numpy.dtype: refusing dtype description {name!r}; only plain "
                              "numeric types load safely")
    return np.dtype(name, align=False, copy=True)  # a fresh object: BUILD may set its byte order


_TIME_UNITS = frozenset((b"Y", b"M", b"W", b"D", b"h", b"m", b"s", b"ms", b"us", b"ns", b"ps",
                         b"fs", b"as", b"generic"))


def _check_dtype_metadata(inst: np.dtype, meta) -> None:
    if meta is None or isinstance(meta, dict):
        return
    if inst.kind in "mM" and isinstance(meta, tuple) and len(meta) == 2 and \
            (meta[0] is None or isinstance(meta[0], dict)) and isinstance(meta[1], tuple) and \
            len(meta[1]) == 4 and meta[1][0] in _TIME_UNITS and \
            all(type(x) is int and 0 < x < 1 << 31 for x in meta[1][1:]):
        return  # datetime64/timedelta64: (metadata, (unit, multiplier, 1, 1))
    raise CheckpointError("numpy.dtype: invalid metadata in dtype state")


def check_numpy_dtype_state(inst: np.dtype, state) -> None:
    """Validate the BUILD state NumPy pickles for a dtype (byte order; no fields, no objects)."""
    if not (isinstance(state, tuple) and len(state) in (8, 9) and state[0] in (3, 4) and
            state[1] in ("<", ">", "|", "=") and state[2] is None and state[3] is None and
            state[4] is None and all(type(x) is int for x in state[5:8])):
        raise CheckpointError(f"numpy.dtype: refusing dtype state {state!r}")
    if len(state) == 9:
        _check_dtype_metadata(inst, state[8])


def numpy_scalar(dtype, data=None):
    """``numpy.core.multiarray.scalar``: a NumPy scalar from its dtype and raw bytes."""
    dt = _plain_numpy_dtype(dtype, "numpy scalar")
    if not isinstance(data, bytes) or len(data) != dt.itemsize:
        raise CheckpointError(f"numpy scalar: expected {dt.itemsize} bytes of {dt}, got "
                              f"{type(data).__name__}")
    return np.frombuffer(data, dtype=dt)[0]


def numpy_reconstruct(subtype, shape, dtype_code):
    """``numpy.core.multiarray._reconstruct``: an empty ndarray that BUILD then fills."""
    if subtype is not np.ndarray:
        raise CheckpointError(f"numpy _reconstruct: only numpy.ndarray is allowed, got "
                              f"{subtype!r}")
    return np.ndarray((0,), dtype=np.uint8)


def check_numpy_array_state(inst: np.ndarray, state) -> None:
    """Validate an ndarray's pickled state: version, shape, plain dtype, exactly-sized bytes."""
    if not (isinstance(state, tuple) and len(state) == 5):
        raise CheckpointError("numpy array: invalid pickled state")
    version, shape, dt, fortran, raw = state
    if type(version) is not int or not isinstance(shape, tuple) or \
            not all(type(s) is int and s >= 0 for s in shape) or type(fortran) is not bool:
        raise CheckpointError(f"numpy array: invalid shape or flags {shape!r}")
    dt = _plain_numpy_dtype(dt, "numpy array")
    n = 1
    for s in shape:
        n *= s
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != n * dt.itemsize:
        raise CheckpointError(f"numpy array: expected {n * dt.itemsize} bytes for shape {shape} "
                              f"of {dt}, got {len(raw) if isinstance(raw, bytes) else type(raw)}")


def numpy_frombuffer(buf, dtype, shape, order):
    """``numpy._core.numeric._frombuffer`` (protocol 5 arrays): an array over in-band bytes."""
    dt = _plain_numpy_dtype(dtype, "numpy array")
    if not isinstance(buf, (bytes, bytearray)) or not isinstance(shape, tuple) or \
            not all(type(s) is int and s >= 0 for s in shape) or order not in ("C", "F"):
        raise CheckpointError("numpy _frombuffer: invalid buffer, shape or order")
    n = 1
    for s in shape:
        n *= s
    if len(buf) != n * dt.itemsize:
        raise CheckpointError(f"numpy _frombuffer: expected {n * dt.itemsize} bytes for shape "
                              f"{shape} of {dt}, got {len(buf)}")
    return np.frombuffer(buf, dtype=dt).reshape(shape, order=order)


def empty_bytes(*args) -> bytes:
    """``bytes()`` as protocol 2 pickles ``b""`` (NumPy's empty arrays); nothing else."""
    if args == () or len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
        return bytes(*args)
    raise CheckpointError("bytes(): only bytes() and bytes(<bytes>) load from a checkpoint")
