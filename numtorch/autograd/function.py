"""Custom differentiable operations: subclass ``Function`` with static forward and backward."""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from . import grad_mode
from .graph import _SEQUENCE, Node, saved_output

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` passed to a Function's forward and backward."""

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward; read them there as ``ctx.saved_tensors``."""
        self._to_save = tensors

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that forward modified in place (they must be returned as outputs)."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that get no gradient (they are returned with requires_grad=False)."""
        self._non_differentiable = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward receives zeros (True, the default) or None for outputs that got no
        gradient."""
        self._materialize = value


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of one call of a custom Function; also its ``ctx``."""

    _materialize = True
    _to_save = ()
    _dirty = ()
    _non_differentiable = frozenset()
    _saved_mask = None
    needs_input_grad: tuple = ()

    def __init__(self, fn_cls) -> None:
        Node.__init__(self, ())
        self._fn_cls = fn_cls
        self._out_meta = []
        self._in_meta = ()

    def name(self) -> str:
        return self._fn_cls.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<torch.autograd.function.{type(self).__name__} object at {hex(id(self))}>"

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward`` (None entries kept)."""
        if self._saved is None and not self._freed:
            return tuple(self._to_save)
        saved = iter(self.saved_tensors_checked())
        return tuple(next(saved) if present else None for present in self._saved_mask)

    def _materialized(self, grads) -> list:
        from .._tensor import _from_array
        wrapped = []
        for g, (shape, dt, dev) in zip(grads, self._out_meta):
            if g is None and self._materialize and dt is not None:
                g = np.zeros(shape, dtype=dt)
            wrapped.append(None if g is None else _from_array(g, device=dev))
        return wrapped

    def backward(self, *grads):
        with grad_mode.no_grad():
            res = self._fn_cls.backward(self, *self._materialized(grads))
        if not isinstance(res, tuple):
            res = (res,)
        n_inputs = len(self.next_functions)
        if len(res) != n_inputs:
            if len(res) < n_inputs or any(r is not None for r in res[n_inputs:]):
                raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                                   f"gradients (expected {n_inputs}, got {len(res)})")
            res = res[:n_inputs]
        return tuple(self._input_grad(i, r) for i, r in enumerate(res))

    def _input_grad(self, i: int, r):
        is_tensor, shape, dt = self._in_meta[i]
        if r is None:
            return None
        if not is_tensor:
            raise RuntimeError(f"function {self.name()} returned a gradient different than None "
                               f"at position {i + 1}, but the corresponding forward input was "
                               "not a Variable")
        if self.next_functions[i][0] is None:
            return None
        arr = r._data
        if arr.shape != shape:
            from .._ops._util import unbroadcast
            try:
                np.broadcast_shapes(arr.shape, shape)
                if len(arr.shape) < len(shape):
                    raise ValueError
                arr = unbroadcast(arr, shape)
            except ValueError:
                raise RuntimeError(
                    f"Function {self.name()} returned an invalid gradient at index {i} - got "
                    f"{list(r.shape)} but expected shape compatible with {list(shape)}") from None
        return arr if arr.dtype == dt else arr.astype(dt)


def once_differentiable(fn: Callable) -> Callable:
    """Mark a Function's backward as not itself differentiable (it runs without recording)."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            return fn(ctx, *args)
    return wrapper


class Function:
    """Base class for custom ops: define ``forward(ctx, *args)`` and ``backward(ctx, *grads)``
    as static methods and call ``MyFunction.apply(*args)``. (Or ``forward(*args)`` plus
    ``setup_context(ctx, inputs, output)``, as torch allows.)"""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    def __init__(self, *args, **kwargs) -> None:
        import warnings
        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions "
                      "are all static, so you should invoke them on the class itself. "
                      "Instantiating an autograd function will raise an error in a future "
                      "version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: https://pytorch.org/docs/stable/autograd."
                           "html#torch.autograd.Function)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` without recording, then record one node for all its outputs."""
        from .._tensor import Tensor
        node = _backward_class(cls)(cls)
        needs = grad_mode.STATE.enabled and any(
            isinstance(a, Tensor) and a._requires_grad for a in args)
        node.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad and needs
                                      for a in args)
        with grad_mode.no_grad():
            if cls.setup_context is Function.setup_context:
                outputs = cls.forward(node, *args, **kwargs)
            else:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, outputs)
        if not needs:
            _bump_dirty(node)
            return outputs
        return _record(cls, node, args, outputs)


def _backward_class(cls) -> type:
    """The node class of a Function, named as torch names it (``SqBackward`` for ``Sq``)."""
    node_cls = cls.__dict__.get("_backward_cls")
    if node_cls is None:
        node_cls = type(cls.__name__ + "Backward", (BackwardCFunction,),
                        {"__slots__": (), "__module__": __name__, "_forward_cls": cls})
        cls._backward_cls = node_cls
    return node_cls


def _bump_dirty(node: BackwardCFunction) -> None:
    for t in node._dirty:
        t._bump()


def _record(cls, node: BackwardCFunction, args: tuple, outputs):
    """Make ``node`` the grad_fn of the differentiable tensor outputs."""
    from .._tensor import Tensor, edge, _from_array
    is_tuple = isinstance(outputs, tuple)
    outs = outputs if is_tuple else (outputs,)
    node.num_outputs = len(outs)
    node.next_functions = tuple(edge(a) if isinstance(a, Tensor) else (None, 0) for a in args)
    node._seq = next(_SEQUENCE)
    node._in_meta = tuple((True, a._data.shape, a._data.dtype) if isinstance(a, Tensor) else
                          (False, (), None) for a in args)
    dirty_ids = {id(t) for t in node._dirty}
    for t in node._dirty:
        if t._requires_grad and t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                               "operation.")
        t._bump()
    input_ids = {id(a) for a in args if isinstance(a, Tensor)}
    result = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            node._out_meta.append(((), None, None))
            result.append(o)
            continue
        node._out_meta.append((o._data.shape, o._data.dtype, o._device))
        if id(o) in node._non_differentiable or o._data.dtype.kind not in "fcV":
            result.append(o)
            continue
        if id(o) in input_ids and id(o) not in dirty_ids:
            alias = _from_array(o._data, device=o._device)
            alias._vc = o._shared_vc()
            o = alias
        o.grad_fn = node
        o._output_nr = i
        o._requires_grad = True
        result.append(o)
    to_save = node._to_save
    if to_save:
        node._saved_mask = tuple(t is not None for t in to_save)
        node.save(*[t for t in to_save if t is not None])
        own = {id(o) for o in result if isinstance(o, Tensor) and o.grad_fn is node}
        if own:  # aliases for saved outputs: no node <-> output reference cycle
            node._saved = tuple(saved_output(t) if id(t) in own else t for t in node._saved)
        node._to_save = ()
    return tuple(result) if is_tuple else result[0]
