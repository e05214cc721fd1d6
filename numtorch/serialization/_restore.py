"""``map_location``: where each loaded storage goes, with torch's rules and torch's errors.

torch tries its registered device packages in order (cpu, cuda, mps, meta, privateuse1, hpu,
xpu, mtia); on a CPU-only machine every accelerator location raises the error torch raises
there, telling the user to pass ``map_location``.
"""
from __future__ import annotations

import re
from typing import Callable

from .._device import CPU, META, device as Device
from ._storage import LoadedStorage

__all__ = ["restore_location", "default_restore", "is_meta_location"]

_CPU_ONLY_ADVICE = ("If you are running on a CPU-only machine, please use torch.load with "
                    "map_location=torch.device('cpu') to map your storages to the CPU.")


_NOT_A_STORAGE = (  # torch's words when a map_location callable returns something else
    "TypedStorage.__init__ received an invalid combination of arguments. Expected one of:\n"
    " * (*, torch.device device, torch.dtype dtype)\n"
    " * (int size, *, torch.device device, torch.dtype dtype)\n"
    " * (Sequence data, *, torch.device device, torch.dtype dtype)\n"
    " * (*, UntypedStorage wrap_storage, torch.dtype dtype)\n"
    "Argument 'wrap_storage' must be UntypedStorage, but got ")


def _matches(backend: str, location: str) -> bool:
    return location == backend or re.match(f"{backend}(:|[0-9]+)", location) is not None


def _unavailable(backend: str, location: str) -> RuntimeError:
    if backend in ("hpu", "privateuseone"):  # no such module in torch's CPU build
        return RuntimeError(f"The {backend.upper()} device module is not registered. "
                            + _CPU_ONLY_ADVICE)
    if backend == "mtia":
        return RuntimeError("Cannot execute getCurrentDevice() without MTIA backend.")
    Device(location)  # torch parses the location first: "Invalid device string: ..."
    return RuntimeError(f"Attempting to deserialize object on a {backend.upper()} device but "
                        f"torch.{backend}.is_available() is False. " + _CPU_ONLY_ADVICE)


def _check_str(location) -> None:
    if isinstance(location, str):
        return
    if isinstance(location, (bytes, bytearray)):
        raise TypeError("cannot use a string pattern on a bytes-like object")
    name = "torch.device" if isinstance(location, Device) else type(location).__name__
    raise TypeError(f"expected string or bytes-like object, got '{name}'")


def default_restore(storage: LoadedStorage, location) -> LoadedStorage:
    """Place ``storage`` at the device named by ``location`` as torch's registry would."""
    if location == "cpu":
        storage.device = CPU
        return storage
    _check_str(location)
    if _matches("cuda", location):
        raise _unavailable("cuda", location)
    if location.startswith("mps"):
        raise RuntimeError("torch.UntypedStorage(): Storage device not recognized: mps")
    if location == "meta":
        storage.device = META
        return storage
    for backend in ("privateuseone", "hpu", "xpu", "mtia"):
        if _matches(backend, location):
            raise _unavailable(backend, location)
    raise RuntimeError("don't know how to restore data location of "
                       f"torch.storage.UntypedStorage (tagged with {location})")


def restore_location(map_location) -> Callable[[LoadedStorage, str], LoadedStorage]:
    """torch's map_location rules: None, dict, str, device, or else a callable(storage, loc)."""
    if map_location is None:
        return default_restore
    if isinstance(map_location, dict):
        return lambda storage, location: default_restore(
            storage, map_location.get(location, location))
    if isinstance(map_location, (str, bytes)):
        return lambda storage, location: default_restore(storage, map_location)
    if isinstance(map_location, Device):
        target = str(map_location)
        return lambda storage, location: default_restore(storage, target)

    def by_call(storage, location):
        result = map_location(storage, location)
        if result is None:
            return default_restore(storage, location)
        if not isinstance(result, LoadedStorage):
            raise TypeError(_NOT_A_STORAGE + f"{type(result)}\nnumtorch: map_location must "
                            "return the storage it was given (moved with .cpu()/.to()) or None")
        return result
    return by_call


def is_meta_location(map_location) -> bool:
    """Whether every storage goes to the meta device (torch then reads no data)."""
    if isinstance(map_location, str):
        return map_location == "meta"
    return isinstance(map_location, Device) and map_location.type == "meta"
