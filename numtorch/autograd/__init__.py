"""Automatic differentiation: backward, grad, grad modes and custom Functions."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .function import Function, FunctionCtx, once_differentiable
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from . import anomaly_mode, functional, graph
from .gradcheck import gradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "graph",
           "once_differentiable", "detect_anomaly", "set_detect_anomaly", "gradcheck"]

_CREATE_GRAPH_MESSAGE = (
    "numtorch does not support create_graph=True (higher-order gradients): gradients are computed "
    "as NumPy arrays outside the graph. Compute higher-order gradients with torch, or by finite "
    "differences of first-order gradients.")

_Tensor = None


def _tensor_class():
    global _Tensor
    if _Tensor is None:
        from .._tensor import Tensor
        _Tensor = Tensor
    return _Tensor


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def _root_grads(outputs: tuple, grad_outputs: tuple) -> list:
    """The seed gradient (an array) of each output, checked as torch checks them."""
    Tensor = _tensor_class()
    for g in grad_outputs[:len(outputs)]:
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    grads = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"backward(): argument 'tensors' must be a tuple of Tensors, but got "
                            f"{type(out).__name__}")
        g = grad_outputs[i] if grad_outputs else None
        data = out._data
        if g is None:
            if out._requires_grad:
                if data.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if data.dtype.kind == "c":
                    raise RuntimeError("grad can be implicitly created only for real scalar "
                                       f"outputs but got {out.dtype}")
        elif not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
        elif g._data.shape != data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{_size(g._data)} and output[{i}] has a shape of {_size(data)}.")
        elif (g._data.dtype.kind == "c") != (data.dtype.kind == "c"):
            raise RuntimeError("For complex Tensors, both grad_output and output are required to "
                               f"have the same dtype. Mismatch in dtype: grad_output[{i}] has a "
                               f"dtype of {g.dtype} and output[{i}] has a dtype of {out.dtype}.")
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            grads.append(np.array(1, dtype=data.dtype) if data.ndim == 0 else
                         np.ones(data.shape, dtype=data.dtype))
        else:
            arr = g._data
            grads.append(arr if arr.dtype == data.dtype else arr.astype(data.dtype))
    return grads


def _inputs_tuple(inputs) -> tuple:
    if type(inputs) is dict:
        return tuple(inputs.values())
    return _as_tuple(inputs)


def _size(a) -> str:
    return f"torch.Size({list(a.shape)!r})"


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves they depend on
    (only into ``inputs`` when given). Frees the graph unless ``retain_graph``."""
    if create_graph:
        raise NotImplementedError(_CREATE_GRAPH_MESSAGE)
    if grad_tensors is None and grad_variables is not None:
        grad_tensors = grad_variables
    if type(tensors) is (_Tensor or _tensor_class()) and grad_tensors is None:
        data = tensors._data
        if inputs is None and tensors._requires_grad and data.size == 1 and data.dtype.kind != "c":
            seed = np.array(1, dtype=data.dtype) if not data.ndim else np.ones(data.shape,
                                                                              data.dtype)
            graph.run_backward((tensors,), (seed,), bool(retain_graph))
            return
        outputs = (tensors,)
        grads = _root_grads(outputs, ())
    else:
        outputs = _as_tuple(tensors)
        grads = _root_grads(outputs, _as_tuple(grad_tensors))
    if inputs is None:
        graph.run_backward(outputs, grads, bool(retain_graph))
        return
    ins = _inputs_tuple(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for t in ins:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        if t.grad_fn is not None:
            t.retain_grad()
    graph.run_backward(outputs, grads, bool(retain_graph), inputs=ins, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    An input the outputs do not depend on raises unless ``allow_unused`` (then None) or
    ``materialize_grads`` (then zeros).
    """
    Tensor = _tensor_class()
    if create_graph:
        raise NotImplementedError(_CREATE_GRAPH_MESSAGE)
    if is_grads_batched:
        raise NotImplementedError("numtorch does not support is_grads_batched=True; loop over "
                                  "the batch of grad_outputs instead")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads="
                         "True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outs = _as_tuple(outputs)
    ins = _inputs_tuple(inputs)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grads = _root_grads(outs, _as_tuple(grad_outputs))
    for t in ins:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): argument 'inputs' must be a tuple of Tensors, but got "
                            f"{type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    res = graph.run_backward(outs, grads, bool(retain_graph), inputs=ins)
    result = []
    for i, (t, g) in enumerate(zip(ins, res)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            result.append(_zeros_like(t) if materialize_grads else None)
            continue
        shape = t._data.shape
        arr = np.array(g if g.shape == shape else np.broadcast_to(g, shape), dtype=t._data.dtype)
        out = _wrap(arr, t)
        result.append(out)
    if type(inputs) is dict:
        return dict(zip(inputs.keys(), result))
    return tuple(result)


def _wrap(arr, like):
    from .._tensor import _from_array
    return _from_array(arr, device=like._device)


def _zeros_like(t):
    return _wrap(np.zeros_like(t._data), t)
