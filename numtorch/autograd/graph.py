"""The autograd graph: Node (a tensor's ``grad_fn``), AccumulateGrad, and the backward engine.

Gradients travel through the engine as NumPy arrays. The engine counts, for every node reachable
from the roots, how many edges lead into it, then runs a node once all of them have delivered
(iteratively, so deep graphs do not hit Python's recursion limit).

Hook order at a node follows torch: tensor hooks (``Tensor.register_hook``, in registration
order), then the stores of ``retain_grad``, then node pre-hooks (``Node.register_prehook``), then
``backward``, then node post-hooks (``Node.register_hook``).
"""
from __future__ import annotations

import heapq
import itertools
import sys
from typing import Callable, Sequence

import numpy as np

from .._printing_cpp import type_string
from .anomaly_mode import STATE as ANOMALY

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "run_backward"]

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through "
    "the graph a second time or if you need to access saved tensors after calling backward.")


_SEQUENCE = itertools.count()


class Node:
    """One recorded operation. ``backward(grad)`` returns one gradient (or None) per input.

    Subclasses set ``next_functions`` (a tuple of ``(node, output_nr)`` per input, ``(None, 0)``
    for inputs that need no gradient) and, when they keep tensors for backward, call
    ``save(*tensors)``; their ``backward`` reads them back with ``saved_tensors_checked()``.
    Nodes with several outputs set ``num_outputs`` and take one gradient argument per output.
    """

    __slots__ = ("next_functions", "_saved", "_versions", "_freed", "_seq", "__weakref__",
                 "__dict__")
    num_outputs = 1
    # hooks are rare: class-level None until registered (then stored in the instance dict)
    _pre_hooks = None
    _hooks = None
    _retained = None

    def __init__(self, next_functions: tuple = ()) -> None:
        self._seq = next(_SEQUENCE)
        self.next_functions = next_functions
        self._saved = None
        self._freed = False

    def name(self) -> str:
        """The node's type name, as torch prints it (``MulBackward0``)."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    @property
    def metadata(self) -> dict:
        """A dict for user data attached to this node (kept as long as the node lives)."""
        meta = self.__dict__.get("_metadata")
        if meta is None:
            meta = self.__dict__["_metadata"] = {}
        return meta

    def save(self, *tensors) -> None:
        """Keep tensors for backward, remembering their versions to detect in-place changes."""
        self._saved = tensors
        self._versions = tuple([0 if t._vc is None else t._vc[0] for t in tensors])

    def saved_tensors_checked(self) -> tuple:
        """The saved tensors; RuntimeError if freed or modified in place since they were saved."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)
        saved = self._saved
        for t, v in zip(saved, self._versions):
            vc = t._vc
            if (0 if vc is None else vc[0]) != v:
                raise RuntimeError(_modified_message(self, t, v))
        return saved

    def check_not_freed(self) -> None:
        """torch's "backward through the graph a second time" error when this node has been
        released; for a backward that needs saved non-tensor values (a scalar factor) only."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE)

    def release(self) -> None:
        """Free what backward needed (after a backward without retain_graph).

        A later backward through a node that kept anything (``save`` or a scalar it checks
        ``_freed`` for) raises torch's "backward through the graph a second time" error.
        """
        self._freed = True
        self._saved = None

    def backward(self, grad):  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def register_hook(self, hook: Callable) -> "RemovableHandle":
        """Hook called as ``hook(grad_inputs, grad_outputs)`` after this node's backward; it may
        return replacement ``grad_inputs``."""
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle.add(self._hooks, hook)

    def register_prehook(self, hook: Callable) -> "RemovableHandle":
        """Hook called as ``hook(grad_outputs)`` before this node's backward; it may return
        replacement ``grad_outputs``."""
        return self._add_tensor_hook(None, hook)

    def _add_tensor_hook(self, output_nr, hook) -> "RemovableHandle":
        """Register a pre-hook: on one output's gradient (``output_nr``, a tensor hook) or on
        all of them (``None``, a node pre-hook)."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return RemovableHandle.add(self._pre_hooks, (output_nr, hook))


