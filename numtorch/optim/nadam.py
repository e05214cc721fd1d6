"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled, addcmul_, lerp_
from .adam import check_betas, check_common
from ._hyper import lr_betas, raw
from .optimizer import Optimizer, check_differentiable

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, as ``torch.optim.NAdam`` (single-tensor reference math)."""

    _ELEMENTWISE = True

    _GROUP_DEFAULTS = {"maximize": False, "foreach": None, "capturable": False,
                       "differentiable": False, "decoupled_weight_decay": False}
    _SCALARS = (("step", 0.0), ("mu_product", 1.0))

    def __init__(self, params, lr: float | Tensor = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_common(lr, eps, weight_decay)
        check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        check_differentiable(differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], float] | None = None):
        """One NAdam step over every parameter that has a gradient."""
        return self._step_groups(closure)

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        lr, beta1, beta2 = lr_betas(group)
        wd, eps, momentum_decay = group["weight_decay"], group["eps"], group["momentum_decay"]
        step_t = scalars["step"]
        step_t += 1
        step = step_t.item(0)
        bias_correction2 = 1 - beta2 ** step
        if wd != 0:
            if group["decoupled_weight_decay"]:
                target.scale(1 - lr * wd)
            else:
                g = add_scaled(g, target.values(), wd)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product_t = scalars["mu_product"]
        mu_product_t *= raw(mu)
        mu_product = mu_product_t.item(0)
        exp_avg, exp_avg_sq = arrays["exp_avg"], arrays["exp_avg_sq"]
        lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        addcmul_(exp_avg_sq, g, g, 1 - beta2)
        denom = np.divide(exp_avg_sq, bias_correction2, out=target.scratch)
        np.sqrt(denom, out=denom)
        denom += eps
        mu_product_next = mu_product * mu_next
        update = np.multiply(g, -lr * (1.0 - mu) / (1.0 - mu_product), out=target.out)
        update /= denom
        target.add(update)
        update = np.multiply(exp_avg, (-lr * mu_next) / (1.0 - mu_product_next), out=target.out)
        update /= denom
        target.add(update)
