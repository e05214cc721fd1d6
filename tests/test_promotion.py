"""Type promotion against torch: every dtype pair x op x (dimensioned, zero-dim, Python scalar)
operand kinds, out of place and in place (result dtype, values, and torch's cast errors)."""
import itertools

import numpy as np
import pytest
import torch

import numtorch
from harness import Raised, assert_same, call

REAL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
        "float64"]
ALL = REAL + ["complex64", "complex128"]
SCALARS = [True, 3, -2, 2.5, 1 + 2j]


def _tensor(T, name, zero_dim, seed=0):
    vals = [True, True] if name == "bool" else [3, 2] if seed else [2, 5]
    if zero_dim:
        vals = vals[0]
    return T.tensor(vals, dtype=getattr(T, name))


def _operand(T, spec):
    kind, val = spec
    if kind == "scalar":
        return val
    return _tensor(T, val, kind == "zero", seed=1)


def _pairs(dtypes, with_scalars=True):
    """(left spec, right spec) over dimensioned/zero-dim tensors and scalars on either side."""
    tensors = [(k, d) for d in dtypes for k in ("dim", "zero")]
    pairs = list(itertools.product(tensors, tensors))
    if with_scalars:
        scalars = [("scalar", s) for s in SCALARS]
        pairs += [(t, s) for t in tensors for s in scalars]
        pairs += [(s, t) for t in tensors for s in scalars]
    return pairs


def _skip(left, right):
    """torch's complex32 (ComplexHalf) has no NumPy counterpart."""
    names = {str(v) for _, v in (left, right)}
    has_half = bool(names & {"float16"})
    has_complex = bool(names & {"complex64", "complex128"}) or any(
        isinstance(v, complex) for _, v in (left, right))
    return has_half and has_complex


def _run(op, pairs, in_place=False):
    failures = []
    for left, right in pairs:
        if _skip(left, right):
            continue
        if left[0] == "scalar" and in_place:
            continue

        def body(T):
            a, b = _operand(T, left), _operand(T, right)
            if in_place:
                getattr(a, op + "_")(b)
                return a
            if left[0] == "scalar":
                return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
                        "div": lambda: a / b, "pow": lambda: a ** b,
                        "remainder": lambda: a % b, "floor_divide": lambda: a // b,
                        "eq": lambda: a == b, "lt": lambda: a < b,
                        "bitwise_and": lambda: a & b}[op]()
            return getattr(T, op)(a, b)
        expected, actual = call(body, torch), call(body, numtorch)
        try:
            assert_same(expected, actual, match_message=in_place)
        except AssertionError as e:
            failures.append(f"{left} {op} {right}: {e}")
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures[:20])


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "eq"])
def test_arithmetic_promotion_all_dtypes(op):
    _run(op, _pairs(ALL))


@pytest.mark.parametrize("op", ["remainder", "floor_divide", "lt", "maximum"])
def test_real_only_promotion(op):
    _run(op, _pairs(REAL, with_scalars=op != "maximum"))


def test_bitwise_promotion():
    _run("bitwise_and", _pairs(["bool", "uint8", "int8", "int16", "int32", "int64"]))


@pytest.mark.parametrize("op", ["add", "mul", "div", "sub"])
def test_inplace_promotion_and_cast_errors(op):
    _run(op, [p for p in _pairs(ALL) if p[0][0] != "scalar"], in_place=True)


def test_uint8_int8_and_int_division():
    def body(T):
        u = T.tensor([200, 3], dtype=T.uint8)
        i = T.tensor([-1, 2], dtype=T.int8)
        n = T.tensor([7, 8])
        return u + i, n / 2, n / n, (u + 100), (i * 100), n // 3, -n // 3
    expected, actual = call(body, torch), call(body, numtorch)
    assert_same(expected, actual)


def test_default_dtype_changes_scalar_promotion():
    def body(T):
        prev = T.get_default_dtype()
        T.set_default_dtype(T.float64)
        try:
            n = T.tensor([1, 2])
            return n * 1.5, n / 2, T.tensor([True]) + 0.5, T.tensor([1.0]).dtype
        finally:
            T.set_default_dtype(prev)
    assert_same(call(body, torch), call(body, numtorch))


def test_result_type_error_message():
    def body(T):
        x = T.tensor([1, 2])
        x += 1.5
    e, a = call(body, torch), call(body, numtorch)
    assert isinstance(a, Raised)
    assert_same(e, a, match_message=True)
    assert "result type Float can't be cast to the desired output type Long" in str(a.exc)