def _modified_message(node: Node, t, version: int) -> str:
    producer = t.grad_fn.name() if t.grad_fn is not None else getattr(t, "_saved_from", None)
    which = "" if producer is None else \
        f", which is output {t._output_nr} of {_short_name(producer)},"
    hint = ("the backtrace further above shows the operation that failed to compute its gradient. "
            "The variable in question was changed in there or anywhere later. Good luck!"
            if ANOMALY.enabled else
            "enable anomaly detection to find the operation that failed to compute its gradient, "
            "with torch.autograd.set_detect_anomaly(True, check_nan=False).")
    return ("one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: [{t.type()} {list(t.shape)}]{which} is at version {t._version}; expected "
            f"version {version} instead. Hint: {hint} (numtorch: the operation that failed was "
            f"{node.name()}; avoid changing its inputs in place, or clone() them first.)")


def _short_name(name: str) -> str:
    """A node's name as torch's version-counter error shows it: ``MulBackward0`` -> ``Mul``,
    ``ClampBackward1`` -> ``Clamp1``, ``SqBackward`` -> ``Sq``; others unchanged."""
    head, sep, number = name.rpartition("Backward")
    if not sep or not head or (number and not number.isdigit()):
        return name
    return head + ("" if number == "0" else number)


class RemovableHandle:
    """Handle whose ``remove()`` unregisters a hook (also a context manager)."""

    _next_id = 0

    def __init__(self, hooks_dict: dict, hook_id: int) -> None:
        self.hooks_dict = hooks_dict
        self.id = hook_id

    @classmethod
    def add(cls, hooks_dict: dict, hook) -> "RemovableHandle":
        RemovableHandle._next_id += 1
        hooks_dict[RemovableHandle._next_id] = hook
        return cls(hooks_dict, RemovableHandle._next_id)

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
        self._seq = -self._seq - 1  # sinks run after every other node
        self.variable = variable

    @property
    def _pre_hooks(self):
        """The leaf's tensor hooks live on the tensor (this node may be rebuilt)."""
        return self.variable._hooks

    def _add_tensor_hook(self, output_nr, hook) -> "RemovableHandle":
        t = self.variable
        if t._hooks is None:
            t._hooks = {}
        return RemovableHandle.add(t._hooks, (output_nr, hook))

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def backward(self, grad):
        return ()

    def release(self) -> None:
        pass


# --------------------------------------------------------------------------- engine helpers
_wrap = None


def _tensor(arr):
    """A plain tensor over a gradient array (hooks see tensors)."""
    global _wrap
    if _wrap is None:
        from .._tensor import _from_array
        _wrap = _from_array
    return _wrap(arr)


def saved_output(t):
    """What a node keeps of its own output: an alias sharing data and version counter but not
    ``grad_fn`` (so output and node do not reference each other)."""
    alias = _tensor(t._data)
    if t._device is not alias._device:
        alias._device = t._device
    alias._vc = t._shared_vc()
    alias._saved_from = t.grad_fn.name() if t.grad_fn is not None else None
    alias._output_nr = t._output_nr
    return alias


def _tensors(grads) -> tuple:
    return tuple(None if g is None else _tensor(g) for g in grads)


def _hook_name(hook) -> str:
    return getattr(hook, "__name__", "<unknown>")


def _checked_result(hook, original, res):
    """The array of a hook's replacement gradient; torch's errors when it is not a tensor or
    changes the gradient's dtype or size."""
    if res is None:
        return original
    if not hasattr(res, "_data"):
        raise TypeError(f"expected Variable, but hook returned '{type(res).__name__}'")
    if original is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    data = res._data
    if data.dtype != original.dtype:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was "
                           f"{type_string(original.dtype)} got {type_string(data.dtype)})")
    if data.shape != original.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")
    return data


