"""Unpicklers for checkpoints: an allow-list one that never runs a checkpoint's code, and a trusting one.

``WeightsUnpickler`` (``weights_only=True``) resolves a global only when ``_allowlist`` allows
it; calls (REDUCE, NEWOBJ, INST, OBJ) and BUILD run only on those, each with validated
arguments. With ``unknown_globals="placeholder"`` any other global (and any tensor numtorch
cannot build) loads as an inert ``Placeholder`` recording its name, arguments and state.
``TrustingUnpickler`` (``weights_only=False``) imports what the file names, ``torch.*`` mapped
onto numtorch; it never imports torch itself.
"""
from __future__ import annotations

import codecs
import contextlib
import io
import pickle
import struct
import sys
from collections import Counter, OrderedDict
from typing import Callable

import numpy as np

from .. import _dtype as D
from . import _rebuild as R
from ._allowlist import (ALLOWED, BLOCKED_MODULES, TORCH_ONLY, add_safe_globals, allowed_global,
                         clear_safe_globals, get_safe_globals, refusal_message, safe_globals,
                         unsupported_torch_global, user_allowed)
from ._scan import mapped_global, pickle_globals
from ._storage import CheckpointError, Passthrough

__all__ = ["WeightsUnpickler", "TrustingUnpickler", "Placeholder", "PlaceholderGlobal",
           "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals",
           "allowed_global", "unsafe_globals_in_pickle", "storage_placeholder"]


