"""Adafactor: Adam-like steps with a factored (row x column) second-moment estimate for
matrices, as ``torch.optim.Adafactor``."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor, _from_array
from ._functional import lerp_, scalar_state
from ._hyper import hyper
from .optimizer import Optimizer

__all__ = ["Adafactor"]


def _norm(a: np.ndarray, axis=None, keepdims: bool = False):
    """The 2-norm (accumulated in float64, as torch's CPU reductions of float32 do)."""
    sq = np.square(a, dtype=np.float64)
    return np.sqrt(sq.sum(axis=axis, keepdims=keepdims))


class Adafactor(Optimizer):
    """Adafactor, as ``torch.optim.Adafactor`` (single-tensor reference math)."""

    _GROUP_DEFAULTS = {"foreach": None}

    def __init__(self, params, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], float] | None = None):
        """One Adafactor step over every parameter that has a gradient."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            eps1 = group["eps"][0]
            for p in group["params"]:
                if p._grad is None:
                    continue
                if p.is_complex():
                    raise RuntimeError("Adafactor does not support complex parameters")
                if eps1 is None:  # torch fixes it from the first parameter's dtype
                    eps1 = float(np.finfo(p._data.dtype).eps)
                self._update(p, group, eps1)
        return loss

    def _state_for(self, p: Tensor) -> dict:
        state = self.state[p]
        if not state:
            grad = p._grad._data
            state["step"] = scalar_state(0.0)
            if grad.ndim > 1:
                state["row_var"] = _from_array(np.zeros(grad.shape[:-1] + (1,), grad.dtype))
                col_shape = grad.shape[:-2] + (1,) + grad.shape[-1:]
                state["col_var"] = _from_array(np.zeros(col_shape, grad.dtype))
            else:
                state["variance"] = _from_array(np.zeros_like(grad))
        return state

    def _update(self, p: Tensor, group: dict, eps1: float) -> None:
        lr = hyper(group["lr"])  # a tensor lr makes rho_t and alpha 0-d tensor maths
        state = self._state_for(p)
        pa, g = p._data, p._grad._data
        if group["maximize"]:
            g = np.negative(g)
        step_t = state["step"]._data
        step_t += 1
        step = step_t.item()
        one_minus_beta2_t = step ** group["beta2_decay"]
        rho_t = min(lr, 1 / (step ** 0.5))
        alpha = max(group["eps"][1], float(_norm(pa)) / (pa.size ** 0.5)) * rho_t
        if group["weight_decay"] != 0:
            pa *= 1 - lr * group["weight_decay"]
        if g.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            row_mean = _norm(g, axis=-1, keepdims=True).astype(g.dtype)
            np.square(row_mean, out=row_mean)
            row_mean /= g.shape[-1]
            lerp_(row_var, row_mean, one_minus_beta2_t)
            col_mean = _norm(g, axis=-2, keepdims=True).astype(g.dtype)
            np.square(col_mean, out=col_mean)
            col_mean /= g.shape[-2]
            lerp_(col_var, col_mean, one_minus_beta2_t)
            var_estimate = np.matmul(row_var, col_var)
            row_avg = row_var.mean(axis=-2, keepdims=True, dtype=np.float64).astype(g.dtype)
            var_estimate /= np.maximum(row_avg, g.dtype.type(eps1))
        else:
            variance = state["variance"]._data
            lerp_(variance, np.multiply(g, g), one_minus_beta2_t)
            var_estimate = variance.copy()
        np.maximum(var_estimate, g.dtype.type(eps1 * eps1), out=var_estimate)
        update = np.sqrt(var_estimate)
        np.divide(1, update, out=update)
        update *= g
        denom = max(1.0, float(_norm(update)) / ((update.size ** 0.5) * group["d"]))
        update *= -alpha / denom
        pa += update
        p._bump()