def _checked_results(hook, originals, res) -> list:
    """A hook's replacement tuple of gradients (arrays or None), checked as torch does."""
    if not isinstance(res, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(res).__name__}'")
    if len(res) != len(originals):
        raise RuntimeError(f"hook '{_hook_name(hook)}' has returned an incorrect number of "
                           f"values (got {len(res)}, but expected {len(originals)})")
    return [_checked_result(hook, g, r) if r is not None else None
            for g, r in zip(originals, res)]


def _run_tensor_hooks(node: Node, grads: list) -> None:
    """Tensor hooks (registered with an output number): each sees and may replace its grad."""
    for output_nr, hook in list(node._pre_hooks.values()):
        if output_nr is None:
            continue
        g = grads[output_nr]
        if g is None:
            continue
        res = hook(_tensor(g))
        if res is not None:
            grads[output_nr] = _checked_result(hook, g, res)


def _run_node_pre_hooks(node: Node, grads: list) -> None:
    for output_nr, hook in list(node._pre_hooks.values()):
        if output_nr is not None:
            continue
        res = hook(_tensors(grads))
        if res is not None:
            grads[:] = _checked_results(hook, grads, res)


def _store_retained(node: Node, grads: list) -> None:
    for output_nr, ref in list(node._retained.items()):
        t = ref()
        g = grads[output_nr]
        if t is None or g is None:
            continue
        if t._grad is None:       # a contiguous copy, as torch's retain_grad makes
            shape = t._data.shape
            grad = _tensor(np.array(g if g.shape == shape else np.broadcast_to(g, shape),
                                    dtype=t._data.dtype, order="C"))
        else:
            grad = _tensor((t._grad._data + g).astype(t._data.dtype, copy=False))
        if t._device is not grad._device:
            grad._device = t._device
        t._grad = grad


def _accumulate_leaf(node: AccumulateGrad, grad, owned: bool = False) -> None:
    """Add ``grad`` into the leaf's ``.grad`` (in place once it exists, as torch does).

    ``owned``: nothing else references ``grad`` (see :func:`_unshared`), so a first ``.grad``
    can be the array itself when it is laid out as torch would lay the copy out."""
    t = node.variable
    data = t._data
    g = t._grad
    if g is None:
        if not (owned and grad.dtype == data.dtype and grad.shape == data.shape
                and grad.flags.c_contiguous and data.flags.c_contiguous):
            grad = _new_leaf_grad(grad, data)
        g = _tensor(grad)
        if t._device is not g._device:
            g._device = t._device
        t._grad = g
    else:
        existing = g._data
        if existing.shape == data.shape and existing.flags.writeable:
            np.add(existing, grad, out=existing, casting="unsafe")
            g._bump()
        else:
            g._data = (existing + grad).astype(data.dtype, copy=False)
    if t._post_acc_hooks:
        for hook in list(t._post_acc_hooks.values()):
            hook(t)


def _new_leaf_grad(grad: np.ndarray, data: np.ndarray) -> np.ndarray:
    """A leaf's first ``.grad``: a copy laid out like the leaf when the leaf is dense (a
    permuted layout kept), else contiguous, as torch's AccumulateGrad makes it."""
    if grad.shape != data.shape:
        grad = np.broadcast_to(grad, data.shape)
    if data.flags.c_contiguous or not _dense(data):
        return np.array(grad, dtype=data.dtype, order="C")
    out = np.empty_like(data)
    np.copyto(out, grad, casting="unsafe")
    return out


def _dense(a: np.ndarray) -> bool:
    """Whether ``a``'s elements fill its memory without gaps or overlaps (in any order)."""
    expect = a.itemsize
    for stride, n in sorted((st, n) for st, n in zip(a.strides, a.shape) if n != 1):
        if stride != expect:
            return False
        expect *= n
    return True


def _root_node(t):
    fn = t.grad_fn
    if fn is not None:
        return fn, t._output_nr
    return t._grad_accumulator(), 0


