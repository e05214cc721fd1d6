"""Unpicklers for checkpoints: an allow-list one that never runs a checkpoint's code, and a trusting one.

``WeightsUnpickler`` (``weights_only=True``) resolves a global only when it is on the allow-list
(torch's tensor rebuilders, storage classes, dtypes, ``torch.Size``, ``torch.device``,
``OrderedDict``, plain containers, safe NumPy rebuilders) or was added with
``add_safe_globals``; calls (REDUCE, NEWOBJ, INST, OBJ) and BUILD run only on those, each with
validated arguments. With ``unknown_globals="placeholder"`` any other global loads as an inert
``Placeholder`` recording its name, arguments and state. ``TrustingUnpickler``
(``weights_only=False``) imports what the file names, mapping ``torch.*`` onto numtorch.
"""
from __future__ import annotations

import _compat_pickle
import codecs
import contextlib
import io
import pickle
import pickletools
from collections import Counter, OrderedDict
from typing import Any, Callable, Iterable

import numpy as np

from .. import _dtype as D
from .._device import device as Device
from .._tensor import Size
from . import _rebuild as R
from ._storage import CheckpointError, storage_type

__all__ = ["WeightsUnpickler", "TrustingUnpickler", "Placeholder", "PlaceholderGlobal",
           "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals",
           "allowed_global", "unsafe_globals_in_pickle"]

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely "
    "succeed, but it can result in arbitrary code execution. Do it only if you got the file from "
    "a trusted source.")


def _build_allowed() -> dict[str, Any]:
    rc: dict[str, Any] = {
        "collections.OrderedDict": OrderedDict,
        "collections.Counter": Counter,
        "torch.nn.parameter.Parameter": R.PARAMETER_TYPE,
        "torch.Size": Size,
        "torch.Tensor": R.TENSOR_TYPE,
        "torch.device": Device,
        "_codecs.encode": codecs.encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.complex": complex,
        "builtins.slice": slice,
        "builtins.range": range,
        "torch._utils._rebuild_tensor": R.rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": R.rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": R.rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": R.rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": R.rebuild_parameter_with_state,
        "torch._utils._rebuild_meta_tensor_no_storage": R.rebuild_meta_tensor_no_storage,
        "torch._tensor._rebuild_from_type_v2": R.rebuild_from_type_v2,
    }
    for d in D.ALL_DTYPES:
        rc[f"torch.{d.name}"] = d
        rc[f"torch.{d.storage_name}"] = storage_type(d.storage_name)
        rc[f"torch.cuda.{d.storage_name}"] = storage_type(d.storage_name)
    for name in ("UntypedStorage", "TypedStorage"):
        rc[f"torch.storage.{name}"] = storage_type(name)
        rc[f"torch.{name}"] = storage_type(name)
    return rc


ALLOWED: dict[str, Any] = _build_allowed()

# NumPy objects common in the wild, rebuilt by numtorch's own validating code (beyond torch)
NUMPY_ALLOWED: dict[str, Any] = {"numpy.dtype": R.numpy_dtype, "numpy.ndarray": np.ndarray}
for _core in ("numpy.core.multiarray", "numpy._core.multiarray"):
    NUMPY_ALLOWED[f"{_core}.scalar"] = R.numpy_scalar
    NUMPY_ALLOWED[f"{_core}._reconstruct"] = R.numpy_reconstruct

_USER_ALLOWED: dict[str, Any] = {}


def _qualname(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals: list) -> None:
    """Allow these globals (objects, or ``(object, "module.name")`` pairs) under weights_only."""
    for g in safe_globals:
        if isinstance(g, tuple):
            if len(g) != 2 or not isinstance(g[1], str):
                raise ValueError(f"Expected tuple of (obj, str) for safe global, got {g!r}")
            _USER_ALLOWED[g[1]] = g[0]
        else:
            _USER_ALLOWED[_qualname(g)] = g


def get_safe_globals() -> list:
    """The globals added with ``add_safe_globals`` (objects, or (object, name) when renamed)."""
    return [obj if name == _qualname(obj) else (obj, name) for name, obj in _USER_ALLOWED.items()]


def clear_safe_globals() -> None:
    """Forget every global added with ``add_safe_globals``."""
    _USER_ALLOWED.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list):
    """Context manager: allow these globals under weights_only inside the ``with`` block."""
    saved = dict(_USER_ALLOWED)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _USER_ALLOWED.clear()
        _USER_ALLOWED.update(saved)


def allowed_global(full_name: str, numpy_ok: bool = True):
    """The object a checkpoint global resolves to under weights_only, or None when refused."""
    obj = ALLOWED.get(full_name)
    if obj is None and numpy_ok:
        obj = NUMPY_ALLOWED.get(full_name)
    if obj is None:
        obj = _USER_ALLOWED.get(full_name)
    return obj


def unsupported_global_message(full_name: str) -> str:
    """torch's weights_only refusal message for ``full_name``, in numtorch's names."""
    shown = full_name[len("builtins."):] if full_name.startswith("builtins.") else full_name
    name = full_name.rsplit(".", 1)[-1]
    return (
        "Weights only load failed. This file can still be loaded, to do so you have two options, "
        "do those steps only if you trust the source of the checkpoint. "
        f"\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` please "
        "check the recommended steps in the following error message.\n\tWeightsUnpickler error: "
        f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
        f"`numtorch.serialization.add_safe_globals([{name}])` or the "
        f"`numtorch.serialization.safe_globals([{name}])` context manager to allowlist this "
        "global if you trust this class/function. Or pass unknown_globals=\"placeholder\" to "
        "numtorch.load to read the tensors and load this global as an inert Placeholder without "
        "running any of its code.")


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


