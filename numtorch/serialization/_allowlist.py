"""What ``weights_only=True`` loading may resolve, and torch's words for what it refuses.

``ALLOWED`` is torch's allow-list in numtorch's objects (tensor rebuilders, storage classes,
dtypes, ``torch.Size``, ``torch.device``, ``OrderedDict``, plain containers); ``NUMPY_ALLOWED``
numtorch's safe NumPy rebuilders (beyond torch); ``add_safe_globals`` the user's additions.
``TORCH_ONLY`` names torch's allow-list holds that numtorch cannot build (quantized, sparse,
nested tensors ...): those get an error that says so instead of advice to trust the file.
"""
from __future__ import annotations

import codecs
import contextlib
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from .. import _dtype as D
from .._device import device as Device
from .._tensor import Size
from . import _rebuild as R
from ._storage import CheckpointError, storage_type

__all__ = ["ALLOWED", "NUMPY_ALLOWED", "TORCH_ONLY", "BLOCKED_MODULES", "UNSAFE_MESSAGE",
           "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals",
           "allowed_global", "user_allowed", "refusal_message", "weights_only_message",
           "unsupported_torch_global"]

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will "
    "likely succeed, but it can result in arbitrary code execution. Do it only if you got the "
    "file from a trusted source.")
DOCS_MESSAGE = (
    "\n\nCheck the documentation of torch.load to learn more about types accepted by default with "
    "weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
PLACEHOLDER_ADVICE = (
    "\nnumtorch: to read the tensors without trusting the file, pass "
    "unknown_globals=\"placeholder\" to numtorch.load; each unknown global then loads as an inert "
    "Placeholder and none of its code runs.")
BLOCKED_MODULES = ("sys", "os", "posix", "nt")


def _build_allowed() -> dict[str, Any]:
    rc: dict[str, Any] = {
        "collections.OrderedDict": OrderedDict,
        "collections.Counter": Counter,
        "torch.nn.parameter.Parameter": R.PARAMETER_TYPE,
        "torch.Size": Size,
        "torch.Tensor": R.TENSOR_TYPE,
        "torch.device": Device,
        "_codecs.encode": codecs.encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
        "torch._utils._rebuild_tensor": R.rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": R.rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": R.rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": R.rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": R.rebuild_parameter_with_state,
        "torch._utils._rebuild_meta_tensor_no_storage": R.rebuild_meta_tensor_no_storage,
        "torch._tensor._rebuild_from_type_v2": R.rebuild_from_type_v2,
    }
    for d in D.ALL_DTYPES:
        rc[f"torch.{d.name}"] = d
        if d.storage_name:
            rc[f"torch.{d.storage_name}"] = storage_type(d.storage_name)
            rc[f"torch.cuda.{d.storage_name}"] = storage_type(d.storage_name)
    for name in ("UntypedStorage", "TypedStorage"):
        rc[f"torch.storage.{name}"] = storage_type(name)
        rc[f"torch.{name}"] = storage_type(name)
    return rc


ALLOWED: dict[str, Any] = _build_allowed()

# NumPy objects common in the wild, rebuilt by numtorch's own validating code (beyond torch)
NUMPY_ALLOWED: dict[str, Any] = {"numpy.dtype": R.numpy_dtype, "numpy.ndarray": np.ndarray,
                                 "builtins.bytes": R.empty_bytes}
for _core in ("numpy.core", "numpy._core"):
    NUMPY_ALLOWED[f"{_core}.multiarray.scalar"] = R.numpy_scalar
    NUMPY_ALLOWED[f"{_core}.multiarray._reconstruct"] = R.numpy_reconstruct
    NUMPY_ALLOWED[f"{_core}.numeric._frombuffer"] = R.numpy_frombuffer


def _torch_only() -> dict[str, str]:
    quantized = "quantized tensors"
    rc = {f"torch._utils.{fn}": what for fn, what in (
        ("_rebuild_qtensor", quantized), ("_rebuild_sparse_tensor", "sparse tensors"),
        ("_rebuild_nested_tensor", "nested tensors"),
        ("_rebuild_wrapper_subclass", "tensor subclasses on other devices"),
        ("_rebuild_device_tensor_from_numpy", "tensors saved from other devices"),
        ("_rebuild_device_tensor_from_cpu_tensor", "tensors saved from other devices"))}
    rc["torch.serialization._get_layout"] = "sparse tensor layouts"
    for name in ("qint8", "quint8", "qint32", "quint4x2", "quint2x4", "per_tensor_affine",
                 "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric",
                 "per_channel_affine_float_qparams"):
        rc[f"torch.{name}"] = quantized
    for name in ("QInt8Storage", "QUInt8Storage", "QInt32Storage", "QUInt4x2Storage",
                 "QUInt2x4Storage"):
        rc[f"torch.{name}"] = rc[f"torch.cuda.{name}"] = quantized
    for name in ("bits1x8", "bits2x4", "bits4x2") + tuple(
            f"{kind}{n}" for kind in ("uint", "int") for n in range(1, 8)):
        rc[f"torch.{name}"] = f"the dtype torch.{name}"
    for kind in ("Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte",
                 "Bool", "ComplexDouble", "ComplexFloat"):
        for mod in ("torch", "torch.cuda", "torch.sparse", "torch.cuda.sparse"):
            rc[f"{mod}.{kind}Tensor"] = f"legacy tensor types ({mod}.{kind}Tensor)"
    return rc


TORCH_ONLY: dict[str, str] = _torch_only()
_TORCH_NEEDS_IMPORT = {
    "torch.nested._internal.nested_tensor.NestedTensor": "nested",
    "torch.nested._internal.nested_tensor._rebuild_njt": "nested",
    "torch._dynamo.decorators._DimRange": "nested",
    "torch.distributed.device_mesh.DeviceMesh": "dtensor",
    "torch.distributed.tensor._dtensor_spec.DTensorSpec": "dtensor",
    "torch.distributed.tensor._dtensor_spec.TensorMeta": "dtensor",
    "torch.distributed.tensor.DTensor": "dtensor",
    "torch.distributed.tensor.placement_types.Partial": "dtensor",
    "torch.distributed.tensor.placement_types.Replicate": "dtensor",
    "torch.distributed.tensor.placement_types.Shard": "dtensor",
}

_USER_ALLOWED: dict[str, Any] = {}


def _qualname(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals: list) -> None:
    """Allow these globals (objects, or ``(object, "module.name")`` pairs) under weights_only."""
    for g in safe_globals:
        if isinstance(g, tuple):
            if len(g) != 2 or not isinstance(g[1], str):
                raise ValueError(f"Expected tuple of (obj, str) for safe global, got {g!r}")
            _USER_ALLOWED[g[1]] = g[0]
        else:
            _USER_ALLOWED[_qualname(g)] = g


def get_safe_globals() -> list:
    """The globals added with ``add_safe_globals`` (objects, or (object, name) when renamed)."""
    return [obj if name == _qualname(obj) else (obj, name) for name, obj in _USER_ALLOWED.items()]


def clear_safe_globals() -> None:
    """Forget every global added with ``add_safe_globals``."""
    _USER_ALLOWED.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list):
    """Context manager: allow these globals under weights_only inside the ``with`` block."""
    saved = dict(_USER_ALLOWED)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _USER_ALLOWED.clear()
        _USER_ALLOWED.update(saved)


