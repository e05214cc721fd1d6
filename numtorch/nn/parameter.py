"""Parameter and Buffer: tensors that a Module registers as state."""
from __future__ import annotations

import numpy as np

from ..import _dtype as D
from .._tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter"]


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


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (lazy modules)."""


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
