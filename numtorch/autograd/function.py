"""Custom differentiable operations: subclass ``Function`` with static forward and backward."""
from __future__ import annotations

from typing import Any

from . import grad_mode
from .graph import Node

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """The ``ctx`` passed to a Function's forward and backward."""

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward; read them there as ``ctx.saved_tensors``."""
        self._to_save = tensors

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = value


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of one call of a custom Function; also its ``ctx``."""

    _materialize = True
    _to_save = ()
    _non_differentiable = frozenset()
    needs_input_grad: tuple = ()

    def __init__(self, fn_cls, num_outputs: int) -> None:
        Node.__init__(self, ())
        self._fn_cls = fn_cls
        self.num_outputs = num_outputs
        self._out_meta = []

    def name(self) -> str:
        return self._fn_cls.__name__ + "Backward"

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None and self._to_save:
            return self.saved_tensors_checked()
        return tuple(self.saved_tensors_checked()) if self._saved is not None else ()

    def backward(self, *grads):
        from .._tensor import _from_array
        import numpy as np
        wrapped = []
        for g, (shape, dt) in zip(grads, self._out_meta):
            if g is None and self._materialize:
                g = np.zeros(shape, dtype=dt)
            wrapped.append(None if g is None else _from_array(g))
        with grad_mode.no_grad():
            res = self._fn_cls.backward(self, *wrapped)
        if not isinstance(res, tuple):
            res = (res,)
        n_inputs = len(self.next_functions)
        if len(res) < n_inputs:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n_inputs}, got {len(res)})")
        res = [r for r, _ in zip(res, range(n_inputs))]
        out = []
        for r, (node, _), inp_shape in zip(res, self.next_functions, self._in_shapes):
            if r is None or node is None:
                out.append(None)
                continue
            arr = r._data
            if arr.shape != inp_shape:
                try:
                    from .._ops._util import unbroadcast
                    arr = unbroadcast(arr, inp_shape)
                except Exception:
                    raise RuntimeError(
                        f"Function {self.name()} returned an invalid gradient at index "
                        f"{len(out)} - got {list(r.shape)} but expected shape compatible with "
                        f"{list(inp_shape)}") from None
            out.append(arr)
        return tuple(out)


class _FunctionMeta(type):
    pass


class Function(metaclass=_FunctionMeta):
    """Base class for custom ops: define ``forward(ctx, *args)`` and ``backward(ctx, *grads)``
    as static methods and call ``MyFunction.apply(*args)``."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor, edge
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        needs = grad_mode.STATE.enabled and any(t._requires_grad for t in tensor_args)
        node = BackwardCFunction(cls, 1)
        node.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with grad_mode.no_grad():
            outputs = cls.forward(node, *args, **kwargs)
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        if not needs:
            return outputs
        node.num_outputs = len(outs)
        node.next_functions = tuple(edge(a) if isinstance(a, Tensor) else (None, 0) for a in args)
        node._in_shapes = tuple(a._data.shape if isinstance(a, Tensor) else () for a in args)
        if node._to_save:
            node.save(*[t for t in node._to_save if t is not None])
        result = []
        input_ids = {id(a) for a in tensor_args}
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                node._out_meta.append(((), None))
                result.append(o)
                continue
            node._out_meta.append((o._data.shape, o._data.dtype))
            if id(o) in node._non_differentiable:
                result.append(o)
                continue
            if id(o) in input_ids:
                o = o.view_as(o)
            o.grad_fn = node
            o._output_nr = i
            o._requires_grad = True
            result.append(o)
        return tuple(result) if is_tuple else result[0]
