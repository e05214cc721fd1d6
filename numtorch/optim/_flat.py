"""Flat layout for groups of small parameters: one NumPy call per update stage for the whole
group instead of one per parameter.

For the small parameters of a group (fewer than ``MAX_FLAT_PARAM`` elements each; the larger
ones are updated one by one, in chunks), when they are real, same-dtype CPU tensors, the
per-parameter state tensors (``exp_avg``..., and scalar state such as ``step``) are views into
one flat buffer per state key, so an optimizer updates every parameter's state with single
array operations. The state stays torch-shaped: ``optimizer.state[p]["exp_avg"]`` is still a
tensor of ``p``'s shape (a view), ``step`` still a 0-d tensor per parameter. The element-wise
arithmetic is the same as the per-parameter path, so both paths give bit-identical results.

A plan is checked cheaply before each use (same parameters with gradients, same state dicts,
same state arrays); anything else (a parameter without gradient, state replaced by
``load_state_dict``, mixed dtypes, differing step counts) falls back to the per-parameter path.
"""
from __future__ import annotations

from operator import attrgetter, is_

import numpy as np

from .._blas import axpy
from .._device import CPU
from .._tensor import Tensor, _from_array
from ._functional import scalar_dtype

__all__ = ["FlatPlan", "ParamTarget", "flat_plan", "flat_candidates", "MAX_FLAT_PARAM"]

# groups larger than this gain nothing from the flat layout (per-call overhead is negligible
# next to the arithmetic) and would pay for an extra gather of the gradients
MAX_FLAT_ELEMENTS = 1 << 20
# parameters this large or larger are not laid out flat: each is updated on its own (in chunks
# on several threads, see _chunked.py), which saves the gather of its gradient
MAX_FLAT_PARAM = 1 << 18
_DATA = attrgetter("_data")


class ParamTarget:
    """The parameter side of an update for one tensor (the per-parameter path)."""

    __slots__ = ("arr", "fresh")
    scratch = None
    out = None

    def __init__(self, arr: np.ndarray, fresh: bool) -> None:
        self.arr = arr
        self.fresh = fresh

    def values(self) -> np.ndarray:
        """The parameter's values (read-only use: L2 weight decay)."""
        return self.arr

    def add(self, increment: np.ndarray) -> None:
        """Add ``increment`` to the parameter in place."""
        self.arr += increment

    def add_scaled(self, x: np.ndarray, alpha: float) -> None:
        """``param.add_(x, alpha=alpha)`` in place: one rounding per element, as torch."""
        axpy(alpha, x, self.arr)

    def scale(self, factor: float) -> None:
        """Multiply the parameter by ``factor`` in place."""
        self.arr *= factor


class FlatPlan:
    """Flat buffers for one param group: array state (``keys``), scalar state (``scalars``:
    one entry per parameter), gradients, scratch and update."""

    __slots__ = ("group", "params", "states", "checks", "buffers", "scalars", "grad_buf",
                 "grads", "scratch", "out", "update_views", "param_arrays", "n", "bounds",
                 "fresh", "keys")

    def __init__(self, group: dict, params: list[Tensor], states: list[dict],
                 keys: tuple[str, ...], scalars: tuple[tuple[str, float], ...],
                 fills: dict[str, float]) -> None:
        self.group, self.params, self.states, self.keys = group, params, states, keys
        self.n = len(params)
        self.fresh = not states[0]
        dtype = params[0]._data.dtype
        bounds = np.concatenate([[0], np.cumsum([p._data.size for p in params])]).tolist()
        self.bounds = bounds
        total = bounds[-1]
        self.buffers = {k: np.full(total, fills.get(k, 0), dtype) for k in keys}
        sdtype = scalar_dtype(group.get("fused"))
        self.scalars = {k: np.full(self.n, init, sdtype) for k, init in scalars}
        # per parameter: (state keys, their tensors, the views those tensors must hold)
        self.checks: list[tuple[tuple, tuple, tuple]] = []
        names = tuple(k for k, _ in scalars) + keys
        for i, (p, st) in enumerate(zip(params, states)):
            views = [self.scalars[k][i:i + 1].reshape(()) for k, _ in scalars]
            views += [self.buffers[k][bounds[i]:bounds[i + 1]].reshape(p._data.shape)
                      for k in keys]
            tensors = tuple(self._adopt(st, k, v) for k, v in zip(names, views))
            self.checks.append((names, tensors, tuple(views)))
        self.grad_buf = np.empty(total, dtype)
        self.scratch = np.empty(total, dtype)
        self.out = np.empty(total, dtype)
        self.update_views = self.split(self.out)
        self.grads: list[np.ndarray] = [None] * self.n
        self.param_arrays: list[np.ndarray] = [None] * self.n

    @staticmethod
    def _adopt(st: dict, key: str, view: np.ndarray) -> Tensor:
        """Make ``st[key]`` a tensor over ``view`` (creating it, or moving its values in)."""
        old = st.get(key)
        if old is None:
            old = st[key] = _from_array(view)
        else:
            view[...] = old._data
            old._data = view
        return old

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """Per-parameter views (parameter-shaped) of a flat array."""
        b = self.bounds
        return [flat[b[i]:b[i + 1]].reshape(p._data.shape) for i, p in enumerate(self.params)]

    def keys_match(self, keys: tuple[str, ...], scalars: tuple) -> bool:
        """Whether the plan holds exactly these state keys."""
        return keys == self.keys and len(scalars) == len(self.scalars)

    def ready(self, group: dict, state_of: dict) -> bool:
        """Whether this plan still describes ``group``; gathers gradients and parameters."""
        if group is not self.group:
            return False
        params, grads, arrays, states = self.params, self.grads, self.param_arrays, self.states
        checks = self.checks
        i = 0
        n = self.n
        for p in group["params"]:
            g = p._grad
            if g is None or p._data.size >= MAX_FLAT_PARAM:
                continue
            if i == n or p is not params[i] or p._data.shape != self.update_views[i].shape:
                return False
            st = state_of.get(p)
            if st is not states[i]:
                return False
            names, tensors, views = checks[i]
            if names and not (all(map(is_, map(st.get, names), tensors)) and
                              all(map(is_, map(_DATA, tensors), views))):
                return False
            grads[i] = g._data.reshape(-1)
            arrays[i] = p._data
            i += 1
        return i == n

    def gather_grads(self) -> np.ndarray:
        """The group's gradients in order in one flat array (the plan's own buffer)."""
        return np.concatenate(self.grads, out=self.grad_buf)

    def values(self) -> np.ndarray:
        """A flat copy of the parameters (for L2 weight decay)."""
        return np.concatenate([a.reshape(-1) for a in self.param_arrays])

    def add(self, increment: np.ndarray) -> None:
        """Add a flat ``increment`` to every parameter in place."""
        views = self.update_views if increment is self.out else self.split(increment)
        for arr, inc in zip(self.param_arrays, views):
            arr += inc

    def add_scaled(self, x: np.ndarray, alpha: float) -> None:
        """``param.add_(x, alpha=alpha)`` for every parameter, ``x`` flat over the group."""
        for arr, part in zip(self.param_arrays, self.split(x)):
            axpy(alpha, part, arr)

    def scale(self, factor: float) -> None:
        """Multiply every parameter by ``factor`` in place."""
        for arr in self.param_arrays:
            arr *= factor


