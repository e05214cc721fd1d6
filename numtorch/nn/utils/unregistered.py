"""Find tensors a model holds without registering them, the mistake seeds 002 and 003 warn about.

A tensor kept as a plain attribute (``self.w = torch.randn(3, requires_grad=True)``), or inside
a plain list/tuple/dict (``self.layers = [nn.Linear(2, 2)]``), is invisible to the state system:
``parameters()`` (so the optimizer) does not see it, ``state_dict()`` does not save it and
``to()``/``cuda()``/``half()`` do not move or cast it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..._tensor import Tensor

__all__ = ["UnregisteredTensor", "find_unregistered_tensors"]

# Module's own bookkeeping, never user state.
_INTERNALS = frozenset({
    "training", "_parameters", "_buffers", "_non_persistent_buffers_set", "_modules",
    "_backward_pre_hooks", "_backward_hooks", "_is_full_backward_hook", "_forward_hooks",
    "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs", "_state_dict_hooks", "_state_dict_pre_hooks",
    "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks", "_compiled_call_impl"})
_MAX_DEPTH = 4


@dataclass(frozen=True)
class UnregisteredTensor:
    """One tensor reachable from a module attribute but not registered as state."""

    module: str
    """Dotted path of the module holding it ("" for the root)."""
    attribute: str
    """Where in that module: ``w1``, ``layers[0].weight``, ``cache['k']``."""
    shape: tuple[int, ...]
    dtype: Any
    requires_grad: bool
    suggestion: str

    @property
    def path(self) -> str:
        """The full dotted path from the root model."""
        return f"{self.module}.{self.attribute}" if self.module else self.attribute

    def __str__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return (f"{self.path}: tensor of shape {list(self.shape)}, {self.dtype}{grad} is not "
                f"registered; {self.suggestion}")


def find_unregistered_tensors(model: "Module") -> list[UnregisteredTensor]:
    """Every tensor held by ``model`` or its submodules as a plain attribute, or inside plain
    lists, tuples, sets and dicts (up to 4 levels), that ``state_dict()`` will not save and
    ``to()`` will not move; each record names where it is and what to use instead.

    Parameters and buffers of a module kept in a plain container are reported too (use
    ``nn.ModuleList``/``nn.ModuleDict``). Returns ``[]`` for a model whose state is all
    registered."""
    from ..modules.module import Module
    if not isinstance(model, Module):
        raise TypeError(f"find_unregistered_tensors expects an nn.Module, got "
                        f"{type(model).__name__}")
    found: list[UnregisteredTensor] = []
    for module_path, module in model.named_modules():
        for name, value in vars(module).items():
            if name not in _INTERNALS:
                _collect(module_path, name, value, found, 0, False, Module)
    return found


def _collect(module_path: str, where: str, value: Any, found: list, depth: int,
             in_container: bool, module_type: type) -> None:
    """Record every tensor under ``value`` (reached by ``where``)."""
    if isinstance(value, Tensor):
        found.append(UnregisteredTensor(module_path, where, tuple(value.shape), value.dtype,
                                        value.requires_grad, _suggest(where, value, in_container)))
    elif isinstance(value, module_type):
        if in_container:
            for name, tensor in _module_state(value):
                found.append(UnregisteredTensor(
                    module_path, f"{where}.{name}", tuple(tensor.shape), tensor.dtype,
                    tensor.requires_grad, "its module sits in a plain Python container: hold "
                    "the modules in nn.ModuleList / nn.ModuleDict instead"))
    elif depth < _MAX_DEPTH:
        for label, item in _items(value):
            _collect(module_path, where + label, item, found, depth + 1, True, module_type)


def _module_state(module: Any):
    yield from module.named_parameters()
    yield from module.named_buffers()


def _items(value: Any):
    """``(label, item)`` pairs of a plain container, nothing for anything else."""
    if isinstance(value, dict):
        return [(f"[{key!r}]", item) for key, item in value.items()]
    if isinstance(value, (list, tuple)):
        return [(f"[{i}]", item) for i, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return [("{...}", item) for item in value]
    return []


def _suggest(where: str, tensor: Tensor, in_container: bool) -> str:
    if in_container:
        return ("it sits in a plain Python container: use nn.ParameterList / nn.ParameterDict "
                "for trainable tensors, or register each with register_buffer")
    if tensor.requires_grad and tensor.grad_fn is None:
        return (f"it is not trained, saved or moved: use self.{where} = "
                "nn.Parameter(tensor) to train it")
    return (f"it will not be saved or moved: use self.register_buffer('{where}', tensor) "
            "(persistent=False to move it without saving it)")
