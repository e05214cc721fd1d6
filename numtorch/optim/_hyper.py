"""Tensor hyper-parameters (``lr=torch.tensor(0.01)``, tensor ``betas``) in the scalar maths of
an optimizer step, computed as torch computes them.

torch keeps such a hyper-parameter a 0-d tensor, so ``lr / bias_correction1`` is tensor maths in
the tensor's dtype (float32 for ``torch.tensor(0.01)``), not Python float64 maths. A
``TensorScalar`` reproduces that: arithmetic with Python numbers keeps its dtype, with another
``TensorScalar`` promotes, powers follow torch's pow kernel, and NumPy ufuncs see it as a Python
float, so it meets a parameter array cast to the array's dtype, as torch casts a 0-d operand or a
``value=`` argument. Plain Python hyper-parameters stay Python numbers and run the same maths as
ever.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["TensorScalar", "as_tensor_value", "hyper", "lr_betas", "raw", "squeeze_scalar"]


def squeeze_scalar(x):
    """torch's ``_to_scalar``: a one-element tensor as a 0-d tensor; anything else as it is."""
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x


def hyper(x, fused: bool = False):
    """A hyper-parameter ready for a step's scalar maths: a tensor as a ``TensorScalar`` (its
    Python value for a fused group: torch's fused kernels take it as a double), anything else
    as it is."""
    if not isinstance(x, Tensor):
        return x
    if fused:
        return x.item()
    v = x._data.reshape(())[()]
    if v.dtype.kind in "biu":  # an integer lr meets floats: torch's default float dtype
        v = D.get_default_dtype().np.type(v)
    return TensorScalar(v)


def raw(x):
    """``x`` to combine with 0-d state (``mu_product``...): a ``TensorScalar``'s NumPy value,
    which promotes against it as one 0-d tensor does against another; anything else as it is."""
    return x.v if isinstance(x, TensorScalar) else x


def as_tensor_value(x):
    """The value ``torch.as_tensor(x)`` holds: a ``TensorScalar``'s own, a Python float
    rounded to the default dtype."""
    if isinstance(x, TensorScalar):
        return x.v
    return D.get_default_dtype().np.type(x)


def _sqrt(base: np.floating) -> np.floating:
    """The correctly rounded square root in ``base``'s dtype (torch's kernel; MKL's float32
    one is 1 ulp off it for some values on some CPUs)."""
    return np.sqrt(base)


def _pow(base: np.floating, exp):
    """``base ** exp`` as torch's CPU pow kernel computes it for a float tensor and a Python
    exponent: exact shortcuts for the small exponents, else ``pow`` in double, rounded."""
    kind = type(base)
    if exp == 0:
        return kind(1)
    if exp == 1:
        return base
    if exp == 0.5:
        return _sqrt(base)
    if exp == 2:
        return base * base
    if exp == 3:
        return base * base * base
    if exp == -0.5:
        return kind(1) / _sqrt(base)
    if exp == -1:
        return kind(1) / base
    if exp == -2:
        return kind(1) / (base * base)
    return kind(float(base) ** float(exp))


def _operand(x):
    """The NumPy value of an operand, or None when it is not a number this type combines with."""
    if isinstance(x, TensorScalar):
        return x.v
    if isinstance(x, (int, float)):
        return x  # NumPy treats a Python number as weak: it takes the scalar's dtype
    return None


def _binary(op, reflected: bool = False):
    def method(self, other):
        o = _operand(other)
        if o is None:
            return NotImplemented
        return TensorScalar(op(o, self.v) if reflected else op(self.v, o))
    return method


def _compare(op):
    def method(self, other):
        o = _operand(other)
        if o is None:
            return NotImplemented
        return bool(op(self.v, o))
    return method


class TensorScalar:
    """The value of a 0-d tensor in scalar maths (see the module docstring)."""

    __slots__ = ("v",)

    def __init__(self, v: np.floating) -> None:
        self.v = v

    __add__ = _binary(operator.add)
    __radd__ = _binary(operator.add, True)
    __sub__ = _binary(operator.sub)
    __rsub__ = _binary(operator.sub, True)
    __mul__ = _binary(operator.mul)
    __rmul__ = _binary(operator.mul, True)
    __truediv__ = _binary(operator.truediv)
    __lt__ = _compare(operator.lt)
    __le__ = _compare(operator.le)
    __gt__ = _compare(operator.gt)
    __ge__ = _compare(operator.ge)

    def __rtruediv__(self, other):
        o = _operand(other)
        if o is None:
            return NotImplemented
        v = self.v
        return TensorScalar((type(v)(1) / v) * o)  # torch: ``self.reciprocal() * other``

    def __pow__(self, exp):
        if not isinstance(exp, (int, float)):
            return NotImplemented
        return TensorScalar(_pow(self.v, exp))

    def __neg__(self) -> "TensorScalar":
        return TensorScalar(-self.v)

    def __abs__(self) -> "TensorScalar":
        return TensorScalar(abs(self.v))

    def __float__(self) -> float:
        return float(self.v)

    def to(self, dtype: np.dtype) -> "TensorScalar":
        """The value cast to ``dtype`` (``tensor.to(dtype)``)."""
        return TensorScalar(dtype.type(self.v))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(float(x.v) if isinstance(x, TensorScalar) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __repr__(self) -> str:
        return f"TensorScalar({self.v!r})"


def lr_betas(group: dict) -> tuple:
    """A group's ``lr`` and ``betas`` ready for a step's scalar maths (see ``hyper``)."""
    lr = group["lr"]
    beta1, beta2 = group["betas"]
    if isinstance(lr, Tensor) or isinstance(beta1, Tensor) or isinstance(beta2, Tensor):
        fused = group.get("fused")
        return hyper(lr, fused), hyper(beta1, fused), hyper(beta2, fused)
    return lr, beta1, beta2
