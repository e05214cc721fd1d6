"""Flatten parameters into one vector and write a vector back into them."""
from __future__ import annotations

from typing import Iterable

from ... import _ops
from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param: Tensor, old_device: int | None) -> int:
    """The device index shared by all parameters so far; TypeError when they differ."""
    index = param.device.index if param.device.type == "cuda" else -1
    index = 0 if index is None else index
    if old_device is not None and index != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return index


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-d tensor (differentiable)."""
    device = None
    flat = []
    for param in parameters:
        device = _check_param_device(param, device)
        flat.append(param.view(-1))
    return _ops.FUNCTIONS["cat"](flat)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Make each parameter's data the next slice of ``vec`` (sharing its memory), in order."""
    if not isinstance(vec, Tensor):
        kind = type(vec)
        name = kind.__name__ if kind.__module__ == "builtins" else \
            f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"expected torch.Tensor, but got: {name}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_param_device(param, device)
        count = param.numel()
        param.data = vec[pointer:pointer + count].view_as(param).data
        pointer += count
