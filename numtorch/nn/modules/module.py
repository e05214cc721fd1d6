"""``Module``: the state system that every layer and model is built on.

A module owns three ordered registries and one set:

* ``_parameters``  name -> ``Parameter`` (or None): trainable state, returned by ``parameters()``;
* ``_buffers``     name -> ``Tensor`` (or None): non-trainable state such as running statistics;
* ``_non_persistent_buffers_set``: buffer names kept out of ``state_dict()``;
* ``_modules``     name -> child ``Module`` (or None).

Attribute assignment routes values into them by type (``__setattr__``) and attribute lookup reads
them back (``__getattr__``). Every query over the tree (``named_parameters``, ``named_buffers``,
``modules`` ...) is one walk over ``named_modules`` (``_named_members``), de-duplicating shared
modules and tensors by identity. Operations that a layer may override per module recurse
through the children instead, calling each child's own method exactly as PyTorch does:
``state_dict``/``load_state_dict`` (with the override points ``_save_to_state_dict`` and
``_load_from_state_dict``), ``_apply`` (``to``, ``float`` ...), ``train`` and ``apply``; so
checkpoints, old-version migrations and subclass overrides behave the same.

Helpers live beside it in ``nn/utils``: ``hooks`` (hook handles, the hooked forward call,
backward-hook catchers, global hooks), ``module_support`` (name checks, the in-place copy of
``load_state_dict``, ``to()`` arguments) and ``state_dict`` (the load-failure diagnosis).
"""
from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...autograd.graph import RemovableHandle
from ..parameter import Buffer, Parameter
from ..utils.hooks import (GLOBAL, BoundHook, call_with_forward_hooks, register_hook,  # noqa: F401
                           register_module_backward_hook, register_module_buffer_registration_hook,
                           register_module_forward_hook, register_module_forward_pre_hook,
                           register_module_full_backward_hook,
                           register_module_full_backward_pre_hook,
                           register_module_module_registration_hook,
                           register_module_parameter_registration_hook, registered)
from ..utils.module_support import (addindent, check_state_name, check_compile_arguments,
                                    load_tensor, parse_module_to, states_by_child, swappable,
                                    typename, unexpected_under, warn_unregistered)
from ..utils.state_dict import _IncompatibleKeys

__all__ = ["Module"]

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"
_UNREACHABLE = ("Reached a code path in Module.{}() that should never be called. Please file an "
                "issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
                "to report this bug.")
_HOOK_DICTS = ("_backward_pre_hooks", "_backward_hooks", "_forward_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
               "_forward_pre_hooks_with_kwargs", "_state_dict_hooks", "_state_dict_pre_hooks",
               "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks")


def _forward_unimplemented(self, *inputs: Any) -> None:
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                              '"forward" function')


