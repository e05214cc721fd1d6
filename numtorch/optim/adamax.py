"""Adamax: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled, lerp_, real, sparse_check, zeros_state
from .adam import check_betas, check_common
from .optimizer import Optimizer, check_differentiable, scalar_state, to_scalar

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, as ``torch.optim.Adamax`` (single-tensor reference math)."""

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
        loss = self._run_closure(closure)
        for group in self.param_groups:
            self._check_capturable(group)
            beta1, beta2 = group["betas"]
            lr = to_scalar(group["lr"])
            eps, wd = group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if not state:
                    sparse_check(p, "Adamax")
                    state["step"] = scalar_state(0.0)
                    state["exp_avg"] = zeros_state(p)
                    state["exp_inf"] = zeros_state(p)
                step_t = state["step"]._data
                step_t += 1
                pa, g = real(p._data), real(p._grad._data)
                if group["maximize"]:
                    g = np.negative(g)
                if wd != 0:
                    g = add_scaled(g, pa, wd)
                exp_avg = real(state["exp_avg"]._data)
                exp_inf = real(state["exp_inf"]._data)
                lerp_(exp_avg, g, 1 - beta1)
                exp_inf *= beta2
                norm = np.abs(g)
                norm += eps
                np.maximum(exp_inf, norm, out=exp_inf)
                clr = lr / (1 - beta1 ** step_t.item())
                upd = np.multiply(exp_avg, -clr)
                upd /= exp_inf
                pa += upd
                p._bump()
        return loss
