"""Automatic differentiation: backward, grad, grad modes and custom Functions."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .function import Function, FunctionCtx
from . import graph

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "graph"]


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _root_grads(outputs: tuple, grad_outputs: tuple) -> list:
    from .._tensor import Tensor
    grads = []
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one gradient per output: got {len(grad_outputs)} "
                           f"gradients for {len(outputs)} outputs")
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs else None
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind not in "fV":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs "
                                   f"but got {out.dtype}")
            grads.append(np.ones(out._data.shape, dtype=out._data.dtype))
        else:
            arr = g._data if isinstance(g, Tensor) else np.asarray(g, dtype=out._data.dtype)
            if arr.shape != out._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {_shape(arr)} and "
                    f"output[{i}] has a shape of {_shape(out._data)}.")
            grads.append(arr)
    return grads


def _shape(a) -> str:
    return f"torch.Size({list(a.shape)!r})"


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves they depend on."""
    if create_graph:
        raise NotImplementedError("numtorch does not support create_graph=True (higher-order "
                                  "gradients); compute them with torch")
    outputs = _as_tuple(tensors)
    grads = _root_grads(outputs, _as_tuple(grad_tensors))
    if inputs is not None:
        ins = _as_tuple(inputs)
        res = graph.run_backward(outputs, grads, bool(retain_graph), inputs=ins)
        for t, g in zip(ins, res):
            if g is None:
                continue
            from .._tensor import _from_array
            if t._grad is None:
                t._grad = _from_array(np.array(g, dtype=t._data.dtype).reshape(t._data.shape))
            else:
                t._grad._data = t._grad._data + g
        return
    graph.run_backward(outputs, grads, bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated)."""
    from .._tensor import Tensor, _from_array
    if create_graph:
        raise NotImplementedError("numtorch does not support create_graph=True (higher-order "
                                  "gradients); compute them with torch")
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    for t in ins:
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_grads(outs, _as_tuple(grad_outputs))
    res = graph.run_backward(outs, grads, bool(retain_graph), inputs=ins)
    result = []
    for i, (t, g) in enumerate(zip(ins, res)):
        if g is None:
            if materialize_grads:
                result.append(_from_array(np.zeros_like(t._data)))
                continue
            if not allow_unused and not materialize_grads:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            result.append(None)
        else:
            result.append(_from_array(np.array(g, dtype=t._data.dtype).reshape(t._data.shape),
                                      device=t._device))
    return tuple(result)
