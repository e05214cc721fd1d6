"""Tensor: a NumPy array plus dtype, device, autograd state and a version counter."""
from __future__ import annotations

import weakref
from typing import Any, Callable, Iterator

import numpy as np

from . import _dtype as D
from ._device import CPU, META, as_device, array_module, cuda_unavailable, device
from . import autograd as _autograd
from . import random as _random
from .autograd import grad_mode
from .autograd.grad_mode import INFERENCE_OPEN as _INFERENCE_OPEN, \
    INFERENCE_VERSION as _INFERENCE_VERSION, mark_if_inference as _mark_if_inference
from .autograd.graph import AccumulateGrad, RemovableHandle

__all__ = ["Tensor", "Size", "_from_array", "edge"]

_NP2DT = {}
for _d in D.ALL_DTYPES:
    _NP2DT[_d.np] = _d
_GRAD_STATE = grad_mode.STATE
_NO_NUMPY = {D.bfloat16.np, D.float8_e4m3fn.np, D.float8_e5m2.np}
_NO_NUMPY_NAMES = {"bfloat16": "BFloat16", "float8_e4m3fn": "Float8_e4m3fn",
                   "float8_e5m2": "Float8_e5m2"}


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``torch.Size([2, 3])``."""

    def __new__(cls, sizes=()):
        items = []
        for i, v in enumerate(sizes):
            if isinstance(v, float) or not hasattr(v, "__index__"):
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is "
                                f"'{type(v).__name__}')")
            items.append(v.__index__())
        return tuple.__new__(cls, items)

    def __repr__(self) -> str:
        return f"torch.Size({list(self)!r})"

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return _SIZE_NEW(Size, r) if isinstance(item, slice) else r

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to "
                            "torch.Size")
        return _SIZE_NEW(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return _SIZE_NEW(Size, tuple.__add__(other, self))

    def __mul__(self, n):
        return _SIZE_NEW(Size, tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


_SIZE_NEW = tuple.__new__


class Tensor:
    """A multi-dimensional array with autograd, mirroring ``torch.Tensor``.

    The data is a NumPy array (``numpy()`` shares it); ``grad_fn`` is the Node that produced the
    tensor, ``None`` for leaves.
    """

    # class-level defaults keep tensor creation to a couple of attribute writes
    _requires_grad = False
    _grad = None
    grad_fn = None
    _output_nr = 0
    _vc = None
    _device = CPU
    _base = None
    _views = None        # a non-leaf base's recorded views, held weakly (see _ops/_views.py)
    _accum = None
    _hooks = None
    _retains_grad = False
    _post_acc_hooks = None
    _is_param = False
    __array_priority__ = 1000

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        if cls is Tensor or not getattr(cls, "_custom_new", False):
            self._data = _legacy_constructor_data(args, kwargs)
        if _INFERENCE_OPEN[0]:
            _mark_if_inference(self)
        return self

    def __init__(self, *args, **kwargs) -> None:
        pass

    # ------------------------------------------------------------------ metadata
    @property
    def dtype(self) -> D.dtype:
        return _NP2DT[self._data.dtype]

    @property
    def device(self) -> device:
        return self._device

    @property
    def shape(self) -> Size:
        return _SIZE_NEW(Size, self._data.shape)

    def size(self, dim: int | None = None):
        """The shape as a ``Size``, or one dimension's length."""
        if dim is None:
            return _SIZE_NEW(Size, self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    def stride(self, dim: int | None = None):
        """Strides in elements, as torch reports them."""
        item = self._data.itemsize
        st = tuple(s // item for s in self._data.strides)
        if self._device is META:
            st = _contiguous_strides(self._data.shape)
        if dim is None:
            return st
        return st[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether elements are laid out in row-major order without gaps."""
        return bool(self._data.flags.c_contiguous) or self._device is META

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return self.dtype.is_complex

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_meta(self) -> bool:
        return self._device is META

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    @property
    def layout(self):
        return "torch.strided"

    @property
    def _version(self) -> int:
        vc = self._vc
        if vc is _INFERENCE_VERSION:
            raise RuntimeError("Inference tensors do not track version counter.")
        return 0 if vc is None else vc[0]

    def _bump(self) -> None:
        vc = self._vc
        if vc is None:
            self._vc = [1]
        elif vc is _INFERENCE_VERSION:
            vc.bump()
        else:
            vc[0] += 1

    def is_inference(self) -> bool:
        """Whether this tensor was created in inference mode (or is a view of one that was)."""
        return self._vc is _INFERENCE_VERSION

    def _shared_vc(self) -> list:
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set whether autograd records operations on this leaf tensor; returns self."""
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use "
                    "a computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return self
        if requires_grad and self.dtype._category < 2:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if requires_grad and self._vc is _INFERENCE_VERSION and not _GRAD_STATE.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad:
            import warnings
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            _check_assigned_grad(self, value)
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    def _grad_accumulator(self):
        """This leaf's AccumulateGrad node; the tensor keeps only a weak reference, so the node
        (which references the tensor) lives exactly as long as some graph uses it."""
        if self.grad_fn is not None or not self._requires_grad:
            return None
        ref = self._accum
        acc = None if ref is None else ref()
        if acc is None:
            acc = AccumulateGrad(self)
            self._accum = weakref.ref(acc)
        return acc

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        node = self.grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(grad)`` whenever this tensor's gradient is computed; it may return a
        replacement gradient."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_tensor_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle.add(self._hooks, (0, hook))

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf it depends on."""
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        """A new tensor sharing this data, outside the graph."""
        out = _from_array(self._data, device=self._device)
        out._vc = self._shared_vc()
        return out

    def detach_(self) -> "Tensor":
        """Remove this tensor from the graph, making it a leaf."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        """This data outside the graph with a version counter of its own (changes through it
        are invisible to backward's checks, as in torch)."""
        out = _from_array(self._data, device=self._device)
        if self._vc is _INFERENCE_VERSION:
            out._vc = _INFERENCE_VERSION
        return out

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data expects a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._device = value._device

    # ------------------------------------------------------------------ conversion
    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self._device is META:
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                               "Scalar")
        a = self._data.reshape(())
        if a.dtype in _NO_NUMPY or a.dtype.kind == "V":
            return float(a.astype(np.float32))
        return a.item()

    def tolist(self):
        """The data as (nested) Python lists of numbers."""
        if self._device is META:
            raise _meta_copy_error()
        a = self._data
        if a.dtype in _NO_NUMPY:
            a = a.astype(np.float32)
        return a.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array sharing memory with this tensor."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self._data.dtype.kind == "V" or self._data.dtype in _NO_NUMPY:
            raise TypeError(f"Got unsupported ScalarType {_NO_NUMPY_NAMES[self.dtype.name]}")
        if self._device.type != "cpu":
            if force:
                return self.cpu()._data
            raise TypeError(f"can't convert {self._device.type} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        if dtype is not None:
            return a.astype(dtype, copy=bool(copy))
        return a.copy() if copy else a

    def to(self, *args, **kwargs) -> "Tensor":
        """Convert dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(tensor)``, with
        ``copy=True`` to always copy. Returns self when nothing changes."""
        dev, dt, copy = _parse_to(args, kwargs)
        return _convert(self, dev, dt, copy)

    def cpu(self, memory_format=None) -> "Tensor":
        """This tensor on the CPU (self if already there)."""
        return _convert(self, CPU, None, False)

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> "Tensor":
        """Move to a CUDA device; raises as torch does when CUDA is not available."""
        raise cuda_unavailable()

    def float(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.float32, False)

    def double(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.float64, False)

    def half(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.float16, False)

    def bfloat16(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.bfloat16, False)

    def long(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.int64, False)

    def int(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.int32, False)

    def short(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.int16, False)

    def char(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.int8, False)

    def byte(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.uint8, False)

    def bool(self, memory_format=None) -> "Tensor":
        return _convert(self, None, D.bool_, False)

    def cfloat(self) -> "Tensor":
        return _convert(self, None, D.complex64, False)

    def type_as(self, other: "Tensor") -> "Tensor":
        """This tensor cast to ``other``'s dtype."""
        return _convert(self, None, other.dtype, False)

    def type(self, dtype=None, non_blocking: bool = False):
        """With no argument the type name (``torch.FloatTensor``); otherwise cast to ``dtype``."""
        if dtype is None:
            return _type_name(self)
        if isinstance(dtype, str):
            name = dtype.split(".")[-1]
            dtype = _TYPE_NAME_TO_DTYPE.get(name)
            if dtype is None:
                raise ValueError(f"invalid type: '{name}'")
        return _convert(self, None, dtype, False)

    # ------------------------------------------------------------------ new tensors like this one
    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False,
                   layout=None, pin_memory: bool = False) -> "Tensor":
        """A new tensor holding ``data`` with this tensor's dtype and device unless given."""
        from ._ops import creation
        if isinstance(data, Tensor):
            import warnings
            warnings.warn("To copy construct from a tensor, it is recommended to use "
                          "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                          "requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                          UserWarning, stacklevel=2)
        return creation.tensor(data, dtype=self.dtype if dtype is None else dtype,
                               device=self._device if device is None else device,
                               requires_grad=requires_grad)

    def _new_filled(self, maker: str, size, dtype, device, requires_grad: bool) -> "Tensor":
        from ._ops import creation
        return getattr(creation, maker)(*size, dtype=self.dtype if dtype is None else dtype,
                                        device=self._device if device is None else device,
                                        requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False,
                  layout=None, pin_memory: bool = False) -> "Tensor":
        """Zeros of ``size`` with this tensor's dtype and device unless given."""
        return self._new_filled("zeros", size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False,
                 layout=None, pin_memory: bool = False) -> "Tensor":
        """Ones of ``size`` with this tensor's dtype and device unless given."""
        return self._new_filled("ones", size, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False,
                  layout=None, pin_memory: bool = False) -> "Tensor":
        """An uninitialised tensor of ``size`` with this tensor's dtype and device unless given."""
        return self._new_filled("empty", size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False,
                 layout=None, pin_memory: bool = False) -> "Tensor":
        """``fill_value`` everywhere, with this tensor's dtype and device unless given."""
        from ._ops import creation
        return creation.full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                             device=self._device if device is None else device,
                             requires_grad=requires_grad)

    def new(self, *args, **kwargs) -> "Tensor":
        """Legacy constructor with this tensor's dtype: ``new(2, 3)``, ``new([1, 2])``."""
        out = _from_array(_legacy_constructor_data(args, kwargs, self._data.dtype),
                          device=self._device)
        return out

    # ------------------------------------------------------------------ storage facts
    def get_device(self) -> int:
        """The CUDA device index, -1 for CPU tensors."""
        return -1 if self._device.type == "cpu" else (self._device.index or 0)

    def data_ptr(self) -> int:
        """Address of the first element (0 for meta tensors)."""
        if self._device is META:
            return 0
        return self._data.__array_interface__["data"][0]

    def storage_offset(self) -> int:
        """Offset in elements of the first element from the start of the memory it views."""
        root = self._data
        while isinstance(root.base, np.ndarray):
            root = root.base
        if self._device is META or root is self._data:
            return 0
        start = root.__array_interface__["data"][0]
        return (self.data_ptr() - start) // self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.size * self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def output_nr(self) -> int:
        return self._output_nr

    is_sparse = False
    is_quantized = False
    is_nested = False
    is_mkldnn = False

    def is_signed(self) -> bool:
        """Whether the dtype is signed."""
        return self.dtype.is_signed

    def share_memory_(self) -> "Tensor":
        """No-op: NumPy memory is process-local; returns self."""
        return self

    def is_shared(self) -> bool:
        return False

    def pin_memory(self, device=None) -> "Tensor":
        """Pinning needs CUDA; raises as torch's CPU build does."""
        raise RuntimeError("Cannot access accelerator device when none is available.")

    def is_pinned(self, device=None) -> bool:
        return False

    def register_post_accumulate_grad_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(tensor)`` after a gradient has been accumulated into this leaf's grad."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = {}
        return RemovableHandle.add(self._post_acc_hooks, hook)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if
                               self._data.size == 0 else
                               "Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def __complex__(self) -> complex:
        return complex(self._scalar())

    def __index__(self) -> int:
        if self._data.ndim != 0 and self._data.size != 1 or self.dtype._category > 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and self._device is not META and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self, *, tensor_contents=None) -> str:
        from ._printing import tensor_repr
        return tensor_repr(self)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment.  If you were attempting to "
                               "deepcopy a module, this may be because of a torch.nn.utils."
                               "weight_norm usage, see https://github.com/pytorch/pytorch/pull/"
                               "103001")
        if id(self) in memo:
            return memo[id(self)]
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items()
                             if k not in _NOT_DEEPCOPIED})
        new._data = self._data.copy()
        new._vc = None
        new._accum = None
        memo[id(self)] = new
        if self._grad is not None:
            import copy
            new._grad = copy.deepcopy(self._grad, memo)
        return new

    def __reduce_ex__(self, protocol):
        from .serialization._pickler import reduce_tensor
        return reduce_tensor(self, protocol)


