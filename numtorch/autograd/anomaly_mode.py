"""Anomaly detection: with it on, backward raises as soon as a node returns NaN gradients."""
from __future__ import annotations

import warnings

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]


class _Anomaly:
    enabled = False
    check_nan = True


STATE = _Anomaly()


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return STATE.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks backward outputs for NaN."""
    return STATE.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off."""
    STATE.enabled = bool(enabled)
    STATE.check_nan = bool(check_nan)


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on; warns that it is slow."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = STATE.enabled
        self.check_nan = check_nan
        self.prev_check_nan = STATE.check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off at once; as a context manager, restore it afterwards."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = STATE.enabled
        self.prev_check_nan = STATE.check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args: object) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)
