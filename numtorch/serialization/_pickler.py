"""A pickler that writes torch's checkpoint pickle without importing torch.

Tensors become ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` calls
whose storage is a persistent id ``('storage', torch.FloatStorage, key, 'cpu', numel)``;
dtypes, devices and sizes become ``torch.float32``, ``torch.device('cpu')``, ``torch.Size(...)``.
Globals are written by name (``TorchGlobal``), so torch itself is never needed. Tensors that view
the same NumPy memory become views of one storage: tied weights stay tied.
"""
from __future__ import annotations

import pickle
from collections import OrderedDict

import numpy as np

from .. import _dtype as D
from .._device import CPU, META, device as Device
from .._tensor import Size, Tensor, _from_array
from ._rebuild import user_attributes

__all__ = ["TorchGlobal", "CheckpointPickler", "StorageRecord", "reduce_tensor",
           "reduce_parameter"]


class TorchGlobal:
    """A global written by its name (``module.name``) without importing it."""

    __slots__ = ("module", "name")
    _cache: dict = {}

    def __new__(cls, module: str, name: str):
        key = (module, name)
        g = cls._cache.get(key)
        if g is None:
            g = object.__new__(cls)
            g.module, g.name = module, name
            cls._cache[key] = g
        return g

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self!r} is only a name written into checkpoints; it cannot be called")


REBUILD_V2 = TorchGlobal("torch._utils", "_rebuild_tensor_v2")
REBUILD_V3 = TorchGlobal("torch._utils", "_rebuild_tensor_v3")
REBUILD_PARAMETER = TorchGlobal("torch._utils", "_rebuild_parameter")
REBUILD_META = TorchGlobal("torch._utils", "_rebuild_meta_tensor_no_storage")
REBUILD_PARAMETER_WITH_STATE = TorchGlobal("torch._utils", "_rebuild_parameter_with_state")
REBUILD_FROM_TYPE_V2 = TorchGlobal("torch._tensor", "_rebuild_from_type_v2")
TORCH_TENSOR = TorchGlobal("torch", "Tensor")
ORDERED_DICT = TorchGlobal("collections", "OrderedDict")
TORCH_DEVICE = TorchGlobal("torch", "device")
TORCH_SIZE = TorchGlobal("torch", "Size")
UNTYPED = TorchGlobal("torch.storage", "UntypedStorage")
# dtypes torch still names with a typed storage class (_rebuild_tensor_v2); others use v3
_TYPED = frozenset(("float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8",
                    "uint8", "bool", "complex128", "complex64"))