_CPP_TYPE_NAMES = {
    "float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
    "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
    "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
    "complex128": "c10::complex<double>"}


def _check_assigned_grad(t: "Tensor", value) -> None:
    """torch's checks on ``t.grad = value``: a tensor of the same dtype, device type and size."""
    if not isinstance(value, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{type(value).__name__}")
    if value._data.dtype != t._data.dtype:
        src = _CPP_TYPE_NAMES.get(value.dtype.name, value.dtype.name)
        dst = _TYPE_NAMES.get(t.dtype.name, "Tensor")[:-len("Tensor")]
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{src}' to a tensor with grad_dtype "
            f"'{dst}'. The gradient must match the tensor's grad_dtype (defaults to the tensor's "
            "dtype). You can set the tensor's grad_dtype attribute with a specific dtype, or None "
            "to allow any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and "
            "its gradient may break downstream systems that assume they match.")
    if value._device.type != t._device.type:
        raise RuntimeError(
            f"attempting to assign a gradient with device type '{value._device.type}' to a tensor "
            f"with device type '{t._device.type}'. Please ensure that the gradient and the tensor "
            "are on the same device")
    if value._data.shape != t._data.shape:
        raise RuntimeError(
            f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor of "
            f"size '{list(t._data.shape)}'. Please ensure that the gradient and the tensor are "
            "the same size")


