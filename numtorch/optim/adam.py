"""Adam and AdamW: adaptive moment estimation (with AMSGrad, L2 or decoupled weight decay)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor
from ._functional import add_scaled, lerp_
from ._hyper import TensorScalar, hyper, squeeze_scalar
from .optimizer import Optimizer, check_differentiable

__all__ = ["Adam", "AdamW"]


def check_betas(betas) -> None:
    """torch's validation of Adam-style ``betas``."""
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def check_common(lr, eps, weight_decay, foreach=None, capturable: bool = True) -> None:
    """torch's validation of lr and eps (a tensor lr also of foreach without capturable, as
    Adam checks it)."""
    if isinstance(lr, Tensor):
        if foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")


def _check_tensor_betas(betas, foreach, capturable: bool) -> None:
    """Adam's rules for betas: both floats or both one-element tensors (not with foreach)."""
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float)) or
            (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                 "capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (single-tensor reference math)."""

    _ELEMENTWISE = True

    _GROUP_DEFAULTS = {"amsgrad": False, "maximize": False, "foreach": None,
                       "capturable": False, "differentiable": False,
                       "decoupled_weight_decay": False, "fused": None}

    def __init__(self, params, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        check_common(lr, eps, weight_decay, foreach, capturable)
        check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_tensor_betas(betas, foreach, capturable)
        betas = tuple(map(squeeze_scalar, betas))  # tensors stay tensors, as in torch
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        check_differentiable(differentiable)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def step(self, closure: Callable[[], float] | None = None):
        """One Adam step over every parameter that has a gradient; returns the closure's loss."""
        return self._step_groups(closure)

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        return _KEYS_AMSGRAD if group["amsgrad"] else _KEYS

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        device_beta1 = beta1
        if isinstance(lr, Tensor) or isinstance(beta1, Tensor) or isinstance(beta2, Tensor):
            if isinstance(lr, Tensor) and group["foreach"] and not group["capturable"]:
                raise RuntimeError("lr as a Tensor is not supported for capturable=False and "
                                   "foreach=True")
            fused = group["fused"]
            lr, beta1, beta2 = hyper(lr, fused), hyper(beta1, fused), hyper(beta2, fused)
            # torch casts a tensor beta1 to the parameters' dtype for the first moment
            device_beta1 = beta1.to(g.dtype) if isinstance(beta1, TensorScalar) else beta1
        wd = group["weight_decay"]
        step_t = scalars["step"]
        step_t += 1
        if wd != 0:
            if group["decoupled_weight_decay"]:
                target.scale(1 - lr * wd)
            else:
                g = add_scaled(g, target.values(), wd)
        lerp_(arrays["exp_avg"], g, 1 - device_beta1, tmp=target.out)
        target.add(adam_increment(g, arrays["exp_avg"], arrays["exp_avg_sq"],
                                  arrays.get("max_exp_avg_sq"), step_t.item(0), beta1, beta2,
                                  lr, group["eps"], scratch=target.scratch, out=target.out))


_KEYS = ("exp_avg", "exp_avg_sq")
_KEYS_AMSGRAD = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")


def adam_increment(g: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
                   max_exp_avg_sq: np.ndarray | None, step: float, beta1: float, beta2: float,
                   lr: float, eps: float, scratch: np.ndarray | None = None,
                   out: np.ndarray | None = None) -> np.ndarray:
    """Update the second moment in place (the first is already updated; torch's single-tensor
    order of operations) and return the increment to add to the parameter.
    ``scratch``/``out`` are optional preallocated arrays."""
    exp_avg_sq *= beta2
    sq = np.multiply(g, 1 - beta2, out=scratch)
    sq *= g
    exp_avg_sq += sq
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        denom = np.sqrt(max_exp_avg_sq, out=scratch)
    else:
        denom = np.sqrt(exp_avg_sq, out=scratch)
    denom /= bias_correction2 ** 0.5
    denom += eps
    update = np.multiply(exp_avg, -step_size, out=out)
    update /= denom
    return update


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (default 1e-2), as ``torch.optim.AdamW``."""

    def __init__(self, params, lr: float | Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
