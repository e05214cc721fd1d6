"""``gradcheck``: compare autograd's gradients with central finite differences."""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical gradients disagree."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _outputs(func: Callable, inputs: tuple) -> tuple:
    from .._tensor import Tensor
    return tuple(o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor))


def _numerical_jacobian(func, inputs, i: int, eps: float) -> list:
    """One (out.numel x in.numel) matrix per output, by central differences on input ``i``."""
    from . import grad_mode
    x = inputs[i]._data
    flat = x.reshape(-1)
    columns = []
    with grad_mode.no_grad():
        for k in range(flat.size):
            orig = flat[k].item()
            flat[k] = orig + eps
            plus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(func, inputs)]
            flat[k] = orig - eps
            minus = [o._data.astype(np.float64).reshape(-1) for o in _outputs(func, inputs)]
            flat[k] = orig
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(columns[0]) if columns else len(_outputs(func, inputs))
    return [np.stack([c[j] for c in columns], axis=1) if columns else np.zeros((0, 0))
            for j in range(n_out)]


def _analytical_jacobian(outputs: tuple, inputs: tuple, i: int) -> list:
    """One (out.numel x in.numel) matrix per output, one backward per output element."""
    from . import grad as autograd_grad
    from .._tensor import _from_array
    x = inputs[i]
    mats = []
    for out in outputs:
        rows = []
        if out._requires_grad:
            for k in range(out._data.size):
                seed = np.zeros(out._data.shape, dtype=out._data.dtype)
                seed.reshape(-1)[k] = 1
                g, = autograd_grad(out, x, _from_array(seed), retain_graph=True,
                                   allow_unused=True)
                rows.append(np.zeros(x._data.size) if g is None else
                            g._data.astype(np.float64).reshape(-1))
        else:
            rows = [np.zeros(x._data.size) for _ in range(out._data.size)]
        mats.append(np.stack(rows) if rows else np.zeros((0, x._data.size)))
    return mats


def gradcheck(func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, **kwargs) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against finite differences.

    Returns True when they agree within ``atol + rtol * |numerical|``; otherwise raises
    GradcheckError (or returns False when ``raise_exception=False``). Use float64 inputs.
    """
    from .._tensor import Tensor
    inputs = _as_tuple(inputs)
    for idx, t in enumerate(inputs):
        if isinstance(t, Tensor) and t._requires_grad and t._data.dtype != np.float64:
            warnings.warn(f"Input #{idx} requires gradient and is not a double precision "
                          "floating point or complex. This check will likely fail if all the "
                          "inputs are not of double precision floating point or complex. ")
    outputs = _outputs(func, inputs)
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x._requires_grad):
            continue
        analytical = _analytical_jacobian(outputs, inputs, i)
        numerical = _numerical_jacobian(func, inputs, i, eps)
        for j, (a, n) in enumerate(zip(analytical, numerical)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(f"Jacobian mismatch for output {j:d} with respect to input "
                                     f"{i:d},\nnumerical:{n!r}\nanalytical:{a!r}\n")
    return True
