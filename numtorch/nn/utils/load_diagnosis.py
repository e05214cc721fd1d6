"""Why ``load_state_dict`` failed, in words: the text numtorch appends to torch's message.

The usual mistakes come with the fix: a checkpoint saved from a wrapped model (``module.`` from
DataParallel, ``_orig_mod.`` from ``torch.compile``, ``model.`` from a training wrapper), renamed
attributes (paired with their closest model key of the same shape), submodules present on one
side only, non-persistent buffers in the checkpoint, transposed or resized weights. Every step
is linear in the number of keys (a 5000-key model is diagnosed in milliseconds) and listings
follow the model's (or the checkpoint's) key order.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ._renames import Rename, find_renames

__all__ = ["diagnose_load_failure"]

_MAX_LISTED = 10


def diagnose_load_failure(model: Any, missing_keys: list[str], unexpected_keys: list[str],
                          error_msgs: list[str], state_dict: Mapping | None = None) -> str:
    """Text to append to a failed ``load_state_dict`` message ("" when nothing stands out).

    Looks for: every key off by a common prefix (to strip or to add); keys that look renamed,
    paired with their closest match of the same shape (``state_dict``, the checkpoint, gives
    the shapes; without it shapes are not compared); checkpoint keys naming non-persistent
    buffers (never loaded); size mismatches that are transposes, or resized layers."""
    modules = list(model.named_modules(remove_duplicate=False))
    non_persistent = _non_persistent_keys(modules, unexpected_keys)
    if non_persistent:
        skipped = set(non_persistent)
        unexpected_keys = [key for key in unexpected_keys if key not in skipped]
    findings = _prefix_findings(missing_keys, unexpected_keys)
    if not findings and (missing_keys or unexpected_keys):
        model_state = model.state_dict(keep_vars=True)
        renames, reshaped = find_renames(
            missing_keys, unexpected_keys, _shapes(model_state, missing_keys),
            None if state_dict is None else _shapes(state_dict, unexpected_keys))
        findings += _renamed_findings(renames) + _reshaped_findings(reshaped)
        renamed = {key for pair in renames + reshaped for key in pair[:2]}
        findings += _subtree_findings(modules, model_state,
                                      [k for k in missing_keys if k not in renamed],
                                      [k for k in unexpected_keys if k not in renamed])
    findings += _non_persistent_findings(non_persistent)
    findings += _mismatch_findings(error_msgs)
    if not findings:
        return ""
    return "\n\nnumtorch diagnosis:\n" + "\n".join("- " + text for text in findings)


def _shapes(state: Mapping, keys: list[str]) -> dict:
    """``{key: shape}`` of the tensors under ``keys`` (None for other values)."""
    shapes = {}
    for key in keys:
        shape = getattr(state.get(key), "shape", None)
        shapes[key] = None if shape is None else tuple(shape)
    return shapes


# ---------------------------------------------------------------------- common prefixes
def _candidate_prefixes(keys: list[str]) -> list[str]:
    """Dotted prefixes shared by all ``keys``, shortest first (``"module."``, ``"a.b."``)."""
    if not keys:
        return []
    shared = os.path.commonprefix(keys)
    if len(keys) == 1 or any(len(key) == len(shared) for key in (min(keys), max(keys))):
        shared = shared.rpartition(".")[0] + "."  # a whole key: keep its module path only
    ends = [i for i, c in enumerate(shared) if c == "."]
    return [shared[:i + 1] for i in ends if i > 0]


def _prefix_explains(prefixed: list[str], plain: list[str]) -> tuple[str, list, list] | None:
    """``(prefix, still_plain, still_prefixed)`` for the prefix shared by all of ``prefixed``
    that, removed, yields at least half of ``plain``; the two lists hold the keys it leaves
    unexplained (``still_prefixed`` with the prefix), in their order."""
    wanted = set(plain)
    for prefix in _candidate_prefixes(prefixed):
        stripped = {key[len(prefix):] for key in prefixed}
        found = len(wanted & stripped)
        if found and 2 * found >= len(wanted):
            return (prefix, [k for k in plain if k not in stripped],
                    [k for k in prefixed if k[len(prefix):] not in wanted])
    return None


def _leftovers(still_missing: list[str], still_unexpected: list[str]) -> str:
    if not still_missing and not still_unexpected:
        return ""
    parts = []
    for keys, what in ((still_missing, "missing"), (still_unexpected, "unexpected")):
        if keys:
            shown = ", ".join(f'"{k}"' for k in keys[:_MAX_LISTED])
            more = f" and {len(keys) - _MAX_LISTED} more" if len(keys) > _MAX_LISTED else ""
            parts.append(f"{what}: {shown}{more}")
    return " With the prefix fixed these keys still differ: " + "; ".join(parts) + "."


def _prefix_findings(missing_keys: list[str], unexpected_keys: list[str]) -> list[str]:
    if not missing_keys or not unexpected_keys:
        return []
    found = _prefix_explains(unexpected_keys, missing_keys)
    if found is not None:
        prefix, still_missing, still_unexpected = found
        share = "every missing key is" if not still_missing else \
            f"{len(missing_keys) - len(still_missing)} of the {len(missing_keys)} missing keys are"
        return [f"{share} in the checkpoint with the extra prefix '{prefix}' (a checkpoint "
                "saved from a wrapped model: DataParallel/DistributedDataParallel add "
                "'module.', torch.compile adds '_orig_mod.'). Strip it before loading: "
                "torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(state_dict, "
                f"'{prefix}') (in place; the same path works with `import numtorch as torch`), "
                f"or state_dict = numtorch.nn.utils.strip_prefix(state_dict, '{prefix}')."
                + _leftovers(still_missing, still_unexpected)]
    found = _prefix_explains(missing_keys, unexpected_keys)
    if found is not None:
        prefix, still_unexpected, still_missing = found
        return [f"the checkpoint holds the keys of the submodule '{prefix[:-1]}' without the "
                f"prefix '{prefix}'. Load it into that submodule: model.get_submodule("
                f"'{prefix[:-1]}').load_state_dict(state_dict), or add the prefix: "
                f"state_dict = numtorch.nn.utils.add_prefix(state_dict, '{prefix}')."
                + _leftovers(still_missing, still_unexpected)]
    return []


# ---------------------------------------------------------------------- renamed keys
def _listed(lines: list[str]) -> str:
    shown = lines[:_MAX_LISTED]
    if len(lines) > _MAX_LISTED:
        shown.append(f"\t... and {len(lines) - _MAX_LISTED} more")
    return "\n".join(shown)


def _renamed_findings(renames: list[Rename]) -> list[str]:
    if not renames:
        return []
    return ["these checkpoint keys look renamed (checkpoint key -> closest model key of the "
            "same shape); rename them before loading, e.g. state_dict[new] = "
            "state_dict.pop(old):\n" + _listed([f'\t"{r.old}" -> "{r.new}"' for r in renames])]


def _shape_text(shape) -> str:
    return "?" if shape is None else str(list(shape))


def _reshaped_findings(reshaped: list[Rename]) -> list[str]:
    if not reshaped:
        return []
    return ["these checkpoint keys look renamed but hold another shape than their closest "
            "model key (checkpoint key [shape] -> model key [shape]); the layer may have been "
            "resized, so renaming alone will not load them:\n"
            + _listed([f'\t"{r.old}" {_shape_text(r.old_shape)} -> "{r.new}" '
                       f"{_shape_text(r.new_shape)}" for r in reshaped])]


# ---------------------------------------------------------------------- submodules
def _ancestors(path: str) -> Iterable[str]:
    """``a``, ``a.b`` for ``a.b.c`` (the proper dotted prefixes)."""
    end = path.find(".")
    while end != -1:
        yield path[:end]
        end = path.find(".", end + 1)


def _subtree_findings(modules: list, model_state: Mapping, missing_keys: list[str],
                      unexpected_keys: list[str]) -> list[str]:
    """Whole submodules present on one side only: checkpoint state for submodules the model
    lacks (a pretraining head), and model submodules the checkpoint has nothing for (a new
    head)."""
    if not missing_keys and not unexpected_keys:
        return []
    module_names = {name for name, _ in modules}
    extra = [p for p in _dedupe(_first_absent_module(key, module_names)
                                for key in unexpected_keys) if p]
    missing = set(missing_keys)
    loaded_paths = set()  # every module path that holds (or contains) a loaded key
    for key in model_state if missing_keys else ():
        if key not in missing:
            path = key.rpartition(".")[0]
            if path not in loaded_paths:
                loaded_paths.add(path)
                loaded_paths.update(_ancestors(path))
    untouched = _dedupe(path for path in (key.rpartition(".")[0] for key in missing_keys)
                        if path and path not in loaded_paths)
    top = set(untouched)
    untouched = [p for p in untouched if not any(a in top for a in _ancestors(p))]
    findings = []
    if extra:
        findings.append("the checkpoint has state for submodules the model does not have: "
                        + ", ".join(f"'{p}'" for p in extra[:_MAX_LISTED]) + ". If they are "
                        "parts you do not use (a pretraining head), drop their keys or load "
                        "with strict=False.")
    if untouched:
        findings.append("the checkpoint has no state at all for the submodules "
                        + ", ".join(f"'{p}'" for p in untouched[:_MAX_LISTED]) + ". If they "
                        "are new (a freshly added head), load with strict=False and initialise "
                        "them yourself.")
    return findings


def _first_absent_module(key: str, module_names: set) -> str:
    """The shortest dotted prefix of ``key``'s module path that is not a module of the model
    ("" when the key's module exists)."""
    for path in _ancestors(key):
        if path not in module_names:
            return path
    return ""


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------------- buffers, sizes
def _non_persistent_keys(modules: list, unexpected_keys: list[str]) -> list[str]:
    """The unexpected keys that name a buffer registered with ``persistent=False``."""
    names = {f"{path}.{name}" if path else name for path, module in modules
             for name in module._non_persistent_buffers_set}
    return [key for key in unexpected_keys if key in names] if names else []


def _non_persistent_findings(found: list[str]) -> list[str]:
    if not found:
        return []
    shown = ", ".join(f'"{k}"' for k in found[:_MAX_LISTED])
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
        findings.append(", ".join(f'"{k}"' for k in transposed[:_MAX_LISTED]) + " hold the "
                        "transpose of the model's shape (weights saved as (in, out), like "
                        "GPT-2's Conv1D): load state_dict[key] = state_dict[key].t() for these "
                        "keys.")
    if resized:
        findings.append(", ".join(f'"{k}"' for k in resized[:_MAX_LISTED]) + " differ in size "
                        "from the model. If those layers were resized on purpose (a new "
                        "classifier head), drop these keys and load the rest with "
                        "strict=False.")
    return findings
