"""Global gradient-recording mode: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each is a context manager and a decorator (``@no_grad()``; ``@no_grad``, ``@enable_grad`` and
``@inference_mode`` also work without parentheses, as in torch).
"""
from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "is_inference"]


class _State(threading.local):
    enabled = True
    inference = False


STATE = _State()

# How many inference_mode(True) blocks are open in any thread: tensor creation looks at this
# plain list first (cheap), and at the thread's own STATE.inference only when it is non-zero.
INFERENCE_OPEN = [0]


class InferenceVersion:
    """The version counter of every tensor made in inference mode: torch keeps none for them,
    refuses to save them for backward and to change them in place outside the mode."""

    __slots__ = ()

    def __getitem__(self, index):      # read by Node.save when an op saves the tensor
        raise RuntimeError(
            "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
            "inference mode in computation tracked by autograd. To work around this, you can make "
            "a clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` "
            "instead of `torch.inference_mode()`.")

    def bump(self) -> None:
        """Check an in-place change (inference tensors track no version)."""
        if not STATE.inference:
            raise RuntimeError(
                "Inplace update to inference tensor outside InferenceMode is not allowed.You can "
                "make a clone to get a normal tensor before doing inplace update.See "
                "https://github.com/pytorch/rfcs/pull/17 for more details.")


INFERENCE_VERSION = InferenceVersion()


def mark_if_inference(t) -> None:
    """Make ``t`` an inference tensor when this thread is in inference mode (called only while
    ``INFERENCE_OPEN[0]``)."""
    if STATE.inference:
        t._vc = INFERENCE_VERSION


def is_inference(input) -> bool:
    """Whether ``input`` was created in inference mode."""
    return input._vc is INFERENCE_VERSION


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd."""
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    """Whether inference mode is on."""
    return STATE.inference


def _set_enabled(mode: bool) -> None:
    STATE.enabled = bool(mode)


class _GradModeContext:
    """Base for the grad-mode context managers; calling an instance on a function decorates it
    so every call (or, for a generator, every resumption) runs inside a fresh copy."""

    def clone(self):
        return self.__class__()

    def __call__(self, func: Callable) -> Callable:
        if inspect.isclass(func):
            raise RuntimeError("Decorating classes is deprecated and will be disabled in future "
                               "versions. You should only decorate functions or methods. To "
                               "preserve the current behavior of class decoration, you can "
                               "directly decorate the `__init__` method and nothing else.")
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with self.clone():
                    response = gen.send(None)
                while True:
                    request = yield response
                    with self.clone():
                        response = gen.send(request)
            except StopIteration as e:
                return e.value
        return wrapper


class _NoParamContext(_GradModeContext):
    """A grad mode taking no argument: ``@mode`` works like ``@mode()``."""

    def __new__(cls, orig_func: Callable | None = None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamContext):
    """Context manager (and decorator) in which no operation records gradients."""

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = STATE.enabled
        STATE.enabled = False

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled = self.prev


class enable_grad(_NoParamContext):
    """Context manager (and decorator) that turns gradient recording back on."""

    def __enter__(self) -> None:
        self.prev = STATE.enabled
        STATE.enabled = True

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled = self.prev


class set_grad_enabled(_GradModeContext):
    """Set gradient recording on or off; takes effect at once, and as a context manager or
    decorator restores the previous mode afterwards."""

    def __init__(self, mode: bool) -> None:
        self.prev = STATE.enabled
        self.mode = mode
        _set_enabled(mode)

    def __call__(self, orig_func: Callable) -> Callable:
        _set_enabled(self.prev)
        return super().__call__(orig_func)

    def clone(self) -> "set_grad_enabled":
        return self.__class__(self.mode)

    def __enter__(self) -> None:
        _set_enabled(self.mode)

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled = self.prev

    def __repr__(self) -> str:
        return f"torch.autograd.grad_mode.set_grad_enabled(mode={self.mode})"


class inference_mode(_GradModeContext):
    """Like no_grad; tensors created inside are inference tensors (``Tensor.is_inference()``),
    which autograd refuses to save and which cannot change in place outside the mode."""

    def __new__(cls, mode: bool | Callable = True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def clone(self) -> "inference_mode":
        return self.__class__(self.mode)

    def __enter__(self) -> None:
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = not self.mode
        STATE.inference = bool(self.mode)
        if self.mode:
            INFERENCE_OPEN[0] += 1

    def __exit__(self, *exc: Any) -> None:
        STATE.enabled, STATE.inference = self._prev
        if self.mode:
            INFERENCE_OPEN[0] -= 1
