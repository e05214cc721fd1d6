"""Adadelta: steps scaled by running averages of squared gradients and squared updates."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled, addcmul_
from .optimizer import Optimizer, check_differentiable, to_scalar

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta`` (single-tensor reference math)."""

    _ELEMENTWISE = True

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    def __init__(self, params, lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        check_differentiable(differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], float] | None = None):
        """One Adadelta step over every parameter that has a gradient."""
        return self._step_groups(closure)

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        return ("square_avg", "acc_delta")

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        lr = to_scalar(group["lr"])
        rho, eps, wd = group["rho"], group["eps"], group["weight_decay"]
        scalars["step"] += 1
        if wd != 0:
            g = add_scaled(g, target.values(), wd)
        square_avg, acc_delta = arrays["square_avg"], arrays["acc_delta"]
        square_avg *= rho
        addcmul_(square_avg, g, g, 1 - rho)
        std = np.add(square_avg, eps, out=target.scratch)
        np.sqrt(std, out=std)
        delta = np.add(acc_delta, eps, out=target.out)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        acc_delta *= rho
        addcmul_(acc_delta, delta, delta, 1 - rho)
        delta *= -lr
        target.add(delta)
