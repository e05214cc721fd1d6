"""RMSprop: scale steps by a running average of squared gradients (centered, momentum)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled, addcmul_, lerp_, real, sparse_check, zeros_state
from .optimizer import Optimizer, check_differentiable, scalar_state, to_scalar

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (single-tensor reference math)."""

    _GROUP_DEFAULTS = {"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                       "differentiable": False, "capturable": False}

    def __init__(self, params, lr: float | Tensor = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        check_differentiable(differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], float] | None = None):
        """One RMSprop step over every parameter that has a gradient."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            self._check_capturable(group)
            lr = to_scalar(group["lr"])
            alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered = group["momentum"], group["centered"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if not state:
                    sparse_check(p, "RMSprop")
                    self._init_state(state, p, momentum, centered)
                state["step"]._data += 1
                pa, g = real(p._data), real(p._grad._data)
                if group["maximize"]:
                    g = np.negative(g)
                if wd != 0:
                    g = add_scaled(g, pa, wd)
                square_avg = real(state["square_avg"]._data)
                square_avg *= alpha
                addcmul_(square_avg, g, g, 1 - alpha)
                if centered:
                    grad_avg = real(state["grad_avg"]._data)
                    lerp_(grad_avg, g, 1 - alpha)
                    avg = square_avg.copy()
                    addcmul_(avg, grad_avg, grad_avg, -1)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = real(state["momentum_buffer"]._data)
                    buf *= momentum
                    buf += g / avg
                    pa += np.multiply(buf, -lr)
                else:
                    upd = np.multiply(g, -lr)
                    upd /= avg
                    pa += upd
                p._bump()
        return loss

    @staticmethod
    def _init_state(state: dict, p: Tensor, momentum: float, centered: bool) -> None:
        state["step"] = scalar_state(0.0)
        state["square_avg"] = zeros_state(p)
        if momentum > 0:
            state["momentum_buffer"] = zeros_state(p)
        if centered:
            state["grad_avg"] = zeros_state(p)
