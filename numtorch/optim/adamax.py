"""Adamax: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled, lerp_
from .adam import check_betas, check_common
from ._hyper import lr_betas
from .optimizer import Optimizer, check_differentiable

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, as ``torch.optim.Adamax`` (single-tensor reference math)."""

    _ELEMENTWISE = True

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    def __init__(self, params, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_common(lr, eps, weight_decay)
        check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        check_differentiable(differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], float] | None = None):
        """One Adamax step over every parameter that has a gradient."""
        return self._step_groups(closure)

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        return ("exp_avg", "exp_inf")

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        lr, beta1, beta2 = lr_betas(group)
        wd = group["weight_decay"]
        step_t = scalars["step"]
        step_t += 1
        if wd != 0:
            g = add_scaled(g, target.values(), wd)
        exp_avg, exp_inf = arrays["exp_avg"], arrays["exp_inf"]
        lerp_(exp_avg, g, 1 - beta1)
        exp_inf *= beta2
        norm = np.abs(g, out=target.scratch)
        norm += group["eps"]
        np.maximum(exp_inf, norm, out=exp_inf)
        clr = lr / (1 - beta1 ** step_t.item(0))
        update = np.multiply(exp_avg, -clr, out=target.out)
        update /= exp_inf
        target.add(update)
