"""Rprop: per-element step sizes grown or shrunk by the sign agreement of successive
gradients."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, check_differentiable, to_scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop, as ``torch.optim.Rprop`` (single-tensor reference math)."""

    _ELEMENTWISE = True

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    def __init__(self, params, lr: float | Tensor = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        check_differentiable(differentiable)
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], float] | None = None):
        """One Rprop step over every parameter that has a gradient."""
        return self._step_groups(closure)

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        return ("prev", "step_size")

    def _array_fills(self, group: dict) -> dict[str, float]:
        return {"step_size": to_scalar(group["lr"])}

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        etaminus, etaplus = group["etas"]
        size_min, size_max = group["step_sizes"]
        prev, step_size = arrays["prev"], arrays["step_size"]
        scalars["step"] += 1
        sign = np.multiply(g, prev, out=target.scratch)
        np.sign(sign, out=sign)
        positive, negative, zero = sign > 0, sign < 0, sign == 0
        sign[positive] = etaplus
        sign[negative] = etaminus
        sign[zero] = 1
        step_size *= sign
        np.clip(step_size, size_min, size_max, out=step_size)
        grad = g.copy()
        grad[sign == etaminus] = 0
        update = np.sign(grad, out=target.out)
        update *= -1
        update *= step_size
        target.add(update)
        np.copyto(prev, grad)