_GLOBAL_OPS = {pickle.GLOBAL[0], pickle.INST[0]}


def _wrap_error(exc: BaseException, record: str) -> Exception:
    if isinstance(exc, (CheckpointError, pickle.UnpicklingError)):
        return exc
    if isinstance(exc, EOFError):
        return CheckpointError(f"record '{record}': the pickle ends early (truncated file)")
    return CheckpointError(f"record '{record}': corrupt pickle ({type(exc).__name__}: {exc})")


class WeightsUnpickler(pickle._Unpickler):
    """The ``weights_only=True`` unpickler: allow-listed globals only, no code from the file."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, *, persistent_load: Callable, numpy_ok: bool = True,
                 placeholders: bool = False, encoding: str = "ASCII", record: str = "data.pkl"):
        super().__init__(file, encoding=encoding)
        self.persistent_load = persistent_load
        self._numpy_ok = numpy_ok
        self._placeholders = placeholders
        self._record = record
        self._callables: set[int] = set()
        self._keep: list = []

    def load(self):
        try:
            return super().load()
        except (CheckpointError, pickle.UnpicklingError):
            raise
        except Exception as exc:  # noqa: BLE001 - any failure in a hostile pickle is a corrupt file
            raise _wrap_error(exc, self._record) from exc

    def find_class(self, module: str, name: str):
        if self.proto < 3:  # Python 2 names written by protocol 2 (__builtin__.set ...)
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        obj = allowed_global(full, self._numpy_ok)
        if obj is None:
            if not self._placeholders:
                raise pickle.UnpicklingError(unsupported_global_message(full))
            obj = PlaceholderGlobal(module, name)
        self._callables.add(id(obj))
        self._keep.append(obj)
        return obj

    def _check_callable(self, func, op: str):
        if id(func) not in self._callables or not callable(func) or isinstance(func, D.dtype):
            raise pickle.UnpicklingError(
                f"Weights only load failed: {op} on {func!r}, which is not an allowed global")

    def load_reduce(self):
        stack = self.stack
        args = stack.pop()
        func = stack[-1]
        self._check_callable(func, "REDUCE")
        if not isinstance(args, tuple):
            raise pickle.UnpicklingError("REDUCE arguments must be a tuple")
        if func is np.ndarray or func is R.PARAMETER_TYPE or func is R.TENSOR_TYPE:
            raise pickle.UnpicklingError(f"Weights only load failed: cannot call {func!r}")
        stack[-1] = func(*args)

    dispatch[pickle.REDUCE[0]] = load_reduce

    def _new_object(self, cls, args, kwargs):
        if cls is R.PARAMETER_TYPE:
            return R.rebuild_parameter(*args, None) if len(args) == 2 else \
                R.rebuild_parameter(args[0] if args else None, True, None)
        if isinstance(cls, PlaceholderGlobal):
            return cls(*args, **kwargs)
        if isinstance(cls, type) and id(cls) in self._callables and \
                cls in _USER_ALLOWED.values():
            return cls.__new__(cls, *args, **kwargs)
        if cls in (OrderedDict, Counter, set, frozenset, bytearray) and id(cls) in self._callables:
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
        self._check_callable(klass, "INST/OBJ")
        self.append(klass(*args))

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
        elif t in _USER_ALLOWED.values():
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
        if type(obj) not in kinds and type(obj) not in _USER_ALLOWED.values():
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


class TrustingUnpickler(pickle.Unpickler):
    """The ``weights_only=False`` unpickler: imports what the file names (runs its code).

    torch's rebuild functions and classes map onto numtorch; other ``torch.X`` names onto
    ``numtorch.X`` when numtorch has them.
    """

    def __init__(self, file, *, persistent_load: Callable, **kwargs):
        super().__init__(file, **kwargs)
        self.persistent_load = persistent_load

    def find_class(self, module: str, name: str):
        full = f"{module}.{name}"
        obj = ALLOWED.get(full)
        if obj is R.PARAMETER_TYPE or obj is R.TENSOR_TYPE:
            obj = None
        if obj is not None:
            return obj
        if module == "torch" or module.startswith("torch."):
            try:
                return super().find_class("numtorch" + module[5:], name)
            except (ImportError, AttributeError):
                pass
        return super().find_class(module, name)


def pickle_globals(data: bytes) -> list[str]:
    """Every global a pickle names (``module.name``), in order of first use, without loading it."""
    found: list[str] = []
    strings: list[str] = []
    memo: dict = {}
    n_memo = 0
    last = None  # the string the previous opcode pushed, if any
    try:
        ops = list(pickletools.genops(io.BytesIO(data)))
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"cannot scan the pickle: {exc}") from exc
    for op, arg, _ in ops:
        name = op.name
        pushed = None
        if name in ("GLOBAL", "INST"):
            g = arg.replace(" ", ".")
            if g not in found:
                found.append(g)
        elif name == "STACK_GLOBAL":
            g = ".".join(strings[-2:]) if len(strings) >= 2 else "<unknown>.<unknown>"
            if g not in found:
                found.append(g)
        elif "UNICODE" in name or name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
            pushed = str(arg)
        elif name == "MEMOIZE":
            memo[n_memo] = last
            n_memo += 1
            pushed = last
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[arg] = last
            pushed = last
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            pushed = memo.get(arg)
        if pushed is not None and name not in ("MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT"):
            strings.append(pushed)
        last = pushed
    return found


def unsafe_globals_in_pickle(data: bytes) -> list[str]:
    """The globals of a pickle that ``weights_only=True`` loading would refuse."""
    return [g for g in pickle_globals(data) if allowed_global(g) is None]