def flat_plan(plans: dict, group: dict, state_of: dict, keys: tuple[str, ...],
              scalars: tuple[tuple[str, float], ...], fills: dict[str, float]):
    """The group's ready plan, a new one when the group qualifies, else None (use the
    per-parameter path)."""
    plan = plans.get(id(group))
    if plan is not None and plan.keys_match(keys, scalars) and plan.ready(group, state_of):
        return plan
    plans.pop(id(group), None)
    params = flat_candidates(group)
    if not params or not _qualifies(params, state_of, keys, scalars, group):
        return None
    states = [state_of[p] for p in params] if keys or scalars else [None] * len(params)
    plan = FlatPlan(group, params, states, keys, scalars, fills)
    plans[id(group)] = plan
    return plan if plan.ready(group, state_of) else None


def flat_candidates(group: dict) -> list[Tensor]:
    """The group's parameters a flat plan would cover: small ones with a gradient."""
    return [p for p in group["params"] if p._grad is not None and
            p._data.size < MAX_FLAT_PARAM]


def _qualifies(params: list[Tensor], state_of: dict, keys: tuple[str, ...],
               scalars: tuple[tuple[str, float], ...], group: dict) -> bool:
    """Same real dtype, CPU, small in total; states all empty or all complete with the same
    scalar values (steps) everywhere."""
    dtype = params[0]._data.dtype
    if dtype.kind != "f" or dtype.itemsize < 4 or len({id(p) for p in params}) != len(params):
        return False  # duplicates must be stepped twice, one after the other: per parameter
    names = set(keys) | {k for k, _ in scalars}
    sdtype = scalar_dtype(group.get("fused"))
    total = 0
    first = None
    for p in params:
        arr = p._data
        if arr.dtype != dtype or p._device is not CPU or p._grad._data.shape != arr.shape:
            return False
        total += arr.size
        st = state_of.get(p)
        values = _scalar_values(st, arr, keys, scalars, names, sdtype) if st else ("empty",)
        if values is None or (first is not None and values != first):
            return False
        first = values
    return total <= MAX_FLAT_ELEMENTS


def _scalar_values(st: dict, arr: np.ndarray, keys, scalars, names, sdtype):
    """``("full", *scalar values)``, or None when the state does not fit the plan."""
    if set(st) != names:
        return None
    for k in keys:
        t = st[k]
        if not isinstance(t, Tensor) or t._data.shape != arr.shape or t._data.dtype != arr.dtype:
            return None
    values: list = []
    for k, _ in scalars:
        t = st[k]
        if not isinstance(t, Tensor) or t._data.dtype != sdtype or t._data.shape != ():
            return None
        values.append(t.item())
    return ("full", *values)
