"""Module hook machinery: handles that unregister a hook and its flags, and the forward call
wrapped by forward pre-hooks and hooks with torch's ordering and return-value rules."""
from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ...autograd.graph import RemovableHandle

__all__ = ["HookHandle", "register_hook", "BoundHook", "call_with_forward_hooks"]


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
    ``with_kwargs`` hook); a hook's non-None result replaces the output. When forward (or a
    hook) raises, the ``always_call`` hooks not yet run still run, then the error propagates.
    """
    args, kwargs = _run_pre_hooks(module, args, kwargs)
    output = None
    called: set = set()
    try:
        output = module.forward(*args, **kwargs)
        for hook_id, hook in list(module._forward_hooks.items()):
            called.add(hook_id)
            output = _run_forward_hook(module, hook_id, hook, args, kwargs, output)
        return output
    except Exception:
        for hook_id, hook in list(module._forward_hooks.items()):
            if hook_id in module._forward_hooks_always_called and hook_id not in called:
                try:
                    output = _run_forward_hook(module, hook_id, hook, args, kwargs, output)
                except Exception as exc:  # noqa: BLE001 - the forward error wins, as in torch
                    warnings.warn("module forward hook with ``always_call=True`` raised an "
                                  "exception that was silenced as another error was raised in "
                                  f"forward: {exc}", stacklevel=2)
        raise


def _run_pre_hooks(module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    with_kwargs = module._forward_pre_hooks_with_kwargs
    for hook_id, hook in list(module._forward_pre_hooks.items()):
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
    if hook_id in module._forward_hooks_with_kwargs:
        result = hook(module, args, kwargs, output)
    else:
        result = hook(module, args, output)
    return output if result is None else result