def _count_dependencies(starts: list) -> tuple:
    """Incoming-edge counts of every node reachable from ``starts`` (starts count only edges
    from other reachable nodes), and each node's parents when asked."""
    deps = dict.fromkeys(starts, 0)
    stack = list(starts)
    pop, push = stack.pop, stack.append
    while stack:
        for nxt, _ in pop().next_functions:
            if nxt is None:
                continue
            d = deps.get(nxt)
            if d is None:
                deps[nxt] = 1
                push(nxt)
            else:
                deps[nxt] = d + 1
    return deps


def _needed_nodes(deps: dict, targets: set, execute_targets: bool) -> set:
    """Nodes that must run so gradient reaches ``targets``: those with a target strictly below
    them (plus the targets themselves when ``execute_targets``)."""
    parents: dict = {}
    for node in deps:
        for nxt, _ in node.next_functions:
            if nxt is not None:
                parents.setdefault(nxt, []).append(node)
    needed = set(targets) if execute_targets else set()
    stack = list(targets)
    marked = set()
    while stack:
        node = stack.pop()
        for p in parents.get(node, ()):
            if p not in marked:
                marked.add(p)
                needed.add(p)
                stack.append(p)
    return needed


def run_backward(roots: Sequence, root_grads: Sequence, retain_graph: bool,
                 inputs: Sequence | None = None, accumulate: bool = False) -> list | None:
    """Propagate ``root_grads`` (arrays) from the ``roots`` tensors' grad_fns.

    Without ``inputs``: accumulate into the ``.grad`` of every reachable leaf.
    With ``inputs`` and ``accumulate=False`` (``autograd.grad``): return their gradients as
    arrays (None where no gradient arrived) and touch no ``.grad``; only nodes on a path to an
    input run. With ``accumulate=True`` (``backward(inputs=...)``): accumulate only into those
    inputs' ``.grad`` (non-leaf inputs must retain grad).
    """
    # Nodes run in decreasing ``_seq`` order: every consumer of a node is stamped after it, so
    # all of a node's gradient has arrived when it is popped. Pending gradients are the array
    # itself for single-output nodes, a list per output otherwise.
    buffers: dict = {}
    heap = []
    for t, g in zip(roots, root_grads):
        node, nr = _root_node(t)
        if node is None:
            continue
        if node not in buffers:
            heap.append((-node._seq, node))
        _deliver(buffers, node, nr, g)
    if inputs is None:
        _drain(heap, buffers, retain_graph, None, None, None)
        return None
    captures = {}
    for i, t in enumerate(inputs):
        node, nr = _root_node(t)
        captures.setdefault(node, []).append((nr, i))
    leaf_targets = {n for n in captures if type(n) is AccumulateGrad} if accumulate else set()
    reachable = _count_dependencies([n for _, n in heap])
    needed = _needed_nodes(reachable, set(captures), False) | leaf_targets
    if accumulate:
        _drain(heap, buffers, retain_graph, needed, None, None)
        return None
    results = [None] * len(inputs)
    _drain(heap, buffers, retain_graph, needed, captures, results)
    return results


def _unshared(grad, in_grads) -> bool:
    """Whether the pending gradient ``grad`` just taken from the buffers is referenced by
    nothing but the engine (its local and ``in_grads``, the last node's results): then a leaf
    may keep it as its ``.grad`` instead of a copy, as torch's AccumulateGrad steals an
    unshared gradient. Any other reference (a tensor, a view, a hook, another pending slot)
    makes the count higher and the leaf copies."""
    if type(grad) is not np.ndarray or grad.base is not None or not grad.flags.writeable:
        return False
    return sys.getrefcount(grad) - 1 == _CALL_REFS + sum(1 for x in in_grads if x is grad)


def _references(a) -> int:
    return sys.getrefcount(a) - 1


# what a caller's local passed as an argument counts (2 on CPython 3.11), measured rather than
# assumed so that an interpreter counting differently makes the check fail, never succeed
_CALL_REFS = (lambda probe: _references(probe))(np.empty(0))