class Module:
    """Base class of every layer and model: holds parameters, buffers and submodules.

    Subclasses call ``super().__init__()`` first, then assign ``nn.Parameter`` s, buffers and
    child modules as attributes, and define ``forward``. Calling the module runs ``forward``
    between its hooks.

    >>> import numtorch as torch, numtorch.nn as nn
    >>> class Scale(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.weight = nn.Parameter(torch.ones(2))          # a parameter
    ...         self.register_buffer("calls", torch.tensor(0))      # a buffer
    ...         self.note = torch.zeros(2)                          # plain: not state
    ...     def forward(self, x):
    ...         self.calls = self.calls + 1                         # still the buffer
    ...         return x * self.weight
    >>> outer = nn.Sequential(Scale(), Scale())
    >>> list(outer.state_dict())
    ['0.weight', '0.calls', '1.weight', '1.calls']
    >>> outer(torch.ones(2)).tolist(), outer[0].calls.item()
    ([1.0, 1.0], 1)
    """

    dump_patches: bool = False
    _version: int = 1
    training: bool
    call_super_init: bool = False
    _compiled_call_impl = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not self.call_super_init and kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        if not self.call_super_init and args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        state = self.__dict__
        state["training"] = True
        state["_parameters"] = {}
        state["_buffers"] = {}
        state["_non_persistent_buffers_set"] = set()
        state["_is_full_backward_hook"] = None
        for name in _HOOK_DICTS:
            state[name] = OrderedDict()
        state["_modules"] = {}
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    forward: Callable[..., Any] = _forward_unimplemented

    # ================================================================== registration
    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` as buffer ``name``; ``persistent=False`` keeps it out of
        ``state_dict``. A None buffer is skipped by ``to``/``state_dict``.

        Raises AttributeError before ``Module.__init__()``, TypeError for a non-string name or
        non-tensor value, KeyError for an empty or dotted name or one taken by another attribute.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        check_state_name("buffer", name, self, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._buffers[name] = registered(GLOBAL.buffer_registration, self, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` as parameter ``name`` (None is allowed and skipped by
        ``parameters``/``state_dict``).

        Raises as ``register_buffer`` for bad names; TypeError unless ``param`` is a Parameter
        or None; ValueError for a non-leaf parameter.
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        check_state_name("parameter", name, self, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             "function of another Tensor, compute the value in the forward() "
                             "method.")
        self._parameters[name] = registered(GLOBAL.parameter_registration, self, name, param)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` as child ``name`` (None is allowed).

        Raises TypeError for a non-Module value or non-string name, KeyError for an empty or
        dotted name or one taken by another attribute.
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f"module name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError("module name can't be empty string \"\"")
        self._modules[name] = registered(GLOBAL.module_registration, self, name, module)

    def register_module(self, name: str, module: "Module | None") -> None:
        """Alias of ``add_module``."""
        self.add_module(name, module)

    # ================================================================== attribute routing
    def __getattr__(self, name: str) -> Any:
        """Look ``name`` up in the parameters, then buffers, then submodules (called only when
        ordinary attribute lookup fails)."""
        state = self.__dict__
        if "_parameters" in state:
            registry = state["_parameters"]
            if name in registry:
                return registry[name]
            registry = state["_buffers"]
            if name in registry:
                return registry[name]
            registry = state["_modules"]
            if name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        """Route an assignment: a Parameter becomes a parameter, a Module a child, an
        ``nn.Buffer`` (or any tensor assigned to an existing buffer name) a buffer; None clears
        a registered name; everything else is a plain attribute (not state)."""
        state = self.__dict__
        params = state.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, state, self._buffers, self._modules,
                         self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        else:
            self._set_module_buffer_or_attribute(name, value, state)

    def _set_module_buffer_or_attribute(self, name: str, value: Any, state: dict) -> None:
        modules = state.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, state, self._parameters, self._buffers,
                         self._non_persistent_buffers_set)
            modules[name] = registered(GLOBAL.module_registration, self, name, value)
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            modules[name] = registered(GLOBAL.module_registration, self, name, value)
        else:
            buffers = state.get("_buffers")
            if isinstance(value, Buffer) or (buffers is not None and name in buffers):
                if value is not None and not isinstance(value, Tensor):
                    raise TypeError(f"cannot assign '{typename(value)}' as buffer '{name}' "
                                    "(torch.nn.Buffer, torch.Tensor or None expected)")
                persistent = (value.persistent if isinstance(value, Buffer)
                              else name not in self._non_persistent_buffers_set)
                self.register_buffer(name, value, persistent)
            else:
                if isinstance(value, Tensor) and value._requires_grad and value.grad_fn is None:
                    warn_unregistered(self, name)
                object.__setattr__(self, name, value)

    @staticmethod
    def _forget(name: str, *registries) -> None:
        """Remove ``name`` from each dict or set in ``registries``."""
        for registry in registries:
            if name in registry:
                if isinstance(registry, dict):
                    del registry[name]
                else:
                    registry.discard(name)

    def __delattr__(self, name: str) -> None:
        """Delete a parameter, buffer, submodule or plain attribute."""
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    # ================================================================== lookup by path
    def get_submodule(self, target: str) -> "Module":
        """The submodule at dotted path ``target`` ("" is self); AttributeError if absent."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(module._get_name() + " has no attribute `" + item + "`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: "Module", strict: bool = False) -> None:
        """Put ``module`` at dotted path ``target``, replacing a submodule there or (unless
        ``strict``) adding one to an existing parent. ValueError for an empty target or a
        non-Module; AttributeError for a missing parent, or a non-module in the way."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + " has no attribute `" + name + "`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError("`" + name + "` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target``; AttributeError if absent or not one."""
        module_path, _, param_name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, param_name):
            raise AttributeError(module._get_name() + " has no attribute `" + param_name + "`")
        param = getattr(module, param_name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + param_name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target``; AttributeError if absent or not one."""
        module_path, _, buffer_name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, buffer_name):
            raise AttributeError(module._get_name() + " has no attribute `" + buffer_name + "`")
        buffer = getattr(module, buffer_name)
        if buffer_name not in module._buffers:
            raise AttributeError("`" + buffer_name + "` is not a buffer")
        return buffer

    # ================================================================== traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """Yield ``(dotted_name, module)`` for self and every descendant, depth first in
        registration order; a module reachable twice is yielded once unless
        ``remove_duplicate=False``."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                                remove_duplicate)

    def _named_members(self, members_of: Callable, prefix: str = "", recurse: bool = True,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        """The one walk behind ``named_parameters``/``named_buffers``: ``members_of(module)``
        for each module, with dotted names, skipping None and (by default) repeats."""
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in members_of(module):
                if value is None or value in seen:
                    continue
                if remove_duplicate:
                    seen.add(value)
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)``; a shared parameter once unless
        ``remove_duplicate=False``; only this module's own when ``recurse=False``."""
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                   remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield every parameter once (what an optimizer is given)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(dotted_name, buffer)`` for persistent and non-persistent buffers alike."""
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                   remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Yield every buffer once."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Yield ``(name, child)`` for the direct children, each child once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator["Module"]:
        """Yield the direct children, each once."""
        for _, module in self.named_children():
            yield module

    def modules(self, remove_duplicate: bool = True) -> Iterator["Module"]:
        """Yield self and every descendant (each once unless ``remove_duplicate=False``)."""
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call ``fn`` on every child (recursively, children first) and then on self;
        returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ================================================================== state_dict
    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, prefix, keep_vars)`` before this module saves its state."""
        return register_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, state_dict, prefix, local_metadata)`` after this module and its
        children saved their state; it may edit ``state_dict`` in place and must return None."""
        hook._from_public_api = True
        return register_hook(self._state_dict_hooks, hook)

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """Legacy post-hook: like ``register_state_dict_post_hook`` but a returned dict
        replaces the result (at the root module only)."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("Cannot register the same function as the state dict post hook "
                               "that was previously registered via "
                               "register_state_dict_post_hook")
        return register_hook(self._state_dict_hooks, hook)

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Put this module's own state (not its children's) into ``destination``: parameters,
        then persistent buffers, then extra state. Override point for custom layers."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args: Any, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """An ordered ``{dotted_name: tensor}`` of every parameter and persistent buffer:
        each module's own parameters, then its persistent buffers, then its children's, in
        registration order. Values are detached unless ``keep_vars``; a tensor shared by two
        names appears under both. ``_metadata`` maps each module path to ``{"version": ...}``.
        """
        if args:
            warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                          "https://pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.state_dict for details.", FutureWarning, stacklevel=2)
            destination = args[0] if destination is None else destination
            prefix = args[1] if len(args) > 1 and prefix == "" else prefix
            keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = dict(version=self._version)
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if not getattr(hook, "_from_public_api", False):
                if result is not None:
                    destination = result
            elif result is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return destination

    def get_extra_state(self) -> Any:
        """Override (with ``set_extra_state``) to save non-tensor state under
        ``<prefix>_extra_state``."""
        raise RuntimeError(_UNREACHABLE.format("get_extra_state"))

    def set_extra_state(self, state: Any) -> None:
        """Override (with ``get_extra_state``) to restore non-tensor state."""
        raise RuntimeError(_UNREACHABLE.format("set_extra_state"))

    # ================================================================== load_state_dict
    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module loads its own state."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook: Callable,
                                           with_module: bool = False) -> RemovableHandle:
        """Like the public one; without ``with_module`` the hook is not given the module."""
        bound = BoundHook(hook, self) if with_module else hook
        return register_hook(self._load_state_dict_pre_hooks, bound)

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, incompatible_keys)`` after this module and its children loaded;
        the hook may edit the key lists in place (which ``strict`` then checks)."""
        return register_hook(self._load_state_dict_post_hooks, hook)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        """Load this module's own parameters and persistent buffers from ``state_dict``
        (children are loaded separately). Records missing and unexpected keys and appends
        shape-mismatch messages to ``error_msgs`` rather than raising. Override point for
        migrating old checkpoints, using ``local_metadata.get("version")``."""
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        local_state = {name: value for name, value in self._parameters.items()
                       if value is not None}
        local_state.update((name, value) for name, value in self._buffers.items()
                           if value is not None and name not in self._non_persistent_buffers_set)
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, current in local_state.items():
            key = prefix + name
            if key in state_dict:
                load_tensor(self, name, key, current, state_dict[key], assign, error_msgs)
            elif strict:
                missing_keys.append(key)
        self._load_extra_state(state_dict, prefix, strict, missing_keys, unexpected_keys)
        if strict:
            unexpected_keys += unexpected_under(state_dict, prefix, local_state, self._modules,
                                                prefix + _EXTRA_STATE_KEY_SUFFIX)

    def _load_extra_state(self, state_dict: dict, prefix: str, strict: bool,
                          missing_keys: list, unexpected_keys: list) -> None:
        key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if key in state_dict:
                self.set_extra_state(state_dict[key])
            elif strict:
                missing_keys.append(key)
        elif strict and key in state_dict:
            unexpected_keys.append(key)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy every tensor of ``state_dict`` into the matching parameter or buffer, in place
        and cast to its dtype (the same Parameter objects remain, so optimizers keep working);
        with ``assign=True`` the checkpoint's tensors replace them instead.

        Returns ``(missing_keys, unexpected_keys)``. Raises one RuntimeError listing every
        missing key, unexpected key (both only when ``strict``) and size mismatch in torch's
        words, followed by numtorch's diagnosis of likely causes (a common key prefix, renamed
        keys, submodules on one side only, non-persistent buffers, transposed weights).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys: list[str] = []
        unexpected_keys: list[str] = []
        error_msgs: list[str] = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata
        self._load_tree(state_dict, "", metadata, assign, missing_keys, unexpected_keys,
                        error_msgs)
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            from ..utils.state_dict import diagnose_load_failure
            message = "Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(error_msgs))
            raise RuntimeError(message + diagnose_load_failure(
                self, missing_keys if strict else [], unexpected_keys if strict else [],
                error_msgs, state_dict))
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    def _load_tree(self, state_dict: dict, prefix: str, metadata: dict | None, assign: bool,
                   missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        """Load this module, then each child from the keys under its prefix, then run this
        module's load post-hooks."""
        local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
        if assign:
            local_metadata["assign_to_params_buffers"] = assign
        self._load_from_state_dict(state_dict, prefix, local_metadata, True, missing_keys,
                                   unexpected_keys, error_msgs)
        children = [(name, child) for name, child in self._modules.items() if child is not None]
        if children:
            states = states_by_child(state_dict, prefix, children)
            for name, child in children:
                child._load_tree(states[name], prefix + name + ".", metadata, assign,
                                 missing_keys, unexpected_keys, error_msgs)
        incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
        for hook in self._load_state_dict_post_hooks.values():
            if hook(self, incompatible) is not None:
                raise AssertionError("Hooks registered with ``register_load_state_dict_post_hook`` "
                                     "are not expected to return new values, if "
                                     "incompatible_keys need to be modified, it should be done "
                                     "inplace.")

    # ================================================================== device and dtype
    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> "Module":
        """Replace every parameter's and buffer's data by ``fn(tensor)``. Parameters keep their
        identity (their ``.data`` is swapped, their ``.grad`` converted alike) except across
        the meta device, where torch makes new ones; buffers are replaced by the result. Plain
        tensor attributes are untouched."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        for name, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                converted = fn(param)
            grad = param._grad
            if swappable(param, converted):
                param.data = converted
            else:
                self._parameters[name] = Parameter(converted, param.requires_grad)
            if grad is not None:
                with no_grad():
                    converted_grad = fn(grad)
                if swappable(grad, converted_grad):
                    grad.data = converted_grad
                else:
                    self._parameters[name].grad = converted_grad.requires_grad_(
                        grad.requires_grad)
        for name, buf in self._buffers.items():
            if buf is not None:
                self._buffers[name] = fn(buf)
        return self

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """Move parameters and buffers to a device and/or cast the floating (and complex) ones
        to a dtype: ``to(device)``, ``to(dtype)``, ``to(tensor)``, ``to(device, dtype)``.
        Integer tensors only move. Modifies the module in place and returns it."""
        device, dtype = parse_module_to(args, kwargs)

        def convert(t: Tensor) -> Tensor:
            floating = t.is_floating_point() or t.is_complex()
            return t.to(device=device, dtype=dtype if floating else None)
        return self._apply(convert)

    def share_memory(self) -> "Module":
        """``share_memory_()`` on every parameter and buffer; returns self. NumPy memory is
        process-local, so this changes nothing (tensors report ``is_shared() == False``)."""
        return self._apply(lambda t: t.share_memory_())

    def to_empty(self, *, device: Any, recurse: bool = True) -> "Module":
        """Replace every parameter's and buffer's data by uninitialised memory on ``device``
        (the way to materialise a model built on the meta device); returns self."""
        from ..._ops.creation import empty_like
        return self._apply(lambda t: empty_like(t, device=device), recurse=recurse)

    def cpu(self) -> "Module":
        """Move every parameter and buffer to the CPU; returns self."""
        return self._apply(lambda t: t.cpu())

    def cuda(self, device: Any = None) -> "Module":
        """Move every parameter and buffer to a CUDA device (raises as torch does without
        CUDA, once there is a tensor to move); returns self."""
        return self._apply(lambda t: t.cuda(device))

    def type(self, dst_type: Any) -> "Module":
        """Cast every parameter and buffer (floating or not) to ``dst_type``; returns self."""
        return self._apply(lambda t: t.type(dst_type))

    def float(self) -> "Module":
        """Cast floating parameters and buffers to float32; returns self."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> "Module":
        """Cast floating parameters and buffers to float64; returns self."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self) -> "Module":
        """Cast floating parameters and buffers to float16; returns self."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self) -> "Module":
        """Cast floating parameters and buffers to bfloat16; returns self."""
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    # ================================================================== modes and gradients
    def train(self, mode: bool = True) -> "Module":
        """Set ``training`` on self and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """``train(False)``: evaluation behaviour for Dropout, BatchNorm...; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set ``requires_grad`` of every parameter (freeze/unfreeze); returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to None (default) or to zeros in place."""
        for param in self.parameters():
            grad = param._grad
            if grad is None:
                continue
            if set_to_none:
                param.grad = None
                continue
            if grad.grad_fn is not None:
                grad.detach_()
            else:
                grad.requires_grad_(False)
            if grad._data.flags.writeable:
                grad._data[...] = 0
            else:
                grad._data = np.zeros_like(grad._data)
            grad._bump()

    # ================================================================== calling
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Run ``hook(module, args)`` (``hook(module, args, kwargs)`` with ``with_kwargs``)
        before ``forward``; a non-None result replaces the inputs."""
        handle = register_hook(self._forward_pre_hooks, hook,
                                (self._forward_pre_hooks_with_kwargs,), prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Run ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
        ``with_kwargs``) after ``forward``; a non-None result replaces the output. With
        ``always_call`` it also runs when ``forward`` raises."""
        handle = register_hook(self._forward_hooks, hook, (self._forward_hooks_with_kwargs,
                                self._forward_hooks_always_called), prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False
                                        ) -> RemovableHandle:
        """Run ``hook(module, grad_output)`` when the gradients of the module's outputs are
        known; a non-None result replaces ``grad_output``."""
        return register_hook(self._backward_pre_hooks, hook, prepend=prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False
                                    ) -> RemovableHandle:
        """Run ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        positional tensor inputs are known (None for the others); a non-None result replaces
        ``grad_input``. RuntimeError if legacy backward hooks are registered too."""
        self._set_backward_hook_kind(True)
        return register_hook(self._backward_hooks, hook, prepend=prepend)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Deprecated in torch: ``hook(module, grad_input, grad_output)`` on the ``grad_fn`` of
        the output; use ``register_full_backward_hook``."""
        self._set_backward_hook_kind(False)
        return register_hook(self._backward_hooks, hook)

    def _set_backward_hook_kind(self, full: bool) -> None:
        if self._is_full_backward_hook is (not full):
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self._is_full_backward_hook = full

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward(*args, **kwargs)`` between the forward pre-hooks and hooks, with the
        backward hooks attached to its inputs and outputs."""
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks or GLOBAL.on_call()):
            return self.forward(*args, **kwargs)
        return call_with_forward_hooks(self, args, kwargs)

    _call_impl = _wrapped_call_impl = __call__

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """torch compiles the forward in place; numtorch has no compiler, so after checking the
        arguments as ``torch.compile`` does (its TypeErrors; ``mode``, ``options``), the module
        runs as before. Returns None, as torch's in-place compile."""
        check_compile_arguments(self.__call__, *args, **kwargs)

    # ================================================================== representation
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The layer's own settings shown inside its repr; override in layers."""
        return ""

    def __repr__(self) -> str:
        """``Name(extra)`` on one line, or one line per extra line and per ``(child): repr``."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + addindent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"

    def __dir__(self) -> list[str]:
        keys = (dir(type(self)) + list(self.__dict__) + list(self._parameters)
                + list(self._modules) + list(self._buffers))
        return sorted(key for key in keys if not key[0].isdigit())

    # ================================================================== pickling
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_compiled_call_impl", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for name in _HOOK_DICTS:  # modules pickled by older versions lack some
            self.__dict__.setdefault(name, OrderedDict())
        self.__dict__.setdefault("_non_persistent_buffers_set", set())
        self.__dict__.setdefault("_is_full_backward_hook", None)

