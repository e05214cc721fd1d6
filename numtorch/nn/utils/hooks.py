"""Module hook machinery: handles that unregister a hook and its flags, the forward call wrapped
by forward pre-hooks and hooks with torch's ordering and return-value rules, and the gradient
catchers behind full backward hooks."""
from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.graph import RemovableHandle

__all__ = ["HookHandle", "register_hook", "BoundHook", "call_with_forward_hooks",
           "BackwardHook", "GLOBAL", "register_module_forward_pre_hook",
           "register_module_forward_hook", "register_module_full_backward_pre_hook",
           "register_module_full_backward_hook", "register_module_backward_hook",
           "register_module_buffer_registration_hook",
           "register_module_module_registration_hook",
           "register_module_parameter_registration_hook"]


class _GlobalHooks:
    """Hooks that run for every module (torch's ``register_module_*`` functions), before the
    module's own. Meant for debugging and profiling."""

    def __init__(self) -> None:
        self.forward_pre: OrderedDict = OrderedDict()
        self.forward: OrderedDict = OrderedDict()
        self.forward_with_kwargs: OrderedDict = OrderedDict()
        self.forward_always_called: OrderedDict = OrderedDict()
        self.backward_pre: OrderedDict = OrderedDict()
        self.backward: OrderedDict = OrderedDict()
        self.is_full_backward: bool | None = None
        self.buffer_registration: OrderedDict = OrderedDict()
        self.module_registration: OrderedDict = OrderedDict()
        self.parameter_registration: OrderedDict = OrderedDict()

    def on_call(self) -> bool:
        """Whether any global hook takes part in calling a module."""
        return bool(self.forward_pre or self.forward or self.backward_pre or self.backward)


GLOBAL = _GlobalHooks()


def registered(hooks: OrderedDict, module: Any, name: str, value: Any) -> Any:
    """``value`` after the global registration ``hooks`` (each may return a replacement)."""
    for hook in hooks.values():
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, args)`` before every module's forward (before its own pre-hooks)."""
    return register_hook(GLOBAL.forward_pre, hook)


def register_module_forward_hook(hook: Callable, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Run ``hook(module, args, output)`` after every module's forward (before its own)."""
    handle = register_hook(GLOBAL.forward, hook, (GLOBAL.forward_with_kwargs,
                                                  GLOBAL.forward_always_called))
    if with_kwargs:
        GLOBAL.forward_with_kwargs[handle.id] = True
    if always_call:
        GLOBAL.forward_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """``Module.register_full_backward_pre_hook`` for every module."""
    return register_hook(GLOBAL.backward_pre, hook)


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """``Module.register_full_backward_hook`` for every module."""
    _set_global_backward_kind(True)
    return register_hook(GLOBAL.backward, hook)


def register_module_backward_hook(hook: Callable) -> RemovableHandle:
    """Deprecated legacy backward hook for every module."""
    _set_global_backward_kind(False)
    return register_hook(GLOBAL.backward, hook)


def _set_global_backward_kind(full: bool) -> None:
    if GLOBAL.is_full_backward is (not full):
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a "
                           "global Module hook. Please use only one of them.")
    GLOBAL.is_full_backward = full


def register_module_buffer_registration_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, name, buffer)`` on every buffer registration; a non-None result
    is registered instead."""
    return register_hook(GLOBAL.buffer_registration, hook)


def register_module_module_registration_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, name, submodule)`` on every submodule registration."""
    return register_hook(GLOBAL.module_registration, hook)


def register_module_parameter_registration_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(module, name, param)`` on every parameter registration."""
    return register_hook(GLOBAL.parameter_registration, hook)


class HookHandle(RemovableHandle):
    """A hook handle that also forgets the hook's flags (with_kwargs, always_call) on removal."""

    def __init__(self, hooks_dict: dict, hook_id: int, flag_dicts: tuple = ()) -> None:
        super().__init__(hooks_dict, hook_id)
        self.flag_dicts = flag_dicts

    def remove(self) -> None:
        super().remove()
        for flags in self.flag_dicts:
            flags.pop(self.id, None)


def register_hook(hooks: OrderedDict, hook: Callable, flag_dicts: tuple = (),
                  prepend: bool = False) -> HookHandle:
    """Store ``hook`` in ``hooks`` under a fresh id (first when ``prepend``); returns its
    handle, whose ``remove()`` also drops the id from each of ``flag_dicts``."""
    handle = RemovableHandle.add(hooks, hook)
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return HookHandle(hooks, handle.id, flag_dicts)


