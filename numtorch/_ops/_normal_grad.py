"""Autograd of ``normal(mean, std)`` with tensor arguments: samples are not reparametrised, so
mean and std get zero gradients (as in torch)."""
from __future__ import annotations

import numpy as np

from ._util import Node, Tensor, needs_grad, record

__all__ = ["record_normal"]


class _NormalBackward(Node):
    __slots__ = ("metas",)

    def backward(self, g):
        return tuple(None if nf[0] is None else np.zeros(shape, dtype)
                     for nf, (shape, dtype) in zip(self.next_functions, self.metas))


class NormalBackward1(_NormalBackward):     # tensor mean, number std
    __slots__ = ()


class NormalBackward2(_NormalBackward):     # number mean, tensor std
    __slots__ = ()


class NormalBackward3(_NormalBackward):     # tensor mean and std
    __slots__ = ()


def record_normal(out: Tensor, mean, std) -> Tensor:
    """Record ``out = normal(mean, std)`` when a tensor argument requires grad."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not needs_grad(*tensors):
        return out
    node = (NormalBackward3 if len(tensors) == 2 else
            NormalBackward1 if isinstance(mean, Tensor) else NormalBackward2)()
    node.metas = [(t._data.shape, t._data.dtype) for t in tensors]
    return record(out, node, *tensors)
