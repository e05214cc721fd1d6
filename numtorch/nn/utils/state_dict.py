"""State-dict helpers: strip or add a key prefix, and explain why a load failed.

``load_state_dict`` appends ``diagnose_load_failure``'s text to torch's error message, so the
two most common mistakes, a checkpoint saved from a wrapped model (``module.`` from
DataParallel, ``_orig_mod.`` from ``torch.compile``, ``model.`` from a training wrapper) and a
renamed attribute, come with the fix.
"""
from __future__ import annotations

import difflib
import re
from collections import OrderedDict, namedtuple
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present", "strip_prefix", "add_prefix",
           "diagnose_load_failure"]

_MAX_PAIRS = 10


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


def _candidate_prefixes(keys: Iterable[str]) -> list[str]:
    """Dotted prefixes shared by all ``keys``, shortest first (``"module."``, ``"a.b."``)."""
    keys = list(keys)
    if not keys:
        return []
    shared = keys[0].split(".")[:-1]
    for key in keys[1:]:
        parts = key.split(".")[:-1]
        n = 0
        while n < min(len(shared), len(parts)) and shared[n] == parts[n]:
            n += 1
        shared = shared[:n]
    return [".".join(shared[:i]) + "." for i in range(1, len(shared) + 1)]


def _prefix_explains(prefixed: list[str], plain: list[str]) -> str | None:
    """The prefix that, removed from all of ``prefixed``, yields every key of ``plain``."""
    wanted = set(plain)
    for prefix in _candidate_prefixes(prefixed):
        if wanted and wanted <= {key[len(prefix):] for key in prefixed}:
            return prefix
    return None


def _renamed_pairs(missing_keys: list[str], unexpected_keys: list[str]) -> list[tuple[str, str]]:
    """``(unexpected, missing)`` pairs that look like one key renamed: same module path and a
    similar name, or same name and a similar module path."""
    pairs = []
    remaining = list(unexpected_keys)
    for key in missing_keys:
        scored = [(_rename_similarity(candidate, key), candidate) for candidate in remaining]
        best = max(scored, default=(0.0, ""))
        if best[0] >= 0.6:
            pairs.append((best[1], key))
            remaining.remove(best[1])
    return pairs


def _rename_similarity(old: str, new: str) -> float:
    old_path, _, old_name = old.rpartition(".")
    new_path, _, new_name = new.rpartition(".")
    if old_path == new_path:
        return difflib.SequenceMatcher(None, old_name, new_name).ratio()
    if old_name == new_name:
        return difflib.SequenceMatcher(None, old_path, new_path).ratio()
    return 0.0


def diagnose_load_failure(model: Any, missing_keys: list[str], unexpected_keys: list[str],
                          error_msgs: list[str]) -> str:
    """Text to append to a failed ``load_state_dict`` message ("" when nothing stands out).

    Looks for: every key off by a common prefix (to strip or to add); keys that look renamed,
    paired with their closest match; checkpoint keys naming non-persistent buffers (never
    loaded); size mismatches that are transposes, or resized layers to leave out."""
    non_persistent = _non_persistent_keys(model, unexpected_keys)
    unexpected_keys = [key for key in unexpected_keys if key not in non_persistent]
    findings = _prefix_findings(missing_keys, unexpected_keys)
    if not findings:
        pairs = _renamed_pairs(missing_keys, unexpected_keys)
        findings += _renamed_findings(pairs)
        renamed = {key for pair in pairs for key in pair}
        findings += _subtree_findings(model, [k for k in missing_keys if k not in renamed],
                                      [k for k in unexpected_keys if k not in renamed])
    findings += _non_persistent_findings(non_persistent)
    findings += _mismatch_findings(error_msgs)
    if not findings:
        return ""
    return "\n\nnumtorch diagnosis:\n" + "\n".join("- " + text for text in findings)


def _prefix_findings(missing_keys: list[str], unexpected_keys: list[str]) -> list[str]:
    if not missing_keys or not unexpected_keys:
        return []
    prefix = _prefix_explains(unexpected_keys, missing_keys)
    if prefix is not None:
        return [f"every missing key is in the checkpoint with the extra prefix '{prefix}' (a "
                "checkpoint saved from a wrapped model: DataParallel/DistributedDataParallel "
                "add 'module.', torch.compile adds '_orig_mod.'). Strip it before loading: "
                "numtorch.nn.utils.consume_prefix_in_state_dict_if_present(state_dict, "
                f"'{prefix}') (in place), or state_dict = numtorch.nn.utils.strip_prefix("
                f"state_dict, '{prefix}')."]
    prefix = _prefix_explains(missing_keys, unexpected_keys)
    if prefix is not None:
        return [f"the checkpoint holds the keys of the submodule '{prefix[:-1]}' without the "
                f"prefix '{prefix}'. Load it into that submodule: model.get_submodule("
                f"'{prefix[:-1]}').load_state_dict(state_dict), or add the prefix: "
                f"state_dict = numtorch.nn.utils.add_prefix(state_dict, '{prefix}')."]
    return []