class StorageRecord:
    """One storage to write: its key, the bytes (a 1-D uint8 array) and how it is named."""

    __slots__ = ("key", "data", "dtype", "typed", "root")

    def __init__(self, key: str, data: np.ndarray, dtype, root) -> None:
        self.key = key
        self.data = data
        self.dtype = dtype
        self.typed = dtype.name in _TYPED
        self.root = root  # keeps the array alive while pickling

    def persistent_id(self) -> tuple:
        if self.typed:
            return ("storage", TorchGlobal("torch", self.dtype.storage_name), self.key, "cpu",
                    self.data.size // self.dtype.itemsize)
        return ("storage", UNTYPED, self.key, "cpu", self.data.size)


def _root(arr: np.ndarray) -> np.ndarray:
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root


def _as_bytes(root: np.ndarray) -> np.ndarray | None:
    """The memory of a contiguous array as a flat uint8 view, or None when not contiguous."""
    if root.flags.c_contiguous:
        flat = root.reshape(-1)
    elif root.flags.f_contiguous:
        flat = root.T.reshape(-1)
    else:
        return None
    if flat.dtype.itemsize == 0:
        return None
    return flat.view(np.uint8)


class CheckpointPickler(pickle._Pickler):
    """Pickles an object for ``save``: tensors by reference to storages collected in ``storages``."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol: int = 2) -> None:
        super().__init__(file, protocol)
        self.storages: list[StorageRecord] = []
        self._by_root: dict[int, StorageRecord] = {}

    def _save_torch_global(self, obj: TorchGlobal, memo_as=None) -> None:
        """Write the global ``obj`` names; memoized as ``memo_as`` (what the pickle holds)."""
        if self.proto >= 4:
            self.save(obj.module)
            self.save(obj.name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj if memo_as is None else memo_as)

    dispatch[TorchGlobal] = _save_torch_global

    def persistent_id(self, obj):
        if type(obj) is StorageRecord:
            return obj.persistent_id()
        return None

    def reducer_override(self, obj):
        t = type(obj)
        if t is D.dtype:
            return f"{obj.name}"  # pickled as the global torch.<name>
        if t is Device:
            return (TORCH_DEVICE, (str(obj),))
        if t is Size:
            return (TORCH_SIZE, (tuple(obj),))
        if isinstance(obj, Tensor):
            return self._reduce_tensor_object(obj)
        if t is _Data:
            return self._reduce_tensor(obj.arr, obj.device, False)
        return NotImplemented

    def save_global(self, obj, name=None):
        if type(obj) is D.dtype:
            return self._save_torch_global(TorchGlobal("torch", obj.name), obj)
        return super().save_global(obj, name)

    def _reduce_tensor_object(self, t: Tensor):
        """As torch's ``__reduce_ex__``: Python attributes set on a tensor travel as its state."""
        state = user_attributes(t)
        if getattr(t, "_is_param", False):
            if state:
                return (REBUILD_PARAMETER_WITH_STATE, (_Data(t), t.requires_grad, OrderedDict(),
                                                       state))
            return (REBUILD_PARAMETER, (_Data(t), t.requires_grad, OrderedDict()))
        reduced = self._reduce_tensor(t._data, t._device, t.requires_grad)
        if state:
            return (REBUILD_FROM_TYPE_V2, (reduced[0], TORCH_TENSOR, reduced[1], state))
        return reduced

    def _reduce_tensor(self, arr: np.ndarray, dev, requires_grad: bool):
        dtype = D.from_numpy_dtype(arr.dtype)
        if dev is META:
            return (REBUILD_META, (dtype, tuple(arr.shape),
                                   _contiguous_strides(arr.shape), requires_grad))
        record, offset, strides = self._storage_for(arr, dtype)
        args = (record, offset, tuple(arr.shape), strides, requires_grad, OrderedDict())
        if record.typed:
            return (REBUILD_V2, args)
        return (REBUILD_V3, args + (dtype,))

    def _storage_for(self, arr: np.ndarray, dtype):
        item = arr.itemsize
        root = _root(arr)
        flat = _as_bytes(root) if arr.size else None
        ok = flat is not None and all(s >= 0 and s % item == 0 for s in arr.strides)
        if ok:
            off = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            ok = off >= 0 and off % item == 0 and flat.size % item == 0
        if not ok:  # not expressible as a view of its memory: write a compact copy
            root = arr = np.ascontiguousarray(arr)
            flat, off = _as_bytes(root.reshape(-1)) if arr.size else np.empty(0, np.uint8), 0
        record = self._by_root.get(id(root))
        if record is None:
            record = StorageRecord(str(len(self.storages)), flat, dtype, root)
            self.storages.append(record)
            self._by_root[id(root)] = record
        elif record.dtype is not dtype:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same data "
                               "as different types; save a .clone() of one of them")
        strides = tuple(s // item for s in arr.strides) if arr.size else \
            _contiguous_strides(arr.shape)
        return record, off // item, strides


class _Data:
    """A Parameter's data, pickled as the plain tensor inside ``_rebuild_parameter``."""

    __slots__ = ("arr", "device")

    def __init__(self, t: Tensor) -> None:
        self.arr = t._data
        self.device = t._device


def _contiguous_strides(shape) -> tuple:
    strides, acc = [], 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(strides))


# ------------------------------------------------------------ plain pickle / copy of tensors
def _rebuild_array(arr, requires_grad: bool, device: str, is_param: bool = False):
    t = _from_array(np.array(arr, copy=False) if not isinstance(arr, np.ndarray) else arr,
                    device=Device(device))
    if is_param:
        from ..nn.parameter import Parameter
        return Parameter(t, requires_grad)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_meta(dtype_name: str, shape: tuple, requires_grad: bool, is_param: bool = False):
    arr = np.broadcast_to(np.zeros((), dtype=D.by_name(dtype_name).np), shape)
    t = _from_array(arr, device=META)
    if is_param:
        from ..nn.parameter import Parameter
        return Parameter(t, requires_grad)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _plain_reduce(t: Tensor, is_param: bool):
    if t._device is META:
        return (_rebuild_meta, (t.dtype.name, tuple(t.shape), t.requires_grad, is_param))
    return (_rebuild_array, (t._data, t.requires_grad, str(t._device), is_param))


def reduce_tensor(tensor: Tensor, protocol: int):
    """``Tensor.__reduce_ex__`` for plain pickle/copy: data as a NumPy array, no torch names."""
    return _plain_reduce(tensor, False)


def reduce_parameter(param: Tensor, protocol: int):
    """``Parameter.__reduce_ex__`` for plain pickle/copy: loads back as a numtorch Parameter."""
    return _plain_reduce(param, True)