class BoundHook:
    """A hook called with its module as first argument (picklable, unlike a lambda)."""

    def __init__(self, hook: Callable, module: Any) -> None:
        self.hook = hook
        self.module = module

    def __call__(self, *args: Any) -> Any:
        return self.hook(self.module, *args)


def call_with_forward_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """``module.forward(*args, **kwargs)`` between its forward pre-hooks and forward hooks.

    A pre-hook's non-None result replaces the positional inputs (``(args, kwargs)`` for a
    ``with_kwargs`` hook); a hook's non-None result replaces the output. When forward (or any
    hook) raises, the ``always_call`` hooks not yet run still run, then the error propagates.
    """
    output = None
    called: set = set()
    try:
        args, kwargs = _run_pre_hooks(module, args, kwargs)
        full, legacy = _backward_hooks_of(module)
        pre = [*GLOBAL.backward_pre.values(), *module._backward_pre_hooks.values()]
        backward_hook = None
        if full or pre:
            backward_hook = BackwardHook(module, full, pre)
            args = backward_hook.setup_input_hook(args)
        output = module.forward(*args, **kwargs)
        for hook_id, hook in _forward_hooks_of(module):
            called.add(hook_id)
            output = _run_forward_hook(module, hook_id, hook, args, kwargs, output)
        if backward_hook is not None:
            if not isinstance(output, (Tensor, tuple)):
                warnings.warn("For backward hooks to be called, module output should be a "
                              "Tensor or a tuple of Tensors but received "
                              f"{type(output)}", stacklevel=3)
            output = backward_hook.setup_output_hook(output)
        if legacy:
            attach_legacy_backward_hooks(module, legacy, output)
        return output
    except Exception:
        for hook_id, hook in _forward_hooks_of(module):
            if hook_id not in called and (hook_id in module._forward_hooks_always_called
                                          or hook_id in GLOBAL.forward_always_called):
                try:
                    output = _run_forward_hook(module, hook_id, hook, args, kwargs, output)
                except Exception as exc:  # noqa: BLE001 - the forward error wins, as in torch
                    warnings.warn("module forward hook with ``always_call=True`` raised an "
                                  "exception that was silenced as another error was raised in "
                                  f"forward: {exc}", stacklevel=2)
        raise


def _forward_hooks_of(module: Any) -> list:
    """``(id, hook)`` of the global forward hooks, then the module's own."""
    return [*GLOBAL.forward.items(), *module._forward_hooks.items()]


def _backward_hooks_of(module: Any) -> tuple[list, list]:
    """The global then the module's backward hooks, split into full and legacy ones."""
    full, legacy = [], []
    for hooks, is_full in ((GLOBAL.backward, GLOBAL.is_full_backward),
                           (module._backward_hooks, module._is_full_backward_hook)):
        (full if is_full else legacy).extend(hooks.values())
    return full, legacy


