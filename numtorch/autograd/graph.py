"""The autograd graph: Node (a tensor's ``grad_fn``), AccumulateGrad, and the backward engine.

Gradients travel through the engine as NumPy arrays; the engine walks the graph once in
topological order (iteratively, so deep graphs do not hit Python's recursion limit).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["Node", "AccumulateGrad", "run_backward"]

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through "
    "the graph a second time or if you need to access saved tensors after calling backward.")


class Node:
    """One recorded operation. ``backward(grad)`` returns one gradient (or None) per input.

    Subclasses set ``next_functions`` (a tuple of ``(node, output_nr)`` per input, ``(None, 0)``
    for inputs that need no gradient) and, when they keep tensors for backward, call
    ``save(*tensors)``; their ``backward`` reads them back with ``saved_tensors_checked()``.
    """

    __slots__ = ("next_functions", "_saved", "_versions", "_freed", "_pre_hooks", "_hooks",
                 "_retained", "__weakref__", "__dict__")
    num_outputs = 1

    def __init__(self, next_functions: tuple = ()) -> None:
        self.next_functions = next_functions
        self._saved = None
        self._freed = False
        self._pre_hooks = None
        self._hooks = None
        self._retained = None

    def name(self) -> str:
        """The node's type name, as torch prints it (``MulBackward0``)."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def save(self, *tensors) -> None:
        """Keep tensors for backward, remembering their versions to detect in-place changes."""
        self._saved = tensors
        self._versions = tuple(t._version for t in tensors)

    def saved_tensors_checked(self) -> tuple:
        """The saved tensors; RuntimeError if freed or modified in place since they were saved."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        saved = self._saved
        for i, (t, v) in enumerate(zip(saved, self._versions)):
            if t._version != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{t.type()} {list(t.shape)}], which is output 0 of "
                    f"{t.grad_fn.name() if t.grad_fn is not None else 'a leaf'}, is at version "
                    f"{t._version}; expected version {v} instead. Hint: the operation that failed "
                    "was " + self.name() + "; avoid changing its inputs in place, or clone() them "
                    "before the in-place operation.")
        return saved

    def release(self) -> None:
        """Free what backward needed (after a backward without retain_graph)."""
        if self._saved is not None:
            self._freed = True
            self._saved = None

    def backward(self, grad):  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def register_hook(self, hook: Callable) -> "RemovableHandle":
        """Hook called as ``hook(grad_inputs, grad_outputs)`` after this node's backward."""
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle.add(self._hooks, hook)

    def register_prehook(self, hook: Callable) -> "RemovableHandle":
        """Hook called as ``hook(grad_outputs)`` before this node's backward."""
        return self._add_tensor_hook(None, hook)

    def _add_tensor_hook(self, output_nr, hook) -> "RemovableHandle":
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return RemovableHandle.add(self._pre_hooks, (output_nr, hook))


class RemovableHandle:
    """Handle whose ``remove()`` unregisters a hook (also a context manager)."""

    _next_id = 0

    def __init__(self, hooks_dict: dict, hook_id: int) -> None:
        self.hooks_dict = hooks_dict
        self.id = hook_id

    @classmethod
    def add(cls, hooks_dict: dict, hook) -> "RemovableHandle":
        cls._next_id += 1
        hooks_dict[cls._next_id] = hook
        return cls(hooks_dict, cls._next_id)

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds incoming gradients into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable) -> None:
        Node.__init__(self, ())
        self.variable = variable

    def backward(self, grad):
        return ()

    def release(self) -> None:
        pass


def _run_pre_hooks(node: Node, grads: list, wrap) -> None:
    for output_nr, hook in list(node._pre_hooks.values()):
        if output_nr is None:
            res = hook(tuple(None if g is None else wrap(g) for g in grads))
            if res is not None:
                grads[:] = [None if r is None else r._data for r in res]
            continue
        g = grads[output_nr]
        if g is None:
            continue
        res = hook(wrap(g))
        if res is not None:
            grads[output_nr] = res._data


