"""Flattening a loaded checkpoint object into dotted keys: tensor entries and other values."""
from __future__ import annotations

from .._tensor import Tensor
from ..serialization import Placeholder, PlaceholderGlobal
from . import _kinds
from ._entries import make_entry


def _join(prefix: str, key) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _is_container(v) -> bool:
    return isinstance(v, (dict, list, tuple, Tensor, Placeholder))


def _module_state(p: Placeholder):
    """The ``__dict__`` of a pickled ``nn.Module`` (a whole model saved), else None."""
    state = p.state
    if isinstance(state, dict) and isinstance(state.get("_parameters"), dict) and \
            isinstance(state.get("_modules"), dict):
        return state
    return None


class Walker:
    """Collects ``entries`` (one per tensor) and ``non_tensors`` (dotted key -> value).

    ``kinds`` gives the kind of known tensor keys; others are "optim" inside an optimizer
    state, else ``default`` (or judged by name and dtype when ``default`` is None).
    """

    def __init__(self, kinds: dict, default: str | None = None) -> None:
        self.kinds = kinds
        self.default = default
        self.entries: list = []
        self.non_tensors: dict = {}

    def walk(self, value, prefix: str, context: str) -> None:
        if isinstance(value, Tensor):
            self._tensor(value, prefix, context)
        elif isinstance(value, dict) and value:
            ctx = "optim" if _kinds.is_optimizer_state(value) else context
            for k, v in value.items():
                self.walk(v, _join(prefix, k), ctx)
        elif isinstance(value, (list, tuple)) and any(_is_container(v) for v in value):
            for i, v in enumerate(value):
                self.walk(v, _join(prefix, i), context)
        elif isinstance(value, Placeholder):
            self._placeholder(value, prefix, context)
        elif isinstance(value, PlaceholderGlobal):
            self.non_tensors[prefix or "<root>"] = f"<untrusted global {value.module}." \
                                                    f"{value.name}, not imported>"
        else:
            self.non_tensors[prefix or "<root>"] = value

    def _tensor(self, t: Tensor, key: str, context: str) -> None:
        if context == "optim":
            kind = "optim"
        elif key in self.kinds:
            kind = self.kinds[key]
        elif type(t).__name__ == "Parameter":
            kind = "param"
        else:
            kind = self.default or _kinds.by_name(key, t)
        self.entries.append(make_entry(key or "<root>", t, kind))

    def _placeholder(self, p: Placeholder, prefix: str, context: str) -> None:
        module = _module_state(p)
        if module is not None:
            self._module(module, prefix)
            return
        self.non_tensors[prefix or "<root>"] = f"<{p.global_name}(...): not executed>"
        for part, value in (("args", p.args), ("kwargs", p.kwargs), ("state", p.state),
                            ("items", p.dictitems), ("list", p.listitems)):
            if value:
                self.walk(value, _join(prefix, f"<{part}>"), context)

    def _module(self, state: dict, prefix: str) -> None:
        """A whole pickled module: its parameters, buffers and submodules, as in a state dict
        (parameters and buffers known exactly)."""
        for group, kind in (("_parameters", "param"), ("_buffers", "buffer")):
            items = state.get(group)
            for name, t in (items.items() if isinstance(items, dict) else ()):
                if isinstance(t, Tensor):
                    self.entries.append(make_entry(_join(prefix, name), t, kind))
        for name, child in state["_modules"].items():
            if isinstance(child, Placeholder) and _module_state(child) is not None:
                self._module(child.state, _join(prefix, name))
