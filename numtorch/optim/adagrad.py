"""Adagrad: per-coordinate steps scaled by the accumulated squared gradients."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled, addcmul_
from ._hyper import hyper
from .optimizer import Optimizer, check_differentiable

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``; state is created for every parameter at
    construction, as torch does, and for parameters without state (added later, or missing
    from a loaded state dict) at their first step."""

    _ELEMENTWISE = True

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False, "differentiable": False,
                       "fused": None}

    def __init__(self, params, lr: float | Tensor = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        check_differentiable(differentiable)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for group in self.param_groups:
            for p in group["params"]:
                self._init_param_state(self.state[p], p, group)

    def step(self, closure: Callable[[], float] | None = None):
        """One Adagrad step over every parameter that has a gradient."""
        return self._step_groups(closure)

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        return ("sum",)

    def _array_fills(self, group: dict) -> dict[str, float]:
        # torch fills ``sum`` with the constructor's value, whatever the group says
        return {"sum": self.defaults["initial_accumulator_value"]}

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        lr = group["lr"]
        if isinstance(lr, Tensor):
            lr = hyper(lr, group["fused"])
        wd, lr_decay = group["weight_decay"], group["lr_decay"]
        step_t = scalars["step"]
        step_t += 1
        if wd != 0:
            g = add_scaled(g, target.values(), wd)
        clr = lr / (1 + (step_t.item(0) - 1) * lr_decay)
        state_sum = arrays["sum"]
        addcmul_(state_sum, g, g, 1)
        std = np.sqrt(state_sum, out=target.scratch)
        std += group["eps"]
        update = np.multiply(g, -clr, out=target.out)
        update /= std
        target.add(update)
