"""Calling a module with other parameters and buffers than its own (``functional_call``).

For the duration of the call the given tensors stand in the module's registries under their
dotted names (a tensor that is not a Parameter, even one computed from others, may stand for a
parameter), then the originals are put back, as ``torch.nn.utils.stateless`` does.
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from ..._tensor import Tensor

__all__ = ["functional_call"]

_MISSING = object()


def functional_call(module: Any, parameters_and_buffers: Mapping[str, Tensor],
                    args: Any = None, kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the tensors of ``parameters_and_buffers`` (dotted
    names) in place of the module's own for the duration of the call.

    With ``tie_weights``, a value given for one of several tied names applies to all of them
    (ValueError if different values are given for tied names). With ``strict``, the names must
    be exactly the module's parameters and buffers (RuntimeError otherwise). Deprecated in torch
    (FutureWarning) in favour of ``torch.func.functional_call``, which behaves the same."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and "
                  "will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights, strict):
        return module(*args, **(kwargs or {}))


@contextlib.contextmanager
def _reparametrize_module(module: Any, parameters_and_buffers: Mapping[str, Tensor],
                          tie_weights: bool = False, strict: bool = False) -> Iterator[None]:
    """Within the block, ``module``'s tensors are replaced by ``parameters_and_buffers``."""
    given = _untie(module, parameters_and_buffers) if tie_weights else dict(parameters_and_buffers)
    if strict:
        _check_keys(module, given)
    originals: dict[str, Any] = {}
    try:
        originals = _swap_all(module, given)
        yield
    finally:
        restored = _swap_all(module, originals)
        if isinstance(parameters_and_buffers, dict):
            parameters_and_buffers.update({k: restored[k] for k in parameters_and_buffers
                                           if k in restored})


def _untie(module: Any, given: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """``given`` extended to every name tied to a given name (same tensor in the module)."""
    names_of: dict[Tensor, set] = {}
    for name, tensor in [*module.named_parameters(remove_duplicate=False),
                         *module.named_buffers(remove_duplicate=False)]:
        names_of.setdefault(tensor, set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given_tied = {name for name in given if name in tied}
    for name in given_tied:
        # torch looks up every tied name in ``given`` here: a tied name not given (and two
        # different values given for the others) raises its KeyError, kept for fidelity
        if len(tied[name] & given_tied) > 1 and len({given[n] for n in tied[name]}) != 1:
            raise ValueError(f"functional_call got multiple values for keys "
                             f"{sorted(tied[name])}, which are tied. Consider using "
                             "tie_weights=False")
    untied = dict(given)
    for name in given_tied:
        for other in tied[name]:
            untied[other] = given[name]
    return untied


def _check_keys(module: Any, given: Mapping[str, Tensor]) -> None:
    valid = {name for name, _ in module.named_parameters(remove_duplicate=False)}
    valid |= {name for name, _ in module.named_buffers(remove_duplicate=False)}
    missing, unexpected = sorted(valid - set(given)), sorted(set(given) - valid)
    errors = []
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
            module._get_name(), "\n\t".join(errors)))


def _swap_all(module: Any, named: Mapping[str, Any]) -> dict[str, Any]:
    """Put each value at its dotted name; returns what was there (restored on failure)."""
    originals: dict[str, Any] = {}
    try:
        for name, value in named.items():
            originals[name] = _swap(module, name, value)
    except Exception:
        for name, value in originals.items():
            _swap(module, name, value)
        raise
    return originals


def _swap(module: Any, path: str, value: Any) -> Any:
    """Set the tensor at dotted ``path`` to ``value`` (``_MISSING`` deletes it); returns the
    previous one (``_MISSING`` if there was none)."""
    owner_path, _, name = path.rpartition(".")
    owner = _submodule(module, owner_path)
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    for registry in (owner._parameters, owner._buffers):
        if name in registry:
            previous = registry[name]
            if value is _MISSING:
                del registry[name]
            else:
                registry[name] = value
            return previous
    previous = getattr(owner, name, _MISSING)
    if previous is not _MISSING and previous is not None and not isinstance(previous, Tensor):
        raise TypeError(f"attribute `{name}`: {previous} is not an instance of torch.Tensor")
    if value is not _MISSING:
        setattr(owner, name, value)
    elif hasattr(owner, name):
        delattr(owner, name)
    return previous


def _submodule(module: Any, path: str) -> Any:
    from ..modules.module import Module
    for name in path.split(".") if path else ():
        try:
            child = getattr(module, name)
        except AttributeError as exc:
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`") from exc
        if not isinstance(child, Module):
            raise TypeError(f"submodule `{name}`: {child} is not an instance of "
                            "torch.nn.Module")
        module = child
    return module
