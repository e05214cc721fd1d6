"""Global gradient-recording mode: no_grad, enable_grad, set_grad_enabled, inference_mode."""
from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    enabled = True
    inference = False


STATE = _State()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd."""
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    """Whether inference mode is on."""
    return STATE.inference


class _GradModeContext:
    """Base for the grad-mode context managers, usable as decorators too."""

    _target = True

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__.__new__(self.__class__)._clone(self):
                return func(*args, **kwargs)
        return wrapper

    def _clone(self, other):
        self.__dict__.update(other.__dict__)
        return self

    def __enter__(self):
        self._prev = STATE.enabled
        STATE.enabled = self._target
        return None

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False


class no_grad(_GradModeContext):
    """Context manager (and decorator) in which no operation records gradients."""

    _target = False

    def __init__(self) -> None:
        pass


class enable_grad(_GradModeContext):
    """Context manager (and decorator) that turns gradient recording back on."""

    _target = True

    def __init__(self) -> None:
        pass


class set_grad_enabled(_GradModeContext):
    """Set gradient recording on or off; takes effect at once, and as a context manager reverts."""

    def __init__(self, mode: bool) -> None:
        self._prev = STATE.enabled
        self._target = bool(mode)
        STATE.enabled = self._target

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        return False


class inference_mode(_GradModeContext):
    """Like no_grad; tensors made inside are inference tensors (flagged, never recorded)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = STATE.enabled
        self._prev_inf = STATE.inference
        if self.mode:
            STATE.enabled = False
            STATE.inference = True
        return None

    def __exit__(self, *exc):
        STATE.enabled = self._prev
        STATE.inference = self._prev_inf
        return False
