"""State-dict helpers: strip or add a key prefix, and ``load_state_dict``'s result type.

Why a load failed is explained by :mod:`.load_diagnosis` (re-exported here).
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Any

from .load_diagnosis import diagnose_load_failure

__all__ = ["consume_prefix_in_state_dict_if_present", "strip_prefix", "add_prefix",
           "diagnose_load_failure"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it expected but did not get, and the reverse."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def consume_prefix_in_state_dict_if_present(state_dict: dict, prefix: str) -> None:
    """Remove ``prefix`` from every key that starts with it, in place, as
    ``torch.nn.modules.utils.consume_prefix_in_state_dict_if_present`` does (renamed keys move
    to the end); ``_metadata`` keys are renamed alike."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if len(key) == 0:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                metadata[key[len(prefix):]] = metadata.pop(key)


def strip_prefix(state_dict: Mapping[str, Any], prefix: str) -> OrderedDict:
    """A new state dict with ``prefix`` removed from the keys that start with it (others kept),
    ``_metadata`` renamed alike."""
    out = OrderedDict((k[len(prefix):] if k.startswith(prefix) else k, v)
                      for k, v in state_dict.items())
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        bare = prefix[:-1] if prefix.endswith(".") else prefix
        out._metadata = OrderedDict(
            ("" if k == bare else k[len(prefix):] if k.startswith(prefix) else k, v)
            for k, v in metadata.items())
    return out


def add_prefix(state_dict: Mapping[str, Any], prefix: str) -> OrderedDict:
    """A new state dict with ``prefix`` put before every key (``_metadata`` alike)."""
    out = OrderedDict((prefix + k, v) for k, v in state_dict.items())
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        bare = prefix[:-1] if prefix.endswith(".") else prefix
        out._metadata = OrderedDict((prefix + k if k else bare, v) for k, v in metadata.items())
    return out
