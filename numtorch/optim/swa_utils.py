"""Stochastic weight averaging and exponential moving averages of a model, as
``torch.optim.swa_utils``: AveragedModel, SWALR, update_bn and the averaging functions."""
from __future__ import annotations

import itertools
import math
import warnings
from copy import deepcopy
from typing import Any, Callable, Iterable

import numpy as np

from .._tensor import Tensor, _from_array
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ._functional import lerp_
from .lr_scheduler import LRScheduler, _format_param

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def _count(num_averaged) -> float:
    return num_averaged.item() if isinstance(num_averaged, Tensor) else num_averaged


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """``fn(ema_params, current_params, num_averaged)`` moving each average toward the
    current value in place: ``ema.lerp_(current, 1 - decay)``."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _) -> None:
        for ema, cur in zip(ema_param_list, current_param_list):
            if ema.is_floating_point() or ema.is_complex():
                lerp_(ema._data, cur._data, 1 - decay)
            else:
                ema._data[...] = ema._data * decay + cur._data * (1 - decay)
            ema._bump()
    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """``fn(averaged_params, current_params, num_averaged)``: the running mean, in place."""
    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        n = _count(num_averaged)
        for avg, cur in zip(averaged_param_list, current_param_list):
            if avg.is_floating_point() or avg.is_complex():
                lerp_(avg._data, cur._data, 1 / (n + 1))
            else:
                avg._data[...] = avg._data + (cur._data - avg._data) / (n + 1)
            avg._bump()
    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """``fn(ema_param, current_param, num_averaged) -> decay*ema + (1-decay)*current``."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn() -> Callable:
    """``fn(averaged, current, num_averaged) -> averaged + (current-averaged)/(n+1)``."""
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters (and, with ``use_buffers``, buffers) hold a running
    average (SWA by default, or ``avg_fn``/``multi_avg_fn`` such as an EMA) updated by
    ``update_parameters(model)``; ``n_averaged`` counts the updates."""

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _from_array(np.array(0, dtype=np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current values into the averages (the first call copies them)."""
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        pairs = [(a.detach(), b.detach()) for a, b in zip(mine, theirs)]
        n = int(self.n_averaged.item())
        if n == 0:
            for avg, cur in pairs:
                np.copyto(avg._data, cur._data)
                avg._bump()
        elif self.multi_avg_fn is not None:
            self.multi_avg_fn([a for a, _ in pairs], [b for _, b in pairs], self.n_averaged)
        elif self.avg_fn is not None:
            for avg, cur in pairs:
                new = self.avg_fn(avg, cur, self.n_averaged)
                np.copyto(avg._data, new._data)
                avg._bump()
        else:
            for avg, cur in pairs:  # torch's per-tensor SWA on CPU: avg + (cur - avg) / (n+1)
                avg._data[...] = avg._data + (cur._data - avg._data) / (n + 1)
                avg._bump()
        if not self.use_buffers:
            for mine_b, theirs_b in zip(self.module.buffers(), model.buffers()):
                np.copyto(mine_b._data, theirs_b._data)
                mine_b._bump()
        self.n_averaged._data += 1
        self.n_averaged._bump()


def update_bn(loader: Iterable[Any], model: Module, device=None) -> None:
    """Recompute every BatchNorm's running statistics with one pass over ``loader`` (a
    cumulative average, momentum None), leaving the model's train/eval mode as it was."""
    from ..nn.modules.normalization import _BatchNorm
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` (cos or linear), then hold
    it."""

    def __init__(self, optimizer, swa_lr: float, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        for value, group in zip(_format_param("swa_lr", optimizer, swa_lr),
                                optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha)
                    for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / span)))
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else \
            self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        """Attributes without the optimizer and the anneal function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes from ``state_dict()``."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