_NOT_DEEPCOPIED = frozenset(("_data", "_grad", "_accum", "_vc", "_hooks", "_post_acc_hooks"))


def _meta_copy_error() -> NotImplementedError:
    return NotImplementedError("Cannot copy out of meta tensor; no data!")


def _contiguous_strides(shape) -> tuple:
    st = []
    acc = 1
    for s in reversed(shape):
        st.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(st))


def _wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


_NEW = object.__new__


def _from_array(arr: np.ndarray, requires_grad: bool = False, device: device = CPU,
                cls=Tensor) -> Tensor:
    """Wrap an array as a tensor (no copy)."""
    t = _NEW(cls)
    t._data = arr
    if requires_grad:
        t._requires_grad = True
    if device is not CPU:
        t._device = device
    if _INFERENCE_OPEN[0]:
        _mark_if_inference(t)
    return t


def edge(t: Tensor) -> tuple:
    """The graph edge a new node uses to send gradient into ``t``."""
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    if t._requires_grad:
        ref = t._accum
        acc = None if ref is None else ref()
        if acc is None:
            acc = t._grad_accumulator()
        return (acc, 0)
    return (None, 0)


_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
    "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
    "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor",
}
_TYPE_NAME_TO_DTYPE = {v: D.by_name(k) for k, v in _TYPE_NAMES.items()}


