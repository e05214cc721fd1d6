"""Parameter and Buffer: tensors that a Module registers as state."""
from __future__ import annotations

import numpy as np

from ..import _dtype as D
from .._tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer",
           "UninitializedTensorMixin", "is_lazy"]


class Parameter(Tensor):
    """A tensor that a Module registers as a trainable parameter when assigned as an attribute.

    A leaf sharing memory (and version counter) with ``data``; ``requires_grad`` is True unless
    given otherwise, even under ``no_grad``. Its repr starts ``Parameter containing:``.
    """

    _custom_new = True
    _is_param = True

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = Tensor(np.empty((0,), dtype=D.get_default_dtype().np))
        elif not isinstance(data, Tensor):
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        self = object.__new__(cls)
        self._data = data._data
        if data._device is not self._device:
            self._device = data._device
        self._vc = data._shared_vc()
        if requires_grad:
            if data._data.dtype.kind not in "fcV":
                raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                                   "gradients")
            self._requires_grad = True
        return self

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        from .._printing import tensor_repr
        return tensor_repr(self)

    def __reduce_ex__(self, protocol):
        from ..serialization._pickler import reduce_parameter
        return reduce_parameter(self, protocol)

    def __deepcopy__(self, memo):
        """A new Parameter with copied data and the same ``requires_grad``; like torch, the
        ``.grad`` is not copied."""
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(_copy_tensor(self), self.requires_grad)
        memo[id(self)] = result
        return result


def _copy_tensor(t: Tensor) -> Tensor:
    from .._tensor import _from_array
    return _from_array(t._data.copy(), device=t._device)


class UninitializedTensorMixin:
    """A parameter or buffer whose shape is not known yet (lazy modules): it holds no data
    until ``materialize(shape)`` turns it into an ordinary one in place."""

    cls_to_become: type = Tensor

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give it uninitialised data of ``shape`` (same device and dtype unless given) and
        make it an ordinary Parameter/Tensor, the same object."""
        from .._device import as_device
        np_dtype = self._data.dtype if dtype is None else D.to_numpy_dtype(dtype)
        self._data = np.empty(tuple(shape), dtype=np_dtype)
        if device is not None:
            self._device = as_device(device)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This "
                           "error usually happens in `load_state_dict` when trying to load an "
                           "uninitialized parameter into an initialized one. Call `forward` to "
                           "initialize the parameters before accessing their attributes.")

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call "
                           "`forward` to initialize the parameters before calling "
                           "`module.share_memory()`.")

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, protocol):
        return (self.__class__, (self.requires_grad,))


def is_lazy(param) -> bool:
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer``."""
    return isinstance(param, UninitializedTensorMixin)


def _empty(device, dtype) -> Tensor:
    from .._device import as_device
    from .._tensor import _from_array
    np_dtype = D.get_default_dtype().np if dtype is None else D.to_numpy_dtype(dtype)
    return _from_array(np.empty((0,), dtype=np_dtype),
                       device=as_device("cpu" if device is None else device))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (lazy modules); ``materialize(shape)`` makes
    it an ordinary Parameter."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        return Parameter.__new__(cls, _empty(device, dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device=None, dtype=None) -> None:
        pass

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self._device, self.dtype)
        return memo[id(self)]


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (lazy modules); ``materialize(shape)`` makes it
    an ordinary tensor."""

    _custom_new = True

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None,
                persistent: bool = True):
        self = object.__new__(cls)
        empty = _empty(device, dtype)
        self._data, self._device = empty._data, empty._device
        if requires_grad:
            self.requires_grad_(True)
        self.persistent = persistent
        self._is_buffer = True
        return self


class _BufferMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute.

    ``Buffer(t)`` returns a plain tensor sharing ``t``'s data (detached, same ``requires_grad``)
    flagged so that ``isinstance(x, Buffer)`` holds; ``persistent=False`` keeps it out of
    ``state_dict``.
    """

    _custom_new = True

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True):
        if data is None:
            data = Tensor(np.empty((0,), dtype=D.get_default_dtype().np))
        out = data.detach().requires_grad_(data.requires_grad)
        out.persistent = persistent
        out._is_buffer = True
        return out