def _store_retained(node: Node, grads: list) -> None:
    for output_nr, ref in node._retained.items():
        t = ref()
        g = grads[output_nr]
        if t is None or g is None:
            continue
        if t._grad is None:
            t._grad = _wrap_grad(np.array(g, dtype=t._data.dtype), t)
        else:
            t._grad._data = t._grad._data + g


def _wrap_grad(arr, like):
    from .._tensor import _from_array
    return _from_array(arr, device=like._device)


def _accumulate_leaf(node: AccumulateGrad, grad, wrap) -> None:
    t = node.variable
    if node._pre_hooks:
        grads = [grad]
        _run_pre_hooks(node, grads, wrap)
        grad = grads[0]
    if grad is None:
        return
    dt = t._data.dtype
    if t._grad is None:
        t._grad = _wrap_grad(np.array(grad, dtype=dt, copy=True).reshape(t._data.shape), t)
    else:
        existing = t._grad._data
        if existing.shape == grad.shape and existing.flags.writeable:
            np.add(existing, grad, out=existing, casting="unsafe")
            t._grad._bump()
        else:
            t._grad = _wrap_grad((existing + grad).astype(dt, copy=False), t)
    if node._hooks:
        for hook in list(node._hooks.values()):
            hook(t)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def run_backward(roots: Sequence, root_grads: Sequence, retain_graph: bool,
                 inputs: Sequence | None = None, allow_unused: bool = True) -> list | None:
    """Propagate ``root_grads`` from the ``roots`` tensors' grad_fns.

    With ``inputs`` given (autograd.grad), returns their gradients as arrays and touches no
    ``.grad``; otherwise accumulates into every reachable leaf.
    """
    from .._tensor import _from_array as wrap
    capture = None
    if inputs is not None:
        capture = {}
        for i, t in enumerate(inputs):
            key = t.grad_fn if t.grad_fn is not None else t._grad_accumulator()
            capture.setdefault((key, t._output_nr if t.grad_fn is not None else 0), []).append(i)
    # dependency counts over the reachable graph
    deps: dict = {}
    starts = []
    buffers: dict = {}
    for t, g in zip(roots, root_grads):
        node = t.grad_fn if t.grad_fn is not None else t._grad_accumulator()
        if node is None:
            continue
        nr = t._output_nr if t.grad_fn is not None else 0
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.num_outputs
            starts.append(node)
        buf[nr] = _add(buf[nr], g)
    seen = set(starts)
    stack = list(starts)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            if nxt in seen:
                deps[nxt] += 1
            else:
                seen.add(nxt)
                deps[nxt] = 1
                stack.append(nxt)
    ready = [n for n in starts if n not in deps]
    results = [None] * len(inputs) if inputs is not None else None
    while ready:
        node = ready.pop()
        grads = buffers.pop(node, None) or [None] * node.num_outputs
        if node._pre_hooks and type(node) is not AccumulateGrad:
            _run_pre_hooks(node, grads, wrap)
        if node._retained:
            _store_retained(node, grads)
        if capture is not None:
            for nr in range(node.num_outputs):
                for i in capture.get((node, nr), ()):
                    results[i] = _add(results[i], grads[nr])
        if type(node) is AccumulateGrad:
            if capture is None:
                _accumulate_leaf(node, grads[0], wrap)
            continue
        if all(g is None for g in grads):
            in_grads = (None,) * len(node.next_functions)
        else:
            if node.num_outputs == 1:
                in_grads = node.backward(grads[0])
            else:
                in_grads = node.backward(*grads)
            if node._hooks:
                for hook in list(node._hooks.values()):
                    res = hook(tuple(None if g is None else wrap(g) for g in in_grads),
                               tuple(None if g is None else wrap(g) for g in grads))
                    if res is not None:
                        in_grads = tuple(None if r is None else r._data for r in res)
            if not retain_graph:
                node.release()
        for (nxt, nr), g in zip(node.next_functions, in_grads):
            if nxt is None:
                continue
            if g is not None:
                buf = buffers.get(nxt)
                if buf is None:
                    buf = buffers[nxt] = [None] * nxt.num_outputs
                buf[nr] = g if buf[nr] is None else buf[nr] + g
            d = deps[nxt] - 1
            deps[nxt] = d
            if d == 0:
                ready.append(nxt)
    return results
