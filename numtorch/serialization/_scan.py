"""The globals a pickle names, found without loading it (``get_unsafe_globals_in_checkpoint``).

``GLOBAL``/``INST`` carry their names; ``STACK_GLOBAL`` takes them from the stack, so the scan
simulates the pickle machine's stack (strings kept, everything else a blank) and its memo,
exactly as far as is needed to know which two strings ``STACK_GLOBAL`` pops.
"""
from __future__ import annotations

import _compat_pickle
import io
import pickletools

from ._storage import CheckpointError

__all__ = ["pickle_globals", "mapped_global"]

_MARK = object()
_STRING_OPS = frozenset(("STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "SHORT_BINUNICODE",
                         "BINUNICODE", "BINUNICODE8"))


def mapped_global(module: str, name: str) -> tuple[str, str]:
    """Python 2 names (``__builtin__.set``) as Python 3's, as torch's reader maps them."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class _Machine:
    """The pickle stack and memo, holding strings and blanks (None)."""

    def __init__(self) -> None:
        self.stack: list = []
        self.memo: dict = {}

    def pop(self, n: int) -> list:
        if n > len(self.stack) or any(v is _MARK for v in self.stack[len(self.stack) - n:]):
            raise CheckpointError("cannot scan the pickle: its stack underflows")
        out = self.stack[len(self.stack) - n:]
        del self.stack[len(self.stack) - n:]
        return out

    def pop_mark(self) -> None:
        while self.stack:
            if self.stack.pop() is _MARK:
                return
        raise CheckpointError("cannot scan the pickle: no MARK to pop to")

    def top(self):
        if not self.stack or self.stack[-1] is _MARK:
            raise CheckpointError("cannot scan the pickle: nothing on the stack to memoize")
        return self.stack[-1]

    def step(self, op, arg) -> None:
        name = op.name
        if name in _STRING_OPS:
            self.stack.append(arg.decode("latin-1") if isinstance(arg, bytes) else arg)
        elif name == "MARK":
            self.stack.append(_MARK)
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = self.top()
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            self.memo[arg] = self.top()
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            self.stack.append(self.memo.get(arg))
        elif name == "DUP":
            self.stack.append(self.top())
        else:
            before = [x.name for x in op.stack_before]
            if "mark" in before:
                self.pop_mark()
                self.pop(before.index("mark"))
            else:
                self.pop(len(before))
            self.stack.extend([None] * len(op.stack_after))


def pickle_globals(data: bytes) -> list[str]:
    """Every global a pickle names (``module.name``), in order of first use, without loading it."""
    found: list[str] = []
    machine = _Machine()
    try:
        for op, arg, _ in pickletools.genops(io.BytesIO(data)):
            full = None
            if op.name in ("GLOBAL", "INST"):
                module, _, name = arg.partition(" ")
                full = ".".join(mapped_global(module, name))
            elif op.name == "STACK_GLOBAL":
                module, name = machine.pop(2)
                if isinstance(module, str) and isinstance(name, str):
                    full = f"{module}.{name}"
                machine.stack.append(None)
            if op.name != "STACK_GLOBAL":
                machine.step(op, arg)
            if full is not None and full not in found:
                found.append(full)
    except CheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed pickle
        raise CheckpointError(f"cannot scan the pickle: {exc}") from None
    return found
