"""RMSprop: scale steps by a running average of squared gradients (centered, momentum)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled, addcmul_, lerp_
from ._hyper import hyper
from .optimizer import Optimizer, check_differentiable

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (single-tensor reference math)."""

    _ELEMENTWISE = True
    _AXPY = True

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
        return self._step_groups(closure)

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        return ("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ()) + \
            (("grad_avg",) if group["centered"] else ())

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        lr = hyper(group["lr"])
        alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
        momentum = group["momentum"]
        scalars["step"] += 1
        if wd != 0:
            g = add_scaled(g, target.values(), wd)
        square_avg = arrays["square_avg"]
        square_avg *= alpha
        addcmul_(square_avg, g, g, 1 - alpha)
        if group["centered"]:
            grad_avg = arrays["grad_avg"]
            lerp_(grad_avg, g, 1 - alpha)
            if target.scratch is None:
                avg = square_avg.copy()
            else:
                avg = target.scratch
                np.copyto(avg, square_avg)
            addcmul_(avg, grad_avg, grad_avg, -1)
            np.sqrt(avg, out=avg)
        else:
            avg = np.sqrt(square_avg, out=target.scratch)
        avg += eps
        if momentum > 0:
            buf = arrays["momentum_buffer"]
            buf *= momentum
            buf += g / avg
            target.add_scaled(buf, -float(lr))
        else:
            update = np.multiply(g, -lr, out=target.out)
            update /= avg
            target.add(update)
