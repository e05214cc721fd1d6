"""ASGD: averaged stochastic gradient descent (the running average is kept in ``ax``)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled
from ._hyper import as_tensor_value, hyper
from .optimizer import Optimizer, check_differentiable, to_scalar

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD, as ``torch.optim.ASGD`` (single-tensor reference math)."""

    _ELEMENTWISE = True
    _AXPY = True

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    def __init__(self, params, lr: float | Tensor = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        check_differentiable(differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], float] | None = None):
        """One ASGD step over every parameter that has a gradient."""
        return self._step_groups(closure)

    def _scalar_defaults(self, group: dict) -> tuple[tuple[str, float], ...]:
        return (("step", 0.0), ("eta", to_scalar(group["lr"])), ("mu", 1.0))

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        return ("ax",)

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        lr = hyper(group["lr"])
        lambd, alpha, t0, wd = group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
        step_t, eta, mu, ax = scalars["step"], scalars["eta"], scalars["mu"], arrays["ax"]
        step_t += 1
        if wd != 0:
            g = add_scaled(g, target.values(), wd)
        eta_value = eta.item(0)
        target.scale(1 - lambd * eta_value)
        target.add_scaled(g, -eta_value)
        mu_value = mu.item(0)
        if mu_value != 1:
            diff = np.subtract(target.values(), ax, out=target.scratch)
            diff *= mu_value
            ax += diff
        else:
            np.copyto(ax, target.values())
        step = step_t.item(0)
        # torch stores them through torch.as_tensor: a Python float rounds to the default dtype
        # even when the state is float64 (as a loaded state dict makes it)
        eta[...] = as_tensor_value(lr / ((1 + lambd * lr * step) ** alpha))
        mu[...] = as_tensor_value(1 / max(1, step - t0))
