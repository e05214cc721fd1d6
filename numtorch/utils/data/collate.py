"""Turning a list of samples into a batch: default_collate and default_convert."""
from __future__ import annotations

import collections.abc
import copy

import numpy as np

from ..._tensor import Tensor, _from_array

__all__ = ["default_collate", "default_convert"]

_NP_STR = ("U", "S", "O")


def _stack_tensors(batch: list) -> Tensor:
    shapes = {tuple(t.shape) for t in batch}
    if len(shapes) != 1:
        raise RuntimeError("stack expects each tensor to be equal size, but got "
                           f"{list(batch[0].shape)} at entry 0 and "
                           f"{next(list(t.shape) for t in batch if tuple(t.shape) != tuple(batch[0].shape))}"
                           " at another entry")
    return _from_array(np.stack([t._data for t in batch]), device=batch[0].device)


def default_collate(batch: list):
    """Stack samples into batched tensors, recursing into dicts, tuples and lists as torch."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in _NP_STR:
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                            f"dicts or lists; found {elem.dtype}")
        return _from_array(np.stack(batch))
    if isinstance(elem, np.generic) and elem.dtype.kind not in _NP_STR:
        return _from_array(np.array(batch))
    if isinstance(elem, bool):
        return _from_array(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return _from_array(np.array(batch, dtype=np.float64))
    if isinstance(elem, int):
        return _from_array(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(collated)
                return clone
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, v in enumerate(transposed):
                    clone[i] = v
                return clone
            return type(elem)(transposed)
        except TypeError:
            return transposed
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem)}")


def default_convert(data):
    """Convert NumPy arrays (recursively) to tensors, without batching."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in _NP_STR:
        return _from_array(data)
    if isinstance(data, np.generic) and data.dtype.kind not in _NP_STR:
        return _from_array(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()}) \
            if not isinstance(data, dict) or type(data) is dict else \
            {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