class PlaceholderGlobal:
    """An untrusted global, never imported: calling it records a ``Placeholder``."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __call__(self, *args, **kwargs) -> "Placeholder":
        return Placeholder(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<untrusted global {self.module}.{self.name}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, PlaceholderGlobal) and (self.module, self.name) == \
            (other.module, other.name)

    def __hash__(self) -> int:
        return hash((self.module, self.name))


class Placeholder:
    """An inert object standing in for an instance of an untrusted global.

    ``global_name`` is ``"module.name"``; ``args``/``kwargs`` what the pickle passed to it;
    ``state`` what BUILD gave it; ``dictitems``/``listitems`` what SETITEMS/APPENDS added.
    """

    __slots__ = ("cls", "args", "kwargs", "state", "dictitems", "listitems")

    def __init__(self, cls: PlaceholderGlobal, args: tuple, kwargs: dict | None = None) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs or {}
        self.state = None
        self.dictitems: dict = {}
        self.listitems: list = []

    @property
    def global_name(self) -> str:
        return f"{self.cls.module}.{self.cls.name}"

    def __repr__(self) -> str:
        return f"Placeholder({self.global_name}, args={self.args!r}, state={self.state!r})"


def storage_placeholder(stype: PlaceholderGlobal, pid: tuple, raw: np.ndarray) -> Placeholder:
    """A storage of a class numtorch cannot build: its persistent id, ``state`` its bytes."""
    p = Placeholder(stype, tuple(pid[2:]))
    p.state = raw
    return p


def _wrap_error(exc: BaseException, record: str) -> Exception:
    if isinstance(exc, (CheckpointError, pickle.UnpicklingError)):
        return exc
    if isinstance(exc, EOFError):
        return CheckpointError(f"record '{record}': the pickle ends early (truncated file)")
    return CheckpointError(f"record '{record}': corrupt pickle ({type(exc).__name__}: {exc})")


@contextlib.contextmanager
def _user_code():
    """Errors raised in here come from code the user trusted: they reach the caller as is."""
    try:
        yield
    except (CheckpointError, Passthrough):
        raise
    except Exception as exc:  # noqa: BLE001 - the user's own error
        raise Passthrough(exc) from exc


_TEXT_CODECS = frozenset(("latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", "utf-8",
                          "utf8", "ascii"))


def _check_builtin_args(func, args: tuple) -> None:
    """Arguments of the allow-listed builtins as pickles pass them (no huge allocations)."""
    ok = True
    if func is bytearray:
        ok = args == () or (len(args) == 1 and isinstance(args[0], (bytes, bytearray))) or \
            (len(args) == 2 and isinstance(args[0], str) and args[1] in _TEXT_CODECS)
    elif func is codecs.encode:
        ok = len(args) in (1, 2, 3) and isinstance(args[0], str) and \
            all(isinstance(a, str) for a in args[1:]) and (len(args) < 2 or
                                                           args[1] in _TEXT_CODECS)
    elif func in (set, Counter, OrderedDict):
        ok = args == () or (len(args) == 1 and isinstance(args[0], (list, tuple, dict, set,
                                                                   frozenset)))
    elif func is complex:
        ok = len(args) <= 2 and all(type(a) in (int, float, str) for a in args)
    if not ok:
        raise CheckpointError(f"refusing {getattr(func, '__name__', func)}{args!r:.80} from a "
                              "checkpoint: not the arguments a pickle passes")


def _has_placeholder(args) -> bool:
    for a in args:
        if isinstance(a, (Placeholder, PlaceholderGlobal)):
            return True
        if type(a) is tuple and _has_placeholder(a):
            return True
    return False


class _Bounded:
    """A file whose ``read(n)`` allocates no more than the file holds, however large ``n``
    a hostile length field asks for."""

    _PIECE = 1 << 20

    def __init__(self, f) -> None:
        self._f = f
        self.readline = f.readline
        if hasattr(f, "readinto"):
            self.readinto = f.readinto

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n <= self._PIECE:
            return self._f.read(n)
        parts = []
        while n > 0:
            part = self._f.read(min(n, self._PIECE))
            if not part:
                break
            parts.append(part)
            n -= len(part)
        return b"".join(parts)


class WeightsUnpickler(pickle._Unpickler):
    """The ``weights_only=True`` unpickler: allow-listed globals only, no code from the file."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, *, persistent_load: Callable, numpy_ok: bool = True,
                 placeholders: bool = False, encoding: str = "utf-8", record: str = "data.pkl"):
        super().__init__(file if isinstance(file, io.BytesIO) else _Bounded(file),
                         encoding=encoding)
        self.persistent_load = persistent_load
        self._numpy_ok = numpy_ok
        self._placeholders = placeholders
        self._record = record
        self._names: dict[int, str] = {}  # id of each resolved global -> its checkpoint name
        self._keep: list = []

    def load(self):
        try:
            return super().load()
        except (CheckpointError, pickle.UnpicklingError, Passthrough):
            raise
        except Exception as exc:  # noqa: BLE001 - any failure in a hostile pickle is a corrupt file
            raise _wrap_error(exc, self._record) from exc

    def find_class(self, module: str, name: str):
        if not isinstance(module, str) or not isinstance(name, str):
            raise pickle.UnpicklingError("STACK_GLOBAL requires str")
        module, name = mapped_global(module, name)
        full = f"{module}.{name}"
        obj = None if module in BLOCKED_MODULES else allowed_global(full, self._numpy_ok)
        if obj is None:
            if self._placeholders:
                obj = PlaceholderGlobal(module, name)
            elif full in TORCH_ONLY:
                raise unsupported_torch_global(full)
            else:
                raise pickle.UnpicklingError(refusal_message(module, full))
        self._names[id(obj)] = full
        self._keep.append(obj)
        return obj

    def _check_callable(self, func, op: str):
        if id(func) not in self._names or not callable(func) or isinstance(func, D.dtype):
            raise pickle.UnpicklingError(
                f"Weights only load failed: {op} on {func!r}, which is not an allowed global")

    def _rebuild_placeholder(self, func, args):
        """In placeholder mode: a tensor numtorch cannot build, as a Placeholder (else None)."""
        if func is R.rebuild_from_type_v2 and len(args) == 4 and \
                isinstance(args[1], PlaceholderGlobal) and type(args[2]) is tuple:
            inner = self._rebuild_placeholder(args[0], args[2])
            p = Placeholder(args[1], (args[0](*args[2]) if inner is None else inner,))
            p.state = args[3]
            return p
        if _has_placeholder(args):
            return Placeholder(PlaceholderGlobal(*self._names[id(func)].rsplit(".", 1)), args)
        return None

    def _call(self, func, args, op: str):
        self._check_callable(func, op)
        if not isinstance(args, tuple):
            raise pickle.UnpicklingError(f"{op} arguments must be a tuple")
        if func is np.ndarray or func is R.PARAMETER_TYPE or func is R.TENSOR_TYPE:
            raise pickle.UnpicklingError(f"Weights only load failed: cannot call {func!r}")
        if self._placeholders and (func in R.TENSOR_FUNCS or func is R.rebuild_from_type_v2):
            result = self._rebuild_placeholder(func, args)
            if result is not None:
                return result
        _check_builtin_args(func, args)
        if user_allowed(func):
            with _user_code():
                return func(*args)
        return func(*args)

    def load_reduce(self):
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args, "REDUCE")

    dispatch[pickle.REDUCE[0]] = load_reduce

    def _new_object(self, cls, args, kwargs):
        if cls is R.PARAMETER_TYPE:
            return R.rebuild_parameter(*args, None) if len(args) == 2 else \
                R.rebuild_parameter(args[0] if args else None, True, None)
        if isinstance(cls, PlaceholderGlobal):
            return cls(*args, **kwargs)
        if isinstance(cls, type) and id(cls) in self._names and user_allowed(cls):
            with _user_code():
                return cls.__new__(cls, *args, **kwargs)
        if cls in (OrderedDict, Counter, set, bytearray) and id(cls) in self._names:
            _check_builtin_args(cls, tuple(args))
            return cls.__new__(cls, *args, **kwargs)
        raise pickle.UnpicklingError(
            "Can only create new object for nn.Parameter or classes allowlisted via "
            f"`add_safe_globals` but got {cls!r}")

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new_object(cls, args, {}))

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new_object(cls, args, kwargs))

    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def _instantiate(self, klass, args):
        self.append(self._call(klass, tuple(args), "INST/OBJ"))

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        t = type(inst)
        if t is OrderedDict:
            if not isinstance(state, dict):
                raise pickle.UnpicklingError("OrderedDict state must be a dict")
            inst.__dict__.update(state)
        elif t is Placeholder:
            inst.state = state
        elif t is np.dtype or isinstance(inst, np.dtype):
            R.check_numpy_dtype_state(inst, state)
            inst.__setstate__(state)
        elif t is np.ndarray:
            R.check_numpy_array_state(inst, state)
            inst.__setstate__(state)
        elif user_allowed(t):
            with _user_code():
                _build_user(inst, state)
        else:
            raise pickle.UnpicklingError(
                "Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                f"`add_safe_globals`, but got {t}")

    dispatch[pickle.BUILD[0]] = load_build

    def _target(self, kinds: tuple, op: str):
        obj = self.stack[-1]
        if type(obj) is Placeholder:
            return obj
        if type(obj) not in kinds and not user_allowed(type(obj)):
            raise pickle.UnpicklingError(f"Can only {op} to {kinds[0].__name__}s, but got "
                                         f"{type(obj)}")
        return obj

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        obj = self._target((dict, OrderedDict, Counter), "set items")
        (obj.dictitems if type(obj) is Placeholder else obj)[key] = value

    def load_setitems(self):
        items = self.pop_mark()
        obj = self._target((dict, OrderedDict, Counter), "set items")
        target = obj.dictitems if type(obj) is Placeholder else obj
        for i in range(0, len(items) - 1, 2):
            target[items[i]] = items[i + 1]

    def load_append(self):
        value = self.stack.pop()
        obj = self._target((list,), "append")
        (obj.listitems if type(obj) is Placeholder else obj).append(value)

    def load_appends(self):
        items = self.pop_mark()
        obj = self._target((list,), "extend")
        (obj.listitems if type(obj) is Placeholder else obj).extend(items)

    def load_additems(self):
        items = self.pop_mark()
        obj = self._target((set,), "add items")
        if type(obj) is Placeholder:
            obj.listitems.extend(items)
        else:
            obj.update(items)

    def load_bytearray8(self):
        (n,) = struct.unpack("<Q", self.read(8))
        data = self.read(n)  # no more than the file holds, never a huge empty buffer first
        if len(data) != n:
            raise pickle.UnpicklingError("pickle data was truncated")
        self.append(bytearray(data))

    dispatch[pickle.BYTEARRAY8[0]] = load_bytearray8
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.ADDITEMS[0]] = load_additems


