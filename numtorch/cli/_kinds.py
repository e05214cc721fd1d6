"""Which tensors of a saved state dict are parameters and which are buffers.

A state dict does not say: torch saves both as plain tensors. The evidence used, best first:
tensors saved as ``Parameter``; an optimizer state saved next to the model, whose
``param_names`` list the parameters, or whose per-parameter state (``exp_avg``,
``momentum_buffer`` ...) has each parameter's shape in parameter order; then names and dtypes
(``running_mean``/``running_var``/``num_batches_tracked`` and integer or bool tensors are
buffers, other floating tensors parameters).
"""
from __future__ import annotations

from .._tensor import Tensor

BUFFER_NAMES = {"running_mean", "running_var", "num_batches_tracked"}


def is_optimizer_state(obj) -> bool:
    return isinstance(obj, dict) and "state" in obj and "param_groups" in obj and \
        isinstance(obj["param_groups"], list)


def is_state_dict(obj) -> bool:
    """A non-empty flat mapping of names to tensors."""
    return isinstance(obj, dict) and bool(obj) and \
        all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())


def by_name(key: str, t: Tensor) -> str:
    last = key.rsplit(".", 1)[-1]
    if last in BUFFER_NAMES or not (t.dtype.is_floating_point or t.dtype.is_complex):
        return "buffer"
    return "param"


def _optimizer_params(optim) -> tuple[int, list | None, list]:
    """(number of parameters, their names if every group records them, each one's shape in
    the optimizer's state, or None where it has none)."""
    groups = [g for g in optim["param_groups"] if isinstance(g, dict)]
    ids = [p for g in groups if isinstance(g.get("params"), list) for p in g["params"]]
    names = None
    if groups and all(isinstance(g.get("param_names"), list) for g in groups):
        names = [n for g in groups for n in g["param_names"]]
    state = optim["state"] if isinstance(optim["state"], dict) else {}
    shapes = []
    for pid in ids:
        entry = state.get(pid)
        values = entry.items() if isinstance(entry, dict) else ()
        shapes.append(next((tuple(v.shape) for name, v in values
                            if name != "step" and isinstance(v, Tensor)), None))
    return len(ids), names, shapes


def _subsequence(shapes_of_keys: list, wanted: list) -> list | None:
    """Indices of ``shapes_of_keys`` (in order) matching ``wanted`` (None matches anything),
    earliest first; None when there is no such choice."""
    n, m = len(shapes_of_keys), len(wanted)
    slack = n - m

    def fits(i, j):
        return wanted[j] is None or wanted[j] == shapes_of_keys[i]
    # ok[j][s]: wanted[j:] can be matched within keys[j + s:], s = keys skipped so far
    ok = [[False] * (slack + 1) for _ in range(m + 1)]
    ok[m] = [True] * (slack + 1)
    for j in range(m - 1, -1, -1):
        for s in range(slack, -1, -1):
            i = j + s
            ok[j][s] = (fits(i, j) and ok[j + 1][s]) or (s < slack and ok[j][s + 1])
    if not ok[0][0]:
        return None
    chosen, s = [], 0
    for j in range(m):
        while not (fits(j + s, j) and ok[j + 1][s]):
            s += 1
        chosen.append(j + s)
    return chosen


def state_dict_kinds(sd: dict, optim=None, tied: dict | None = None) -> dict:
    """``{key: "param" | "buffer"}`` for the tensors of the state dict ``sd``; ``optim`` is the
    optimizer state saved with it, ``tied`` maps a key to the earlier key it duplicates."""
    tied = tied or {}
    kinds = {k: by_name(k, t) for k, t in sd.items()}
    exact = {k for k, t in sd.items() if type(t).__name__ == "Parameter"}
    for k in exact:
        kinds[k] = "param"
    if optim is None or exact:
        return kinds
    count, names, shapes = _optimizer_params(optim)
    if names is not None:
        known = set(names)
        return {k: "param" if k in known or tied.get(k) in known else "buffer" for k in sd}
    candidates = [k for k in sd if kinds[k] == "param" and k not in tied]
    if len(candidates) <= count or all(s is None for s in shapes):
        return kinds
    chosen = _subsequence([tuple(sd[k].shape) for k in candidates], shapes)
    if chosen is None:
        return kinds
    chosen_keys = {candidates[i] for i in chosen}
    for k in candidates:
        # not in the optimizer: a buffer, unless named like a (frozen) layer parameter
        if k not in chosen_keys and k.rsplit(".", 1)[-1] not in ("weight", "bias"):
            kinds[k] = "buffer"
    for k, original in tied.items():
        if k in kinds and original in kinds:
            kinds[k] = kinds[original]
    return kinds
