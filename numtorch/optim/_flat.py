"""Flat layout for groups of small parameters: one NumPy call per update stage for the whole
group instead of one per parameter.

For a group whose parameters with gradients are small, real, same-dtype CPU tensors, the
per-parameter state tensors (``exp_avg``... and ``step``) are views into one flat buffer per
state key, so an optimizer can update every parameter's state with single array operations.
The state stays torch-shaped: ``optimizer.state[p]["exp_avg"]`` is still a tensor of ``p``'s
shape (a view), ``step`` still a 0-d tensor per parameter. The element-wise arithmetic is the
same as the per-parameter path, so both paths give bit-identical results.

A plan is checked cheaply before each use (same parameters with gradients, same state dicts,
same state arrays); anything else (a parameter without gradient, state replaced by
``load_state_dict``, mixed dtypes) falls back to the per-parameter path.
"""
from __future__ import annotations

import numpy as np

from .._device import CPU
from .._tensor import Tensor, _from_array
from .optimizer import scalar_dtype

__all__ = ["FlatPlan", "flat_plan"]

# groups larger than this gain nothing from the flat layout (per-call overhead is negligible
# next to the arithmetic) and would pay for an extra gather of the gradients
MAX_FLAT_ELEMENTS = 1 << 20


class FlatPlan:
    """Flat buffers for one param group's state (``keys``), gradients, scratch and update."""

    __slots__ = ("group", "params", "states", "checks", "buffers", "steps", "grad_buf",
                 "grads", "scratch", "update", "update_views", "param_arrays", "n", "dtype")

    def __init__(self, group: dict, params: list[Tensor], states: list[dict],
                 keys: tuple[str, ...]) -> None:
        self.group = group
        self.params = params
        self.states = states
        self.n = len(params)
        self.dtype = params[0]._data.dtype
        sizes = [p._data.size for p in params]
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        total = bounds[-1]
        self.buffers = {k: np.zeros(total, self.dtype) for k in keys}
        self.steps = np.zeros(self.n, scalar_dtype())
        self.checks: list[list[tuple[str, Tensor, np.ndarray]]] = []
        for i, (p, st) in enumerate(zip(params, states)):
            lo, hi = bounds[i], bounds[i + 1]
            shape = p._data.shape
            entries = []
            if st:
                self.steps[i] = st["step"].item()
            for key in ("step",) + keys:  # torch's state key order
                view = (self.steps[i:i + 1].reshape(()) if key == "step"
                        else self.buffers[key][lo:hi].reshape(shape))
                old = st.get(key)
                if old is None:
                    old = st[key] = _from_array(view)
                else:
                    if key != "step":
                        view[...] = old._data
                    old._data = view
                entries.append((key, old, view))
            self.checks.append(entries)
        self.grad_buf = np.empty(total, self.dtype)
        self.scratch = np.empty(total, self.dtype)
        self.update = np.empty(total, self.dtype)
        self.update_views = [self.update[bounds[i]:bounds[i + 1]].reshape(p._data.shape)
                             for i, p in enumerate(params)]
        self.grads: list[np.ndarray] = [None] * self.n
        self.param_arrays: list[np.ndarray] = [None] * self.n

    def keys_match(self, keys: tuple[str, ...]) -> bool:
        """Whether the plan holds exactly these state keys."""
        return len(self.buffers) == len(keys) and all(k in self.buffers for k in keys)

    def ready(self, group: dict, state_of: dict) -> bool:
        """Whether this plan still describes ``group``: gathers the gradients when it does."""
        if group is not self.group:
            return False
        params, grads, arrays = self.params, self.grads, self.param_arrays
        i = 0
        n = self.n
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            if i == n or p is not params[i]:
                return False
            st = state_of.get(p)
            if st is not self.states[i]:
                return False
            for key, tensor, view in self.checks[i]:
                if st.get(key) is not tensor or tensor._data is not view:
                    return False
            grads[i] = g._data.reshape(-1)
            arrays[i] = p._data
            i += 1
        return i == n

    def gather_grads(self) -> np.ndarray:
        """The gradients of the group, in order, in one flat array (the plan's own buffer)."""
        return np.concatenate(self.grads, out=self.grad_buf)

    def gather_params(self) -> np.ndarray:
        """A flat copy of the parameters (for L2 weight decay)."""
        return np.concatenate([a.reshape(-1) for a in self.param_arrays])

    def apply_update(self) -> None:
        """Add the flat ``update`` to every parameter in place."""
        for p, arr, upd in zip(self.params, self.param_arrays, self.update_views):
            arr += upd
            p._bump()

    def scale_params(self, factor: float) -> None:
        """Multiply every parameter by ``factor`` in place (decoupled weight decay)."""
        for arr in self.param_arrays:
            arr *= factor


def flat_plan(plans: dict, group: dict, state_of: dict, keys: tuple[str, ...]):
    """The group's ready plan, a new one when the group qualifies, else None (use the
    per-parameter path)."""
    plan = plans.get(id(group))
    if plan is not None and plan.keys_match(keys) and plan.ready(group, state_of):
        return plan
    plans.pop(id(group), None)
    params = [p for p in group["params"] if p._grad is not None]
    if not params or not _qualifies(params, state_of, keys):
        return None
    plan = FlatPlan(group, params, [state_of[p] for p in params], keys)
    plans[id(group)] = plan
    return plan if plan.ready(group, state_of) else None


def _qualifies(params: list[Tensor], state_of: dict, keys: tuple[str, ...]) -> bool:
    dtype = params[0]._data.dtype
    if dtype.kind != "f" or dtype.itemsize < 4:
        return False
    total = 0
    step = None
    for p in params:
        arr = p._data
        if arr.dtype != dtype or p._device is not CPU or p._grad._data.shape != arr.shape:
            return False
        total += arr.size
        st = state_of.get(p)
        if st:
            if set(st) != set(keys) | {"step"}:
                return False
            s = st["step"]
            if not isinstance(s, Tensor) or s._data.dtype != scalar_dtype():
                return False
            value = s.item()
            if step is None:
                step = value
            elif value != step:
                return False
            if any(not isinstance(st[k], Tensor) or st[k]._data.shape != arr.shape or
                   st[k]._data.dtype != dtype for k in keys):
                return False
        elif step not in (None, 0.0):
            return False
        else:
            step = 0.0 if step is None else step
    return total <= MAX_FLAT_ELEMENTS
