"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled, addcdiv_, lerp_, real, sparse_check, zeros_state
from .adam import check_betas, check_common
from .optimizer import Optimizer, check_differentiable, scalar_state, to_scalar

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, as ``torch.optim.NAdam`` (single-tensor reference math)."""

    _GROUP_DEFAULTS = {"maximize": False, "foreach": None, "capturable": False,
                       "differentiable": False, "decoupled_weight_decay": False}
    _SCALAR_STATE = ("step", "mu_product")

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
        loss = self._run_closure(closure)
        for group in self.param_groups:
            self._check_capturable(group)
            for p in group["params"]:
                if p._grad is not None:
                    self._update(p, group)
        return loss

    def _update(self, p: Tensor, group: dict) -> None:
        beta1, beta2 = group["betas"]
        lr = to_scalar(group["lr"])
        wd, eps, momentum_decay = group["weight_decay"], group["eps"], group["momentum_decay"]
        state = self.state[p]
        if not state:
            sparse_check(p, "NAdam")
            state["step"] = scalar_state(0.0)
            state["mu_product"] = scalar_state(1.0)
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        step_t = state["step"]._data
        step_t += 1
        step = step_t.item()
        bias_correction2 = 1 - beta2 ** step
        pa, g = real(p._data), real(p._grad._data)
        if group["maximize"]:
            g = np.negative(g)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                pa *= 1 - lr * wd
            else:
                g = add_scaled(g, pa, wd)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product_t = state["mu_product"]._data
        mu_product_t *= mu
        mu_product = mu_product_t.item()
        exp_avg = real(state["exp_avg"]._data)
        exp_avg_sq = real(state["exp_avg_sq"]._data)
        lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        addcmul_sq(exp_avg_sq, g, 1 - beta2)
        denom = np.divide(exp_avg_sq, bias_correction2)
        np.sqrt(denom, out=denom)
        denom += eps
        mu_product_next = mu_product * mu_next
        addcdiv_(pa, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
        addcdiv_(pa, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product_next))
        p._bump()


def addcmul_sq(a: np.ndarray, g: np.ndarray, value: float) -> None:
    """``a.addcmul_(g, g, value=v)``."""
    prod = np.multiply(g, value)
    prod *= g
    a += prod
