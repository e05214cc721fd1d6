"""``autograd.functional``: first-order Jacobian-vector helpers (``vjp``, ``jacobian``).

Second-order helpers (``hessian``, ``hvp``, ``vhp``) and ``jvp`` need ``create_graph=True``,
which numtorch does not support; they raise NotImplementedError.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["vjp", "jacobian", "jvp", "hessian", "hvp", "vhp"]


def _tupled(x) -> tuple[bool, tuple]:
    return (True, tuple(x)) if isinstance(x, (tuple, list)) else (False, (x,))


def _prepared_inputs(inputs) -> tuple:
    with_grad = []
    for x in inputs:
        t = x.detach()
        t.requires_grad_(x.dtype.is_floating_point or x.dtype.is_complex)
        with_grad.append(t)
    return tuple(with_grad)


def _check_create_graph(create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError("numtorch does not support create_graph=True (higher-order "
                                  "gradients)")


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), v^T J)``: the outputs and the vector-Jacobian product."""
    from . import grad
    _check_create_graph(create_graph)
    in_is_tuple, ins = _tupled(inputs)
    ins = _prepared_inputs(ins)
    out_is_tuple, outs = _tupled(func(*ins))
    if v is None:
        if any(o._data.size != 1 for o in outs):
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        vs = None
    else:
        vs = _tupled(v)[1]
    grads = grad(outs, ins, vs, allow_unused=True, materialize_grads=True)
    detached = tuple(o.detach() for o in outs)
    return (detached if out_is_tuple else detached[0],
            tuple(grads) if in_is_tuple else grads[0])


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: for output i and input j a tensor of shape
    ``out_i.shape + in_j.shape`` (nested in tuples like the outputs and inputs)."""
    from . import grad
    from .._tensor import _from_array
    _check_create_graph(create_graph)
    if strategy != "reverse-mode":
        raise NotImplementedError("numtorch computes Jacobians in reverse mode only")
    in_is_tuple, ins = _tupled(inputs)
    ins = _prepared_inputs(ins)
    out_is_tuple, outs = _tupled(func(*ins))
    table = []
    for out in outs:
        rows = [np.zeros((out._data.size,) + x._data.shape, dtype=x._data.dtype) for x in ins]
        if out._requires_grad:
            for k in range(out._data.size):
                seed = np.zeros(out._data.shape, dtype=out._data.dtype)
                seed.reshape(-1)[k] = 1
                gs = grad(out, ins, _from_array(seed), retain_graph=True, allow_unused=True)
                for j, g in enumerate(gs):
                    if g is not None:
                        rows[j][k] = g._data
        table.append(tuple(_from_array(r.reshape(out._data.shape + x._data.shape))
                           for r, x in zip(rows, ins)))
    per_output = [row if in_is_tuple else row[0] for row in table]
    return tuple(per_output) if out_is_tuple else per_output[0]


def _second_order(name: str):
    def unsupported(*args, **kwargs):
        raise NotImplementedError(f"autograd.functional.{name} needs higher-order gradients "
                                  "(create_graph=True), which numtorch does not support")
    unsupported.__name__ = name
    unsupported.__doc__ = f"Not supported: {name} needs higher-order gradients."
    return unsupported


jvp = _second_order("jvp")
hessian = _second_order("hessian")
hvp = _second_order("hvp")
vhp = _second_order("vhp")
