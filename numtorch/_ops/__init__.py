"""Differentiable operations, grouped by kind, and their attachment as Tensor methods.

Each op module lists in ``FUNCTIONS`` what ``numtorch`` exports and in ``METHODS`` what becomes a
``Tensor`` method (name -> function taking the tensor first).
"""
from __future__ import annotations

from .._tensor import Tensor
from ._util import UnsupportedOperand
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


# Op modules that declare ``__all__`` (numtorch functions) and ``TENSOR_METHODS`` (method names;
# a name may map to a function of another name via ``METHOD_ALIASES``).
from . import activation, fill, indexing, linalg, pointwise, shape, stats, unary  # noqa: E402

for _mod in (elementwise, unary, fill, pointwise, reduce, stats, shape, indexing, linalg,
             activation):
    for _n in getattr(_mod, "__all__", ()):
        FUNCTIONS[_n] = getattr(_mod, _n)
    for _n in getattr(_mod, "TENSOR_METHODS", ()):
        METHODS[_n] = getattr(_mod, _n)
    for _n, _target in getattr(_mod, "METHOD_ALIASES", {}).items():
        METHODS[_n] = getattr(_mod, _target)


def _binary_operator(f, reflected=False):
    """A Python operator over ``f``; unsupported operands give NotImplemented, as Python wants."""
    if reflected:
        def op(self, other):
            try:
                return f(other, self)
            except UnsupportedOperand:
                return NotImplemented
    else:
        def op(self, other):
            try:
                return f(self, other)
            except UnsupportedOperand:
                return NotImplemented
    op.__name__ = f.__name__
    return op


def _install_operators() -> None:
    T = Tensor
    pairs = {"add": E.add, "sub": E.sub, "mul": E.mul, "truediv": E.div,
             "floordiv": E.floor_divide, "mod": E.remainder, "pow": E.pow,
             "and": E.bitwise_and, "or": E.bitwise_or, "xor": E.bitwise_xor}
    for name, f in pairs.items():
        setattr(T, f"__{name}__", _binary_operator(f))
        setattr(T, f"__r{name}__", _binary_operator(f, reflected=True))
    inplace = {"add": E.add_, "sub": E.sub_, "mul": E.mul_, "truediv": E.div_,
               "floordiv": E.floor_divide_, "mod": E.remainder_, "pow": E.pow_,
               "and": E.bitwise_and_, "or": E.bitwise_or_, "xor": E.bitwise_xor_}
    for name, f in inplace.items():
        setattr(T, f"__i{name}__", _binary_operator(f))
    for name, f in {"eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt,
                    "ge": E.ge}.items():
        setattr(T, f"__{name}__", _binary_operator(f))
    T.__neg__ = unary.neg
    T.__pos__ = lambda self: self
    T.__abs__ = unary.abs
    T.__invert__ = E.invert
    T.__hash__ = lambda self: id(self)


def install() -> None:
    """Attach every op in ``METHODS`` to Tensor, plus the Python operators."""
    for name, f in METHODS.items():
        setattr(Tensor, name, f)
    _install_operators()


install()
