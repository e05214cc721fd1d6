"""torch's argument-parser errors ("received an invalid combination of arguments")."""
from __future__ import annotations

__all__ = ["type_desc", "invalid_combination"]

# which Python types torch's parser counts as matching a parameter type when it explains a failure
_MATCHES = {"int": ("int",), "float": ("float", "int"), "Tensor": ("Tensor",),
            "str": ("str",), "torch.device": ("torch.device",)}


def _name(obj) -> str:
    from ._tensor import Tensor
    if isinstance(obj, Tensor):
        return "Tensor"
    return type(obj).__name__


def type_desc(obj) -> str:
    """How torch describes an argument in its errors: ``int``, ``tuple of (int, int)``,
    ``tuple of (int,)``, ``list of [float]``."""
    if isinstance(obj, tuple):
        return "tuple of (" + ", ".join(_name(x) for x in obj) + (",)" if len(obj) == 1 else ")")
    if isinstance(obj, list):
        return "list of [" + ", ".join(_name(x) for x in obj) + "]"
    return _name(obj)


def _matches(param_type: str, obj) -> bool:
    return _name(obj) in _MATCHES.get(param_type, ())


def invalid_combination(fn: str, args: tuple, signatures: list) -> TypeError:
    """torch's TypeError for ``fn(*args)`` matching none of ``signatures``; each signature is a
    list of ``(type, name)`` pairs (``("tuple of ints", "source")``)."""
    lines = [f"{fn}() received an invalid combination of arguments - got "
             f"({', '.join(_name(a) for a in args)}), but expected one of:"]
    for sig in signatures:
        lines.append(" * (" + ", ".join(f"{t} {n}" for t, n in sig) + ")")
        marked = [type_desc(a) if _matches(t, a) else f"!{type_desc(a)}!"
                  for (t, _), a in zip(sig, args)]
        lines.append("      didn't match because some of the arguments have invalid types: (" +
                     ", ".join(marked) + ")")
    return TypeError("\n".join(lines) + "\n")