def _renamed_findings(pairs: list[tuple[str, str]]) -> list[str]:
    if not pairs:
        return []
    lines = [f'\t"{old}" -> "{new}"' for old, new in pairs[:_MAX_PAIRS]]
    if len(pairs) > _MAX_PAIRS:
        lines.append(f"\t... and {len(pairs) - _MAX_PAIRS} more")
    return ["these checkpoint keys look renamed (checkpoint key -> closest model key); rename "
            "them before loading, e.g. state_dict[new] = state_dict.pop(old):\n"
            + "\n".join(lines)]


def _subtree_findings(model: Any, missing_keys: list[str],
                      unexpected_keys: list[str]) -> list[str]:
    """Whole submodules present on one side only: checkpoint state for submodules the model
    lacks (a pretraining head), and model submodules the checkpoint has nothing for (a new
    head)."""
    module_names = {name for name, _ in model.named_modules(remove_duplicate=False)}
    extra = _dedupe(_first_absent_module(key, module_names) for key in unexpected_keys)
    missing = set(missing_keys)
    present = [key for key in model.state_dict() if key not in missing]
    untouched = _dedupe(path for path in (key.rpartition(".")[0] for key in missing_keys)
                        if path and not any(k.startswith(path + ".") for k in present))
    untouched = [p for p in untouched if not any(p.startswith(q + ".") for q in untouched)]
    findings = []
    if extra := [p for p in extra if p]:
        findings.append("the checkpoint has state for submodules the model does not have: "
                        + ", ".join(f"'{p}'" for p in extra[:_MAX_PAIRS]) + ". If they are "
                        "parts you do not use (a pretraining head), drop their keys or load "
                        "with strict=False.")
    if untouched:
        findings.append("the checkpoint has no state at all for the submodules "
                        + ", ".join(f"'{p}'" for p in untouched[:_MAX_PAIRS]) + ". If they are "
                        "new (a freshly added head), load with strict=False and initialise "
                        "them yourself.")
    return findings


def _first_absent_module(key: str, module_names: set) -> str:
    """The shortest dotted prefix of ``key``'s module path that is not a module of the model
    ("" when the key's module exists)."""
    parts = key.split(".")[:-1]
    for i in range(1, len(parts) + 1):
        path = ".".join(parts[:i])
        if path not in module_names:
            return path
    return ""


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _non_persistent_keys(model: Any, unexpected_keys: list[str]) -> list[str]:
    """The unexpected keys that name a buffer registered with ``persistent=False``."""
    names = {f"{path}.{name}" if path else name
             for path, module in model.named_modules(remove_duplicate=False)
             for name in module._non_persistent_buffers_set}
    return [key for key in unexpected_keys if key in names]


def _non_persistent_findings(found: list[str]) -> list[str]:
    if not found:
        return []
    shown = ", ".join(f'"{k}"' for k in found[:_MAX_PAIRS])
    return [f"{shown} {'is a' if len(found) == 1 else 'are'} non-persistent buffer"
            f"{'' if len(found) == 1 else 's'} of the model (register_buffer(..., "
            "persistent=False)): never saved nor loaded. Drop "
            f"{'it' if len(found) == 1 else 'them'} from the checkpoint (state_dict.pop(key)) "
            "or load with strict=False."]


_MISMATCH = re.compile(r"size mismatch for (\S+): copying a param with shape torch\.Size\("
                       r"\[([\d, ]*)\]\) from checkpoint, the shape in current model is "
                       r"torch\.Size\(\[([\d, ]*)\]\)\.")


def _mismatch_findings(error_msgs: list[str]) -> list[str]:
    """Size mismatches: transposed 2-D weights, and the rest (resized layers)."""
    transposed, resized = [], []
    for message in error_msgs:
        match = _MISMATCH.fullmatch(message)
        if match is None:
            continue
        key, saved, current = match.group(1), match.group(2), match.group(3)
        saved_dims = saved.split(", ")
        if len(saved_dims) == 2 and saved_dims[::-1] == current.split(", ") and saved != current:
            transposed.append(key)
        else:
            resized.append(key)
    findings = []
    if transposed:
        findings.append(", ".join(f'"{k}"' for k in transposed) + " hold the transpose of the "
                        "model's shape (weights saved as (in, out), like GPT-2's Conv1D): load "
                        "state_dict[key] = state_dict[key].t() for these keys.")
    if resized:
        findings.append(", ".join(f'"{k}"' for k in resized[:_MAX_PAIRS]) + " differ in size "
                        "from the model. If those layers were resized on purpose (a new "
                        "classifier head), drop these keys and load the rest with "
                        "strict=False.")
    return findings
