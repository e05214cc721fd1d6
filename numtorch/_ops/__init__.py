"""Differentiable operations, grouped by kind, and their attachment as Tensor methods.

Each op module lists in ``FUNCTIONS`` what ``numtorch`` exports and in ``METHODS`` what becomes a
``Tensor`` method (name -> function taking the tensor first).
"""
from __future__ import annotations

from .._tensor import Tensor
from . import creation, convert, elementwise, reduce
from . import elementwise as E
from . import reduce as R

FUNCTIONS = {}
METHODS = {}


def _export(module, names, methods=True):
    for n in names:
        f = getattr(module, n)
        FUNCTIONS[n] = f
        if methods:
            METHODS[n] = f


_export(creation, creation.__all__, methods=False)
_export(E, ["add", "sub", "mul", "div", "true_divide", "floor_divide", "pow", "maximum",
            "minimum", "eq", "ne", "lt", "le", "gt", "ge", "bitwise_and", "bitwise_or",
            "bitwise_xor", "bitwise_not", "logical_not", "logical_and", "logical_or",
            "logical_xor", "remainder", "fmod", "neg", "negative", "abs", "absolute", "sign",
            "rsub"] + list(E._UNARY))
FUNCTIONS["subtract"] = METHODS["subtract"] = E.sub
FUNCTIONS["multiply"] = METHODS["multiply"] = E.mul
FUNCTIONS["divide"] = METHODS["divide"] = E.div
FUNCTIONS["greater"] = METHODS["greater"] = E.gt
FUNCTIONS["less"] = METHODS["less"] = E.lt
for _n in ["add_", "sub_", "mul_", "div_", "pow_", "remainder_", "neg_", "abs_"] + \
        [n + "_" for n in E._UNARY]:
    METHODS[_n] = getattr(E, _n)
METHODS["negative_"] = E.neg_
_export(R, ["sum", "mean"])

# Op modules that declare ``__all__`` (numtorch functions) and ``TENSOR_METHODS`` (method names;
# a name may map to a function of another name via ``METHOD_ALIASES``).
from . import activation, indexing, linalg, shape  # noqa: E402

for _mod in (reduce, shape, indexing, linalg, activation):
    for _n in getattr(_mod, "__all__", ()):
        FUNCTIONS[_n] = getattr(_mod, _n)
    for _n in getattr(_mod, "TENSOR_METHODS", ()):
        METHODS[_n] = getattr(_mod, _n)
    for _n, _target in getattr(_mod, "METHOD_ALIASES", {}).items():
        METHODS[_n] = getattr(_mod, _target)


def _rev(f):
    def r(self, other):
        from .creation import scalar_tensor_like
        return f(scalar_tensor_like(other, self), self)
    return r


def _install_operators() -> None:
    T = Tensor
    T.__add__ = T.__radd__ = lambda self, other: E.add(self, other)
    T.__iadd__ = E.add_
    T.__sub__ = lambda self, other: E.sub(self, other)
    T.__rsub__ = lambda self, other: E.rsub(self, other)
    T.__isub__ = E.sub_
    T.__mul__ = T.__rmul__ = lambda self, other: E.mul(self, other)
    T.__imul__ = E.mul_
    T.__truediv__ = lambda self, other: E.div(self, other)
    T.__rtruediv__ = _rev(E.div)
    T.__itruediv__ = E.div_
    T.__floordiv__ = lambda self, other: E.floor_divide(self, other)
    T.__rfloordiv__ = _rev(E.floor_divide)
    T.__mod__ = lambda self, other: E.remainder(self, other)
    T.__rmod__ = _rev(E.remainder)
    T.__pow__ = lambda self, other: E.pow(self, other)
    T.__rpow__ = lambda self, other: E.pow(other, self)
    T.__ipow__ = E.pow_
    T.__neg__ = E.neg
    T.__pos__ = lambda self: self
    T.__abs__ = E.abs
    T.__invert__ = E.bitwise_not
    T.__and__ = T.__rand__ = E.bitwise_and
    T.__or__ = T.__ror__ = E.bitwise_or
    T.__xor__ = T.__rxor__ = E.bitwise_xor
    T.__eq__ = E.eq
    T.__ne__ = E.ne
    T.__lt__ = E.lt
    T.__le__ = E.le
    T.__gt__ = E.gt
    T.__ge__ = E.ge
    T.__hash__ = lambda self: id(self)


def install() -> None:
    """Attach every op in ``METHODS`` to Tensor, plus the Python operators."""
    for name, f in METHODS.items():
        setattr(Tensor, name, f)
    _install_operators()


install()