def _build_user(inst, state) -> None:
    setstate = getattr(inst, "__setstate__", None)
    if setstate is not None and getattr(type(inst), "__setstate__", None) is not \
            getattr(object, "__setstate__", None):
        setstate(state)
        return
    slotstate = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slotstate = state
    if state:
        inst.__dict__.update(state)
    if slotstate:
        for k, v in slotstate.items():
            setattr(inst, k, v)


class _NoTorch:
    """A meta path finder that refuses to import torch (numtorch never does)."""

    def __init__(self, wanted: str) -> None:
        self.wanted = wanted

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"the checkpoint needs {self.wanted}, which imports torch; "
                              "numtorch never imports torch")
        return None


class TrustingUnpickler(pickle.Unpickler):
    """The ``weights_only=False`` unpickler: imports what the file names (runs its code).

    torch's rebuild functions and classes map onto numtorch, other ``torch.X`` names onto
    ``numtorch.X``; a ``torch`` name numtorch lacks is a clear error, never an import of torch.
    """

    def __init__(self, file, *, persistent_load: Callable, record: str = "data.pkl", **kwargs):
        kwargs.setdefault("encoding", "utf-8")
        super().__init__(file, **kwargs)
        self.persistent_load = persistent_load
        self._record = record

    def load(self):
        try:
            return super().load()
        except (CheckpointError, pickle.UnpicklingError, Passthrough):
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed file or its own code failed
            raise _wrap_error(exc, self._record) from exc

    def find_class(self, module: str, name: str):
        full = f"{module}.{name}"
        obj = ALLOWED.get(full)
        if obj is not None and obj is not R.PARAMETER_TYPE and obj is not R.TENSOR_TYPE:
            return obj
        try:
            if module == "torch" or module.startswith("torch."):
                return self._numtorch_global(module, name)
            finder = _NoTorch(full)
            sys.meta_path.insert(0, finder)
            try:
                return super().find_class(module, name)
            finally:
                sys.meta_path.remove(finder)
        except (ImportError, AttributeError) as exc:
            raise Passthrough(exc) from exc

    def _numtorch_global(self, module: str, name: str):
        full = f"{module}.{name}"
        try:
            return super().find_class("numtorch" + module[5:], name)
        except (ImportError, AttributeError):
            pass
        error = unsupported_torch_global(full)
        if error is None:
            error = CheckpointError(f"the checkpoint needs {full}, which numtorch does not have "
                                    "(numtorch never imports torch)")
        raise error


def unsafe_globals_in_pickle(data: bytes) -> list[str]:
    """The globals of a pickle that ``weights_only=True`` loading would refuse."""
    return [g for g in pickle_globals(data)
            if g.split(".", 1)[0] in BLOCKED_MODULES or allowed_global(g) is None]
