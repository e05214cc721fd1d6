"""Argument helpers of the layers at torch's path ``torch.nn.modules.utils``: ``_single``,
``_pair``, ``_triple``, ``_quadruple`` (an int repeated, or any iterable as a tuple),
``_reverse_repeat_tuple``, ``_list_with_default`` and
``consume_prefix_in_state_dict_if_present``."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable

from ..utils.state_dict import consume_prefix_in_state_dict_if_present

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A function turning an iterable into a tuple and anything else into ``n`` copies."""
    def parse(x: Any) -> tuple:
        if isinstance(x, Iterable):
            return tuple(x)
        return (x,) * n
    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t: tuple, n: int) -> tuple:
    """``t`` reversed with each element repeated ``n`` times (``F.pad`` order from a padding
    tuple): ``(1, 2), 2 -> (2, 2, 1, 1)``."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults: list) -> Any:
    """``out_size`` (an int is returned as is) with each None replaced by the matching entry
    of the last ``len(out_size)`` ``defaults``."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [d if v is None else v for v, d in zip(out_size, defaults[-len(out_size):])]
