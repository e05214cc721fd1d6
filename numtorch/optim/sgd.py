"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor, _from_array
from ._functional import add_scaled, real
from .optimizer import Optimizer, check_differentiable, to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD`` (single-tensor reference math)."""

    _GROUP_DEFAULTS = {"nesterov": False, "maximize": False, "foreach": None,
                       "differentiable": False, "fused": False}

    def __init__(self, params, lr: float | Tensor = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float | Tensor = 0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_differentiable(differentiable)
        super().__init__(params, defaults)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def step(self, closure: Callable[[], float] | None = None):
        """One SGD step over every parameter that has a gradient; returns the closure's loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            wd = to_scalar(group["weight_decay"])
            momentum, maximize = group["momentum"], group["maximize"]
            dampening, nesterov = group["dampening"], group["nesterov"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                g = real(p._grad._data)
                pa = real(p._data)
                if maximize:
                    g = np.negative(g)
                if wd != 0:
                    g = add_scaled(g, pa, wd)
                if momentum != 0:
                    g = self._momentum(p, g, momentum, dampening, nesterov)
                upd = np.multiply(g, -lr)
                pa += upd
                p._bump()
        return loss

    def _momentum(self, p: Tensor, g: np.ndarray, momentum: float, dampening: float,
                  nesterov: bool) -> np.ndarray:
        state = self.state[p]
        buf_t = state.get("momentum_buffer")
        if buf_t is None:
            buf = g.copy()
            state["momentum_buffer"] = _from_array(
                buf.view(p._data.dtype) if p._data.dtype.kind == "c" else buf,
                device=p._device)
        else:
            buf = real(buf_t._data)
            buf *= momentum
            buf += np.multiply(g, 1 - dampening)
        if nesterov:
            return add_scaled(g, buf, momentum)
        return buf