def _run_pre_hooks(module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    with_kwargs = module._forward_pre_hooks_with_kwargs
    for hook_id, hook in [*GLOBAL.forward_pre.items(), *module._forward_pre_hooks.items()]:
        if hook_id in with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    return args, kwargs


def _run_forward_hook(module: Any, hook_id: int, hook: Callable, args: tuple, kwargs: dict,
                      output: Any) -> Any:
    if hook_id in module._forward_hooks_with_kwargs or hook_id in GLOBAL.forward_with_kwargs:
        result = hook(module, args, kwargs, output)
    else:
        result = hook(module, args, output)
    return output if result is None else result


# ---------------------------------------------------------------------- backward hooks
class _HookIdentity(Function):
    """Identity on tensors whose backward hands the incoming gradients to a callback, which
    may replace them: how module backward hooks see gradients at the module's boundary."""

    @staticmethod
    def forward(ctx: Any, on_backward: Callable, materialize: bool, *tensors: Tensor) -> tuple:
        ctx.on_backward = on_backward
        ctx.set_materialize_grads(materialize)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        return (None, None, *ctx.on_backward(grads))


class BackwardHook:
    """Wires one call of a module to its full backward (pre-)hooks, as torch's
    ``torch.utils.hooks.BackwardHook``: identities around the tensor inputs and outputs catch
    ``grad_output`` (pre-hooks may replace it) and then ``grad_input`` (hooks may replace it),
    and each hook is called as ``hook(module, grad_input, grad_output)``."""

    def __init__(self, module: Any, user_hooks: list, user_pre_hooks: list) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = self.n_outputs = -1
        self.input_tensors_index: list | None = None
        self.output_tensors_index: list | None = None

    def setup_input_hook(self, args: tuple) -> tuple:
        """The module's inputs, tensors routed through the grad_input catcher."""
        result, self.input_tensors_index = _through_identity(self._on_grad_input, args, True)
        self.n_inputs = len(args)
        return result

    def setup_output_hook(self, output: Any) -> Any:
        """The module's output(s), tensors routed through the grad_output catcher."""
        is_tuple = isinstance(output, tuple)
        outputs = output if is_tuple else (output,)
        result, self.output_tensors_index = _through_identity(self._on_grad_output, outputs,
                                                              False)
        self.n_outputs = len(outputs)
        return result if is_tuple else result[0]

    def _on_grad_output(self, grads: tuple) -> tuple:
        self.grad_outputs = _pack(self.output_tensors_index, grads, self.n_outputs)
        for pre_hook in self.user_pre_hooks:
            replaced = pre_hook(self.module, self.grad_outputs)
            if replaced is None:
                continue
            if len(replaced) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(replaced)}, but expected "
                                   f"{len(self.grad_outputs)}")
            self.grad_outputs = replaced
        current = self.grad_outputs
        if self.input_tensors_index is None:
            self._call_without_input_grads()
        return tuple(current[i] for i in self.output_tensors_index)

    def _call_without_input_grads(self) -> None:
        warnings.warn("Full backward hook is firing when gradients are computed with respect to "
                      "module outputs since no inputs require gradients. See https://docs."
                      "pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module."
                      "register_full_backward_hook for more details.", stacklevel=5)
        grad_inputs = (None,) * self.n_inputs
        for hook in self.user_hooks:
            result = hook(self.module, grad_inputs, self.grad_outputs)
            if result is not None and not (isinstance(result, tuple)
                                           and all(r is None for r in result)):
                raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                   "should always return None or None for all gradients.")
        self.grad_outputs = None

    def _on_grad_input(self, grads: tuple) -> tuple:
        if self.grad_outputs is None:
            return grads
        grad_inputs = _pack(self.input_tensors_index, grads, self.n_inputs)
        for hook in self.user_hooks:
            replaced = hook(self.module, grad_inputs, self.grad_outputs)
            if replaced is None:
                continue
            if len(replaced) != len(grad_inputs):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, got "
                                   f"{len(replaced)}, but expected {len(grad_inputs)}")
            grad_inputs = replaced
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_tensors_index)


def _pack(indices: list, values: tuple, size: int) -> tuple:
    """A ``size``-tuple with ``values`` at ``indices`` and None elsewhere."""
    packed = [None] * size
    for index, value in zip(indices, values):
        packed[index] = value
    return tuple(packed)


def _through_identity(on_backward: Callable, values: tuple,
                      materialize: bool) -> tuple[tuple, list | None]:
    """``values`` with its tensors replaced by identities reporting to ``on_backward``, and
    the tensors' positions (None, and ``values`` unchanged, when none needs a gradient).
    With ``materialize``, a tensor that gets no gradient is reported with zeros (torch's
    grad_input), else with None (torch's grad_output)."""
    index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
    tensors = [values[i] for i in index]
    if not (is_grad_enabled() and any(t.requires_grad for t in tensors)):
        return values, None
    routed = _HookIdentity.apply(on_backward, materialize, *tensors)
    result = list(values)
    for i, tensor in zip(index, routed):
        result[i] = tensor
    return tuple(result), index


def attach_legacy_backward_hooks(module: Any, hooks: list, output: Any) -> None:
    """``register_backward_hook`` (deprecated in torch): hooks on the ``grad_fn`` of the first
    output tensor, called as ``hook(module, grad_input, grad_output)`` of that node."""
    first = output
    while not isinstance(first, Tensor):
        first = next(v for v in first.values() if isinstance(v, Tensor)) \
            if isinstance(first, dict) else first[0]
    if first.grad_fn is None:
        return
    for hook in hooks:
        first.grad_fn.register_hook(BoundHook(hook, module))
