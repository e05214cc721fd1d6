"""Pairing checkpoint keys with model keys that look like the same tensor renamed.

A pair differs in one dotted component: a similar tensor name under the same module path
(``fc1.wieght`` -> ``fc1.weight``), a similar module path for the same tensor name
(``stat.count`` -> ``stats.count``, ``layers.3.w`` -> ``blocks.3.w``), or one module level added
or removed (``encoder.3.w`` -> ``encoder.layer.3.w``). Candidates are found through hashed
signatures (the key with one component masked, or one path component dropped), so the work grows
linearly with the number of keys; buckets are capped, which bounds pathological key sets too.
"""
from __future__ import annotations

import difflib
from functools import lru_cache
from typing import NamedTuple

__all__ = ["Rename", "find_renames"]

_MIN_SIMILARITY = 0.6
_BUCKET_CAP = 16  # candidates kept per signature
_SEARCH_LIMIT = 2000  # missing keys searched for a partner; the rest only by renames seen
_RULES_TRIED = 8
_MASK = "\x00"


class Rename(NamedTuple):
    """A checkpoint key (``old``) that looks like the model key ``new``, with both shapes."""

    old: str
    new: str
    old_shape: tuple | None
    new_shape: tuple | None


def _spans(key: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each dotted component of ``key``."""
    spans, start = [], 0
    while True:
        end = key.find(".", start)
        if end == -1:
            spans.append((start, len(key)))
            return spans
        spans.append((start, end))
        start = end + 1


@lru_cache(maxsize=4096)  # renames repeat: the same component pair across many keys
def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


@lru_cache(maxsize=4096)
def _matched(a: str, b: str) -> int:
    """How many characters of ``a`` and ``b`` difflib matches."""
    return sum(block.size for block in difflib.SequenceMatcher(None, a, b).get_matching_blocks())


def _substituted(old: str, new: str, old_span: tuple, new_span: tuple, last: bool) -> float:
    """Similarity of two keys equal but for one component: of the names when that is the name,
    else of the module paths (the rest of the path matching exactly)."""
    a, b = old[old_span[0]:old_span[1]], new[new_span[0]:new_span[1]]
    if last:
        return _ratio(a, b)
    old_path = old.rfind(".")
    new_path = new.rfind(".")
    return 2.0 * (old_path - len(a) + _matched(a, b)) / (old_path + new_path)


def _one_level_apart(longer: str, shorter: str) -> float:
    """Similarity of the module paths of two keys with the same name, one having a path
    component more: every character of the shorter path matches."""
    short_path, long_path = max(shorter.rfind("."), 0), longer.rfind(".")
    return 2.0 * short_path / (short_path + long_path)


class _Index:
    """The checkpoint keys under their signatures."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.masked: dict[str, list[tuple[str, tuple]]] = {}
        self.plain: dict[str, list[str]] | None = None
        for key in keys:
            for span in _spans(key):
                self._add(self.masked, key[:span[0]] + _MASK + key[span[1]:], (key, span))

    @staticmethod
    def _add(table: dict, signature: str, entry) -> None:
        bucket = table.setdefault(signature, [])
        if len(bucket) < _BUCKET_CAP:
            bucket.append(entry)

    def level_table(self) -> dict[str, list[str]]:
        """Keys under themselves and with each path component dropped (built on first use)."""
        if self.plain is None:
            self.plain = {}
            for key in self.keys:
                self._add(self.plain, key, key)
                for start, end in _spans(key)[:-1]:
                    self._add(self.plain, key[:start] + key[end + 1:], key)
        return self.plain


def _substitutions(index: _Index, key: str):
    """``(candidate, similarity)`` for checkpoint keys one component away from ``key``."""
    spans = _spans(key)
    last = len(spans) - 1
    for i, span in enumerate(spans):
        for candidate, cspan in index.masked.get(key[:span[0]] + _MASK + key[span[1]:], ()):
            yield candidate, _substituted(candidate, key, cspan, span, i == last)


def _level_changes(index: _Index, key: str):
    """``(candidate, similarity)`` for checkpoint keys one module level deeper or shallower."""
    table = index.level_table()
    for candidate in table.get(key, ()):  # the checkpoint key has one level more
        if candidate != key and candidate.rpartition(".")[2] == key.rpartition(".")[2]:
            yield candidate, _one_level_apart(candidate, key)
    for start, end in _spans(key)[:-1]:  # ... one level fewer
        for candidate in table.get(key[:start] + key[end + 1:], ()):
            if candidate.count(".") == key.count(".") - 1:
                yield candidate, _one_level_apart(key, candidate)


def _best(index: _Index, key: str, shape, unexpected_shapes: dict | None, used: set,
          order: dict) -> tuple:
    """The most similar unused checkpoint key of ``key``'s shape, and of another shape (each a
    ``(similarity, -position, key)`` rank or None); level changes only when no substitution of
    the same shape fits."""
    best = other = None
    for candidates in (_substitutions, _level_changes):
        for candidate, score in candidates(index, key):
            if score < _MIN_SIMILARITY or candidate in used:
                continue
            rank = (score, -order[candidate], candidate)
            if unexpected_shapes is None or unexpected_shapes.get(candidate) == shape:
                best = rank if best is None or rank > best else best
            elif other is None or rank > other:
                other = rank
        if best is not None:
            break
    return best, other


def _rule(old: str, new: str) -> tuple | None:
    """``(position, new component, old component)`` when the keys differ in one component."""
    old_parts, new_parts = old.split("."), new.split(".")
    if len(old_parts) != len(new_parts):
        return None
    differ = [i for i, (a, b) in enumerate(zip(old_parts, new_parts)) if a != b]
    return (differ[0], new_parts[differ[0]], old_parts[differ[0]]) if len(differ) == 1 else None


def _by_rule(parts: list[str], rules: list[tuple], unexpected: dict, used: set, shape,
             unexpected_shapes: dict | None) -> str | None:
    """The checkpoint key that one of the renames seen so far (newest first) makes of the key
    split into ``parts``."""
    for position, new, old in reversed(rules):
        if position < len(parts) and parts[position] == new:
            parts[position] = old
            candidate = ".".join(parts)
            parts[position] = new
            if candidate in unexpected and candidate not in used and (
                    unexpected_shapes is None or unexpected_shapes.get(candidate) == shape):
                return candidate
    return None


def find_renames(missing: list[str], unexpected: list[str], missing_shapes: dict,
                 unexpected_shapes: dict | None) -> tuple[list[Rename], list[Rename]]:
    """``(renames, reshaped)``: checkpoint keys paired one-to-one with the most similar missing
    key of the same shape (in the model's key order), and for missing keys with no such
    partner, the most similar checkpoint key whose shape differs. Without
    ``unexpected_shapes`` (no checkpoint at hand) shapes are not compared.

    A rename found once (one component replaced) is tried first on the following keys, so a
    consistent rename of many keys costs a few lookups each; past ``_SEARCH_LIMIT`` missing
    keys only such renames are looked for, which bounds the work."""
    order = {key: i for i, key in enumerate(unexpected)}
    index = None
    used: set[str] = set()
    rules: list[tuple] = []  # the renames seen, newest last
    renames, reshaped = [], []
    for n, key in enumerate(missing):
        shape = missing_shapes.get(key)
        old = _by_rule(key.split("."), rules, order, used, shape, unexpected_shapes) \
            if rules else None
        if old is None and n < _SEARCH_LIMIT:
            index = index or _Index(unexpected)
            best, other = _best(index, key, shape, unexpected_shapes, used, order)
            if best is not None:
                old = best[2]
                _learn(rules, _rule(old, key))
            elif other is not None:
                reshaped.append(Rename(other[2], key, unexpected_shapes[other[2]], shape))
        if old is not None:
            used.add(old)
            renames.append(Rename(old, key, shape, shape))
    return renames, [r for r in reshaped if r.old not in used]


def _learn(rules: list[tuple], rule: tuple | None) -> None:
    """Make ``rule`` the newest of at most ``_RULES_TRIED`` rules."""
    if rule is None:
        return
    if rule in rules:
        rules.remove(rule)
    rules.append(rule)
    del rules[:-_RULES_TRIED]
