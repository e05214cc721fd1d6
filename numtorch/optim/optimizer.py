"""Optimizer: the base class every numtorch optimizer builds on.

It holds ``param_groups`` (one dict of hyper-parameters per group, with the group's ``params``)
and ``state`` (a ``defaultdict(dict)`` keyed by parameter object), and turns them into torch's
``state_dict`` format (state keyed by each parameter's position across the groups) and back.
Subclasses implement ``step`` on NumPy arrays (see ``_kernels.py``).
"""
from __future__ import annotations

import copy
import functools
from collections import OrderedDict, defaultdict
from itertools import chain
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import RemovableHandle
from ..autograd.grad_mode import enable_grad
from .._blas import fused_axpy_available
from ._chunked import LargeUpdate, run_large_updates
from ._flat import ParamTarget, flat_plan
from ._functional import full_state, real, scalar_state, sparse_check, zeros_state

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

StateDict = dict[str, Any]


class _RequiredParameter:
    """Marks a hyper-parameter every param group must give (torch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_step_pre_hooks: "OrderedDict[int, Callable]" = OrderedDict()
_global_step_post_hooks: "OrderedDict[int, Callable]" = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``."""
    return RemovableHandle.add(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``."""
    return RemovableHandle.add(_global_step_post_hooks, hook)


def _typename(obj) -> str:
    """torch.typename: a tensor's type string, else the object's qualified name."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in {"", "builtins"} else f"{module}.{qualname}"


def _with_step_hooks(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` so pre/post hooks (global and per optimizer) run around it."""

    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        self = args[0]
        if not (self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks or
                _global_step_pre_hooks or _global_step_post_hooks) or \
                self.__dict__.get("_running_step_hooks"):  # super().step() of a subclass
            return step(*args, **kwargs)
        self._running_step_hooks = True
        try:
            return _run_with_hooks(step, self, args, kwargs)
        finally:
            self._running_step_hooks = False

    wrapper.hooked = True
    return wrapper


def _run_with_hooks(step: Callable, self, args: tuple, kwargs: dict):
    """Global and per-optimizer pre hooks (which may replace the arguments), the step, then
    the post hooks."""
    for hook in chain(list(_global_step_pre_hooks.values()),
                      list(self._optimizer_step_pre_hooks.values())):
        result = hook(self, args, kwargs)
        if result is not None:
            if isinstance(result, tuple) and len(result) == 2:
                args, kwargs = result
            else:
                raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                   f"new_kwargs), but got {result}.")
    out = step(*args, **kwargs)
    for hook in chain(list(self._optimizer_step_post_hooks.values()),
                      list(_global_step_post_hooks.values())):
        hook(self, args, kwargs)
    return out


def to_scalar(x) -> float:
    """A Python number from a float or a one-element tensor (as torch's ``_to_scalar``)."""
    return x.item() if isinstance(x, Tensor) else x


class Optimizer:
    """Base class for all optimizers.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (param groups,
    each with a ``params`` entry and optional per-group hyper-parameters); ``defaults`` holds
    the hyper-parameters a group does not give.
    """

    # per-class migration for state dicts written by older torch versions
    _GROUP_DEFAULTS: dict[str, Any] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state: defaultdict[Tensor, Any] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------ pickling, printing
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.pop("_flat_plans", None)  # layouts of the previous state (see _flat.py)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        self._upgrade_groups_and_state()

    def _upgrade_groups_and_state(self) -> None:
        """Fill group keys older torch versions did not write and turn plain-number scalar
        state (``step`` as an int) into tensors, as torch's ``__setstate__`` does."""
        for group in self.param_groups:
            for key, value in self._GROUP_DEFAULTS.items():
                group.setdefault(key, value)
            for p in group["params"]:
                p_state = self.state.get(p)
                if not p_state:
                    continue
                for key, _ in self._scalar_defaults(group):
                    if key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = scalar_state(float(p_state[key]), group.get("fused"))

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before ``step``; it may return new
        ``(args, kwargs)``. Returns a handle whose ``remove()`` unregisters it."""
        return RemovableHandle.add(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after ``step``. Returns a removable handle."""
        return RemovableHandle.add(self._optimizer_step_post_hooks, hook)

    @staticmethod
    def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
        handle = RemovableHandle.add(hooks, hook)
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook: Callable,
                                     prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` before ``state_dict`` builds its result."""
        return self._add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable,
                                      prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` on ``state_dict``'s result; a returned dict
        replaces it."""
        return self._add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable,
                                          prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` before loading; a returned dict is loaded
        instead."""
        return self._add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable,
                                           prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` after ``load_state_dict`` has loaded."""
        return self._add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> StateDict:
        """The optimizer's state as torch writes it: ``{"state": {position: {...}},
        "param_groups": [{hyper-parameters..., "params": [positions]}]}``.

        Positions number the parameters across groups in order. State tensors are the live
        ones (not copies), as in torch.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        positions: dict[int, int] = {}
        start = 0
        packed_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            # torch builds each group's mapping in one go: a parameter repeated within a group
            # takes its last position, one repeated across groups keeps its first
            positions.update({id(p): i for i, p in enumerate(group["params"], start)
                              if id(p) not in positions})
            packed["params"] = [positions[id(p)] for p in group["params"]]
            start += len(packed["params"])
            packed_groups.append(packed)
        packed_state = {(positions[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": packed_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load a state dict from ``state_dict()`` (numtorch's or torch's format, old ones too).

        State tensors are cast to each parameter's dtype and device (``step`` is kept as is);
        tensors already matching are used directly, as torch does. Raises ValueError when the
        number of groups or a group's size differs.
        """
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        policy = {pid: (g.get("fused", False) or g.get("capturable", False))
                  for g in state_dict["param_groups"] for pid in g["params"]}
        state: defaultdict[Any, Any] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = _cast_state(param, value, policy.get(key, False))
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    # ------------------------------------------------------------------ gradients, groups
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad._data.fill(0)
                    grad._bump()

    def step(self, closure: Callable[[], float] | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the
        loss. Implemented by each optimizer."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the shared step driver
    # Subclasses give ``_array_keys(group)`` (per-element state, in torch's order), ``_SCALARS``
    # (per-parameter scalar state and its initial value) and ``_kernel``, the update math on
    # arrays; the driver runs it once per small group laid out flat (``_flat.py``) or once per
    # parameter, with the same arithmetic either way.
    _SCALARS: tuple[tuple[str, float], ...] = (("step", 0.0),)
    # True when ``_kernel`` computes each element from the same element of its inputs, so large
    # parameters may be updated in chunks on several threads (``_chunked.py``)
    _ELEMENTWISE = False
    _AXPY = False  # the kernel calls numtorch._blas.axpy (see _run_large)

    def _array_keys(self, group: dict) -> tuple[str, ...]:
        raise NotImplementedError

    def _kernel(self, group: dict, target, g: np.ndarray, arrays: dict, scalars: dict) -> None:
        """Update ``arrays``/``scalars`` in place and apply the parameter change to ``target``
        (``ParamTarget`` or a ``FlatPlan``); ``g`` is the gradient (already negated for
        ``maximize``) and may be modified only if it is the plan's own buffer."""
        raise NotImplementedError

    def _scalar_defaults(self, group: dict) -> tuple[tuple[str, float], ...]:
        """Scalar state keys (torch's order) with their initial values."""
        return self._SCALARS

    def _array_fills(self, group: dict) -> dict[str, float]:
        """Initial values of array state other than zero."""
        return {}

    def _init_param_state(self, state: dict, p: Tensor, group: dict) -> None:
        fused = group.get("fused")
        for key, init in self._scalar_defaults(group):
            state[key] = scalar_state(init, fused)
        fills = self._array_fills(group)
        for key in self._array_keys(group):
            state[key] = zeros_state(p) if key not in fills else \
                full_state(p, complex(fills[key], fills[key]) if p.is_complex() else fills[key])

    def _step_groups(self, closure) -> Any:
        loss = self._run_closure(closure)
        plans = self.__dict__.get("_flat_plans")
        if plans is None:
            plans = self._flat_plans = {}
        for group in self.param_groups:
            self._check_capturable(group)
            keys = self._array_keys(group)
            scalar_defaults = self._scalar_defaults(group)
            if keys or scalar_defaults:  # torch's state order: the group's order
                for p in group["params"]:
                    if p._grad is not None and p not in self.state:
                        self.state[p] = {}
            plan = flat_plan(plans, group, self.state, keys, scalar_defaults,
                             self._array_fills(group))
            if plan is not None:
                g = plan.gather_grads()
                if group["maximize"]:
                    np.negative(g, out=g)
                self._kernel(group, plan, g, plan.buffers, plan.scalars)
                plan.fresh = False
                for p in plan.params:
                    p._bump()
                flat = set(map(id, plan.params))
                params = [p for p in group["params"] if p._grad is not None and
                          id(p) not in flat]
            else:
                params = [p for p in group["params"] if p._grad is not None]
            # like torch, whether a parameter starts fresh is decided for the whole group before
            # any update (it matters for a parameter listed twice)
            fresh = {id(p) for p in params if not self.state.get(p)}
            large: list = []  # chunked updates, run together; a parameter listed twice waits
            for p in params:
                update = self._param_step(p, group, keys, scalar_defaults, id(p) in fresh)
                if update is not None:
                    if any(q is p for q, _ in large):
                        self._run_large(group, large)
                    large.append((p, update))
            self._run_large(group, large)
        return loss

    def _param_step(self, p: Tensor, group: dict, keys: tuple[str, ...],
                    scalar_defaults: tuple, fresh: bool) -> LargeUpdate | None:
        """Update ``p`` now, or return its update when it is large enough to run in chunks."""
        if keys or scalar_defaults:
            state = self.state[p]
            if not state:
                sparse_check(p, type(self).__name__)
                self._init_param_state(state, p, group)
            arrays = {k: real(state[k]._data) for k in keys}
            scalars = {k: state[k]._data for k, _ in scalar_defaults}
        else:
            arrays = scalars = {}
        g = real(p._grad._data)
        param = real(p._data)
        if self._ELEMENTWISE:
            update = LargeUpdate.of(param, g, arrays, scalars, fresh)
            if update is not None:
                return update
        if group["maximize"]:
            g = np.negative(g)
        self._kernel(group, ParamTarget(param, fresh), g, arrays, scalars)
        p._bump()
        return None

    def _passes(self, group: dict) -> int:
        """How many passes over memory ``_kernel`` makes for ``group`` (0: many); a kernel of
        few passes runs in larger chunks (see ``_chunked.chunk_size``)."""
        return 0

    def _run_large(self, group: dict, large: list) -> None:
        if large:
            updates = [u for _, u in large]
            # OpenBLAS threads an axpy itself, and calls from several threads at once
            # serialise inside it: such kernels keep to one of numtorch's threads
            threaded = not (self._AXPY and fused_axpy_available(updates[0].param.dtype))
            run_large_updates(self._kernel, group, updates, group["maximize"],
                              self._passes(group), threaded)
            for p, _ in large:
                p._bump()
            large.clear()

    def _run_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with ``params`` and optional hyper-parameters).

        Raises TypeError for a non-dict, a set or a non-tensor, and ValueError for a non-leaf
        tensor, a missing required hyper-parameter, or a parameter already in another group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and not (
                    p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len({id(p) for p in tensors}):
            import warnings
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see github.com/pytorch/pytorch/"
                          "issues/40967 for more information", stacklevel=3)
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _check_capturable(self, group: dict) -> None:
        """torch refuses capturable=True for CPU parameters when it steps them."""
        if group.get("capturable", False) and any(p._grad is not None for p in group["params"]):
            raise AssertionError("If capturable=True, params and state_steps must be on "
                                 "supported devices: ['cuda', 'xpu', 'hpu', 'privateuseone', "
                                 "'xla'].")


def _cast_state(param: Tensor, value, keep_step: bool, key=None):
    """``value`` with every tensor cast to ``param``'s dtype (floating params) and device;
    ``step`` keeps its dtype unless the group is fused/capturable (then float32)."""
    if isinstance(value, Tensor):
        if key == "step":
            return value.to(dtype=D.float32, device=param.device) if keep_step else value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, keep_step, key=k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, keep_step) for v in value)
    return value


def check_differentiable(differentiable: bool) -> None:
    """numtorch runs updates on NumPy arrays outside autograd: refuse differentiable=True."""
    if differentiable:
        raise NotImplementedError("numtorch optimizers do not support differentiable=True "
                                  "(autograd through the optimizer step); use the default "
                                  "differentiable=False")