def _drain(heap: list, buffers: dict, retain_graph: bool, needed, captures, results) -> None:
    """Run nodes until no gradient is pending (see ``run_backward``)."""
    heapq.heapify(heap)
    pop, push, take = heapq.heappop, heapq.heappush, buffers.pop
    check_nan = ANOMALY.enabled and ANOMALY.check_nan
    in_grads = ()
    while heap:
        node = pop(heap)[1]
        if needed is not None or node._pre_hooks or node._retained or node._hooks:
            grads = _grads_list(node, take(node, None))
            if needed is not None:
                if node not in needed:
                    _visit_unneeded(node, grads, captures, results)
                    continue
                if captures is not None and node in captures:
                    for nr, i in captures[node]:
                        results[i] = grads[nr]
            in_grads = _execute(node, grads, retain_graph)
            if in_grads is None:  # a leaf sink
                in_grads = ()
                continue
        elif type(node) is AccumulateGrad:
            grad = take(node)
            owned = _unshared(grad, in_grads)
            _accumulate_leaf(node, grad, owned)
            continue
        else:
            in_grads = (node.backward(take(node)) if node.num_outputs == 1 else
                        node.backward(*take(node)))
            if not retain_graph:
                node.release()
        if check_nan:
            _check_nan(node, in_grads)
        for (nxt, nr), g in zip(node.next_functions, in_grads):
            if nxt is None or g is None:
                continue
            if nxt.num_outputs == 1:
                prev = buffers.get(nxt)
                if prev is None:
                    buffers[nxt] = g
                    push(heap, (-nxt._seq, nxt))
                else:
                    buffers[nxt] = prev + g
            else:
                if nxt not in buffers:
                    push(heap, (-nxt._seq, nxt))
                _deliver(buffers, nxt, nr, g)
        g = None  # no stray reference to a pending gradient (see _unshared)


def _check_nan(node: Node, in_grads) -> None:
    """Anomaly mode: torch's error when a node returned NaN gradients."""
    for i, g in enumerate(in_grads):
        if g is not None and g.dtype.kind in "fcV" and np.isnan(g).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")


def _deliver(buffers: dict, node: Node, nr: int, g) -> None:
    """Add gradient ``g`` for output ``nr`` of ``node`` to what is pending for it."""
    if node.num_outputs == 1:
        prev = buffers.get(node)
        buffers[node] = g if prev is None else prev + g
        return
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node.num_outputs
    buf[nr] = g if buf[nr] is None else buf[nr] + g


def _grads_list(node: Node, pending) -> list:
    """The pending gradients of ``node`` as one entry (array or None) per output."""
    if node.num_outputs == 1:
        return [pending]
    return pending if pending is not None else [None] * node.num_outputs


def _visit_unneeded(node: Node, grads: list, captures, results) -> None:
    """A node reached but not run: a captured one still runs its tensor hooks (torch does)."""
    if captures is None or node not in captures:
        if node._retained:
            _store_retained(node, grads)
        return
    if node._pre_hooks:
        _run_tensor_hooks(node, grads)
    if node._retained:
        _store_retained(node, grads)
    for nr, i in captures[node]:
        results[i] = grads[nr]


def _execute(node: Node, grads: list, retain_graph: bool):
    """Run one node with its hooks; the gradients for its inputs, or None for a leaf sink."""
    if node._pre_hooks:
        _run_tensor_hooks(node, grads)
    if node._retained:
        _store_retained(node, grads)
    if node._pre_hooks:
        _run_node_pre_hooks(node, grads)
    if type(node) is AccumulateGrad:
        if grads[0] is not None:
            _accumulate_leaf(node, grads[0])
        if node._hooks:
            for hook in list(node._hooks.values()):
                hook((), _tensors(grads))
        return None
    if node.num_outputs == 1:
        g = grads[0]
        in_grads = (None,) * len(node.next_functions) if g is None else node.backward(g)
    elif all(g is None for g in grads):
        in_grads = (None,) * len(node.next_functions)
    else:
        in_grads = node.backward(*grads)
    if node._hooks:
        for hook in list(node._hooks.values()):
            res = hook(_tensors(in_grads), _tensors(grads))
            if res is not None:
                in_grads = _checked_results(hook, in_grads, res)
    if not retain_graph:
        node.release()
    return in_grads
