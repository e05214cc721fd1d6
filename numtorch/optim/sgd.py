"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._blas import axpy
from .._tensor import Tensor
from ._functional import fused_add_scaled
from ._hyper import hyper
from .optimizer import Optimizer, check_differentiable, to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD`` (single-tensor reference math)."""

    _ELEMENTWISE = True
    _AXPY = True

    _GROUP_DEFAULTS = {"nesterov": False, "maximize": False, "foreach": None,
                       "differentiable": False, "fused": False}
    _SCALARS = ()  # SGD keeps no step count

    def __init__(self, params, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float | Tensor = 0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_differentiable(differentiable)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def step(self, closure: Callable[[], float] | None = None):
        """One SGD step over every parameter that has a gradient; returns the closure's loss."""
        return self._step_groups(closure)

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _passes(self, group: dict) -> int:
        return (1 + 2 * (group["momentum"] != 0) + 2 * (to_scalar(group["weight_decay"]) != 0)
                + 2 * bool(group["nesterov"]) + (group["dampening"] != 0))

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        lr = hyper(group["lr"])
        wd = to_scalar(group["weight_decay"])
        momentum = group["momentum"]
        if wd != 0:
            g = fused_add_scaled(g, target.values(), wd)
        if momentum != 0:
            buf = arrays["momentum_buffer"]
            if target.fresh:  # torch starts the buffer as a copy of the first gradient
                np.copyto(buf, g)
            else:
                buf *= momentum
                dampening = group["dampening"]
                if dampening == 0:
                    buf += g
                else:
                    axpy(1 - dampening, g, buf)
            g = fused_add_scaled(g, buf, momentum) if group["nesterov"] else buf
        target.add_scaled(g, -float(lr))
