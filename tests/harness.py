"""Differential testing: run one body with ``T=torch`` and ``T=numtorch`` and compare.

Use ``@differential`` on a test taking ``T`` (the module under test) and returning anything:
tensors, numbers, strings, nested tuples/lists/dicts. The decorator runs the body twice and
compares shapes, dtypes, ``requires_grad``, values (dtype-aware tolerances) and, when torch
raises, the exception type (and optionally its message).
"""
from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Mapping

import numpy as np
import torch

import numtorch

RTOL = {"float16": 1e-3, "bfloat16": 1e-2, "float32": 1e-5, "float64": 1e-10,
        "complex64": 1e-5, "complex128": 1e-10}
ATOL = {"float16": 1e-3, "bfloat16": 1e-2, "float32": 1e-6, "float64": 1e-12,
        "complex64": 1e-6, "complex128": 1e-12}


class Raised:
    """What a body raised, kept for comparison."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"Raised({type(self.exc).__name__}: {self.exc})"


def call(fn, T, *args, **kwargs):
    """``fn(T, ...)``, or ``Raised`` when it raises."""
    try:
        return fn(T, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the exception is the result under test
        return Raised(exc)


def to_numpy(t) -> np.ndarray:
    """Values of a torch or numtorch tensor as a NumPy array (bfloat16 widened)."""
    if isinstance(t, torch.Tensor):
        t = t.detach()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.cpu().numpy()
    a = t.detach()._data if isinstance(t, numtorch.Tensor) else np.asarray(t)
    if a.dtype.kind == "V" or str(a.dtype) == "bfloat16":
        a = a.astype(np.float32)
    return np.asarray(a)


def assert_same(expected, actual, *, rtol=None, atol=None, path: str = "result",
                check_grad_fn: bool = False, match_message: bool = False) -> None:
    """Assert a torch result and a numtorch result agree (recursively)."""
    kw = dict(rtol=rtol, atol=atol, check_grad_fn=check_grad_fn, match_message=match_message)
    if isinstance(expected, Raised):
        assert isinstance(actual, Raised), f"{path}: torch raised {expected!r}, numtorch returned " \
                                           f"{actual!r}"
        assert issubclass(type(actual.exc), type(expected.exc)) or \
            type(actual.exc).__name__ == type(expected.exc).__name__, \
            f"{path}: torch raised {expected!r}, numtorch raised {actual!r}"
        if match_message:  # torch's whole message, then optionally numtorch's advice
            assert str(actual.exc).startswith(str(expected.exc)), \
                f"{path}: messages differ:\n torch: {expected.exc}\n numtorch: {actual.exc}"
        return
    if isinstance(actual, Raised):
        raise AssertionError(f"{path}: numtorch raised {actual!r}, torch returned {expected!r}") \
            from actual.exc
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, numtorch.Tensor), f"{path}: expected a Tensor, got " \
                                                    f"{type(actual).__name__}"
        assert tuple(expected.shape) == tuple(actual.shape), \
            f"{path}: shape {tuple(actual.shape)} != torch's {tuple(expected.shape)}"
        assert str(expected.dtype) == str(actual.dtype), \
            f"{path}: dtype {actual.dtype} != torch's {expected.dtype}"
        assert expected.requires_grad == actual.requires_grad, \
            f"{path}: requires_grad {actual.requires_grad} != torch's {expected.requires_grad}"
        assert (type(actual).__name__ == "Parameter") == isinstance(
            expected, torch.nn.Parameter), f"{path}: Parameter-ness differs"
        if check_grad_fn:
            en = None if expected.grad_fn is None else expected.grad_fn.name()
            an = None if actual.grad_fn is None else actual.grad_fn.name()
            assert en == an, f"{path}: grad_fn {an} != torch's {en}"
        if expected.device.type != "meta":
            assert_values(to_numpy(expected), to_numpy(actual), str(expected.dtype)[6:],
                          rtol=rtol, atol=atol, path=path)
        return
    if isinstance(expected, torch.dtype):
        assert str(expected) == str(actual), f"{path}: {actual} != {expected}"
        return
    if isinstance(expected, torch.device):
        assert str(expected) == str(actual), f"{path}: {actual} != {expected}"
        return
    if isinstance(expected, torch.Size):
        assert tuple(expected) == tuple(actual), f"{path}: {actual} != {expected}"
        assert type(actual).__name__ == "Size", f"{path}: expected a Size, got {type(actual)}"
        return
    if isinstance(expected, Mapping):
        assert isinstance(actual, Mapping), f"{path}: expected a mapping, got {type(actual)}"
        assert list(expected.keys()) == list(actual.keys()), \
            f"{path}: keys {list(actual.keys())} != torch's {list(expected.keys())}"
        for k in expected:
            assert_same(expected[k], actual[k], path=f"{path}[{k!r}]", **kw)
        return
    if isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)), f"{path}: expected a sequence, got " \
                                                  f"{type(actual)}"
        assert len(expected) == len(actual), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, path=f"{path}[{i}]", **kw)
        return
    if isinstance(expected, float):
        assert type(actual) is float, f"{path}: type {type(actual).__name__} != torch's float"
        if math.isnan(expected):
            assert math.isnan(actual), f"{path}: {actual} != nan"
        else:
            assert math.isclose(expected, actual, rel_tol=1e-6 if rtol is None else rtol,
                                abs_tol=1e-9 if atol is None else atol), \
                f"{path}: {actual} != torch's {expected}"
        return
    if isinstance(expected, np.ndarray):
        assert_values(expected, np.asarray(actual), str(expected.dtype), rtol=rtol, atol=atol,
                      path=path)
        return
    if type(expected).__module__.startswith("torch"):
        assert type(expected).__name__ == type(actual).__name__, \
            f"{path}: type {type(actual).__name__} != torch's {type(expected).__name__}"
        return
    assert expected == actual, f"{path}: {actual!r} != torch's {expected!r}"
    assert type(expected) is type(actual), \
        f"{path}: type {type(actual).__name__} != torch's {type(expected).__name__}"


def assert_values(expected: np.ndarray, actual: np.ndarray, dtype_name: str, *, rtol=None,
                  atol=None, path: str = "") -> None:
    """Element values agree: exactly for integers and bools, within dtype tolerances else."""
    assert expected.shape == actual.shape, f"{path}: shape {actual.shape} != {expected.shape}"
    if dtype_name in RTOL:
        np.testing.assert_allclose(actual, expected,
                                   rtol=RTOL[dtype_name] if rtol is None else rtol,
                                   atol=atol if atol is not None else ATOL[dtype_name],
                                   equal_nan=True, err_msg=path)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=path)


def differential(fn=None, *, rtol=None, atol=None, check_grad_fn=False, match_message=False):
    """Decorator: run the body as ``body(T, ...)`` under torch and numtorch and compare."""
    def deco(body):
        @functools.wraps(body)
        def test(*args, **kwargs):
            expected = call(body, torch, *args, **kwargs)
            actual = call(body, numtorch, *args, **kwargs)
            assert_same(expected, actual, rtol=rtol, atol=atol, check_grad_fn=check_grad_fn,
                        match_message=match_message)
        sig = inspect.signature(body)
        test.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])
        del test.__wrapped__
        return test
    return deco(fn) if fn is not None else deco


def compare(body, *args, rtol=None, atol=None, check_grad_fn=False, match_message=False,
            **kwargs):
    """Run ``body(T, *args, **kwargs)`` under both modules and compare; returns both results."""
    expected = call(body, torch, *args, **kwargs)
    actual = call(body, numtorch, *args, **kwargs)
    assert_same(expected, actual, rtol=rtol, atol=atol, check_grad_fn=check_grad_fn,
                match_message=match_message)
    return expected, actual