def user_allowed(obj) -> bool:
    """Whether ``obj`` was allowed with ``add_safe_globals`` (its code may run)."""
    return any(obj is v for v in _USER_ALLOWED.values())


def allowed_global(full_name: str, numpy_ok: bool = True):
    """The object a checkpoint global resolves to under weights_only, or None when refused."""
    obj = ALLOWED.get(full_name)
    if obj is None and numpy_ok:
        obj = NUMPY_ALLOWED.get(full_name)
    if obj is None:
        obj = _USER_ALLOWED.get(full_name)
    return obj


def refusal_message(module: str, full_name: str) -> str:
    """torch's WeightsUnpickler message refusing the global ``full_name``."""
    if module in BLOCKED_MODULES:
        return f"Trying to load unsupported GLOBAL {full_name} whose module {module} is blocked."
    need = _TORCH_NEEDS_IMPORT.get(full_name)
    if need == "nested":
        return ("``torch.nested`` and ``torch._dynamo`` must be imported to load nested jagged "
                "tensors (NJTs)")
    if need == "dtensor":
        return "``torch.distributed.tensor`` must be imported to load DTensors"
    shown = full_name
    if shown.startswith("builtins"):
        shown = shown[len("builtins"):]
        shown = shown[1:] if shown.startswith(".") else "builtins" + shown
    return (f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
            f"`torch.serialization.add_safe_globals([{shown}])` or the "
            f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist this "
            "global if you trust this class/function.")


def weights_only_message(message: str) -> str:
    """torch's whole ``weights_only`` failure message around an unpickler's ``message``, then
    numtorch's advice where an unknown global caused it."""
    if "was not an allowed global by default." in message:
        return ("Weights only load failed. This file can still be loaded, to do so you have two "
                "options, \033[1mdo those steps only if you trust the source of the checkpoint"
                f"\033[0m. \n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with "
                "`weights_only=True` please check the recommended steps in the following error "
                "message.\n\tWeightsUnpickler error: " + message + DOCS_MESSAGE +
                PLACEHOLDER_ADVICE)
    if " must be imported to load" in message:
        return f"Weights only load failed. {message}\n {UNSAFE_MESSAGE}\n"
    out = f"Weights only load failed. {UNSAFE_MESSAGE}\n"
    if "is blocked." not in message:
        out += ("Please file an issue with the following so that we can make `weights_only=True` "
                "compatible with your use case: WeightsUnpickler error: ")
    return out + "\n\n" + message + DOCS_MESSAGE


def unsupported_torch_global(full_name: str) -> CheckpointError | None:
    """The error for a torch global numtorch cannot build (None when it is not one)."""
    what = TORCH_ONLY.get(full_name)
    if what is None:
        return None
    return CheckpointError(
        f"numtorch cannot load {what}: the checkpoint uses {full_name}, which torch.load "
        "supports but numtorch does not. Pass unknown_globals=\"placeholder\" to numtorch.load to "
        "read every other tensor, with these loaded as inert Placeholders.")