def _type_name(t: Tensor) -> str:
    name = _TYPE_NAMES.get(t.dtype.name, "Tensor")
    if t._device.type == "cuda":
        return "torch.cuda." + name
    if t._device is META:
        return "torch.meta." + name
    return "torch." + name


def _legacy_constructor_data(args, kwargs, np_dtype=None) -> np.ndarray:
    if kwargs.get("device") not in (None, "cpu") and str(kwargs["device"]) != "cpu":
        dev = as_device(kwargs["device"])
        if dev.type == "cuda":
            raise cuda_unavailable()
    dt = D.get_default_dtype().np if np_dtype is None else np_dtype
    if not args:
        return np.empty((0,), dtype=dt)
    if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray, Tensor)) and not \
            isinstance(args[0], Size):
        data = args[0]
        if isinstance(data, Tensor):
            return data._data
        return np.array(_to_array_like(data), dtype=dt)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args):
        return np.empty(tuple(int(a) for a in args), dtype=dt)
    if len(args) == 1 and isinstance(args[0], (Size, tuple)):
        return np.empty(tuple(args[0]), dtype=dt)
    raise TypeError("new(): invalid data type '" + type(args[0]).__name__ + "'")


def _to_array_like(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_to_array_like(x) for x in data]
    return data


def _parse_to(args, kwargs):
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments - got unexpected "
                        f"keyword argument '{next(iter(kwargs))}'")
    bools = 0
    for a in args:
        if isinstance(a, D.dtype):
            dt = a
        elif isinstance(a, Tensor):
            dev, dt = a._device, a.dtype
        elif isinstance(a, (str, device, int)) and not isinstance(a, bool):
            dev = as_device(a)
        elif isinstance(a, bool):
            bools += 1
            if bools == 2:  # to(..., non_blocking, copy)
                copy = a
        elif a is None:
            continue
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__})")
    return (None if dev is None else as_device(dev)), dt, copy


_to_copy = None


def _convert(t: Tensor, dev, dt, copy: bool) -> Tensor:
    """Cast/move ``t`` differentiably; returns ``t`` itself when nothing changes and not copy."""
    global _to_copy
    source_dev = t._device
    if dev is None or dev is source_dev:
        target_dev = source_dev
    else:
        if dev.type == "cuda":
            raise cuda_unavailable()
        if dev.type not in ("cpu", "meta"):
            array_module(dev)
        target_dev = dev
        if source_dev is META and target_dev is not META:
            raise _meta_copy_error()
    target_np = t._data.dtype if dt is None else (dt.np if type(dt) is D.dtype else
                                                  D.to_numpy_dtype(dt))
    if target_dev is source_dev and target_np == t._data.dtype and not copy:
        return t
    if _to_copy is None:
        from ._ops.convert import to_copy as _to_copy
    return _to_copy(t, target_np, target_dev)


for _name, _fn in _random.TENSOR_METHODS.items():
    setattr(Tensor, _name, _fn)
Tensor.bernoulli = lambda self, p=None, *, generator=None: _random.bernoulli(
    self, p, generator=generator)
Tensor.multinomial = lambda self, num_samples, replacement=False, *, generator=None: \
    _random.multinomial(self, num_samples, replacement, generator=generator)
