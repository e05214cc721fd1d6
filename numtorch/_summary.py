"""Model summary in the spirit of torchinfo: the module tree with shapes, parameters, buffers,
mult-adds and memory estimates.

``summary(model, input_size=(64, 1, 28, 28))`` returns a ``ModelSummary`` whose numbers are
attributes (for tests and scripts) and whose ``str`` is the table. Parameters shared between
layers are counted once in the totals.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from ._tensor import Tensor

__all__ = ["summary", "ModelSummary", "LayerRow", "human_bytes"]

ALL_COLUMNS = ("input_size", "output_size", "num_params", "params_percent", "kernel_size",
               "mult_adds", "trainable", "buffers")
_HEADERS = {"input_size": "Input Shape", "output_size": "Output Shape", "num_params": "Param #",
            "params_percent": "Param %", "kernel_size": "Kernel Shape",
            "mult_adds": "Mult-Adds", "trainable": "Trainable", "buffers": "Buffers"}


@dataclass
class LayerRow:
    """One call of one module during the summary's forward pass."""
    name: str
    type_name: str
    depth: int
    depth_index: int
    module: Any = field(repr=False)
    input_size: list = field(default_factory=list)
    output_size: list = field(default_factory=list)
    output_bytes: int = 0
    num_params: int = 0
    trainable_params: int = 0
    param_bytes: int = 0
    num_buffers: int = 0
    buffer_bytes: int = 0
    mult_adds: int = 0
    kernel_size: list | None = None
    is_leaf: bool = True
    is_recursive: bool = False
    children: list = field(default_factory=list, repr=False)

    @property
    def trainable(self) -> str:
        if self.num_params == 0:
            return "--"
        if self.trainable_params == 0:
            return "False"
        return "True" if self.trainable_params == self.num_params else "Partial"


def human_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _shape_and_itemsize(obj) -> tuple[list, int]:
    """torchinfo's size rule: a tensor's shape; for sequences/dicts, the first element's."""
    if isinstance(obj, Tensor):
        return list(obj.shape), obj.element_size()
    if isinstance(obj, np.ndarray):
        return list(obj.shape), obj.itemsize
    if isinstance(obj, dict):
        return _shape_and_itemsize(list(obj.values())) if obj else ([], 0)
    if isinstance(obj, (list, tuple)) and obj:
        return _shape_and_itemsize(obj[0])
    return [], 0


def _kernel_size(module) -> list | None:
    k = getattr(module, "kernel_size", None)
    if k is None:
        return None
    return list(k) if isinstance(k, Iterable) else [k]


def _mult_adds(row: LayerRow) -> int:
    out = row.output_size
    if not out:
        return 0
    total = 0
    for name, p in row.module.named_parameters():
        n = p.numel()
        if name in ("weight", "bias"):
            if "Conv" in row.type_name:
                total += n * math.prod(out[:1] + out[2:])
            else:
                total += out[0] * n
        elif "weight" in name or "bias" in name:
            total += math.prod(out[:2]) * n
    return total


@dataclass
class ModelSummary:
    """The result of ``summary``: rows in call order and totals; ``str()`` gives the table."""
    model_name: str
    rows: list
    depth: int
    col_names: tuple
    total_params: int
    trainable_params: int
    param_bytes: int
    total_buffers: int
    buffer_bytes: int
    input_bytes: int
    activation_bytes: int
    forward_backward_bytes: int
    total_mult_adds: int

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def estimated_total_bytes(self) -> int:
        return self.input_bytes + self.forward_backward_bytes + self.param_bytes + \
            self.buffer_bytes

    def __str__(self) -> str:
        return _render(self)

    __repr__ = __str__


def _make_inputs(input_size, dtypes, device):
    from ._ops.creation import rand
    sizes = input_size
    if isinstance(sizes, tuple) and all(isinstance(s, int) for s in sizes):
        sizes = [sizes]
    if not isinstance(sizes, (list, tuple)) or not sizes:
        raise TypeError("input_size must be a tuple of ints, or a list of such tuples for "
                        "several inputs")
    out = []
    for i, s in enumerate(sizes):
        s = tuple(s)
        if any((not isinstance(d, int)) or d <= 0 for d in s):
            raise ValueError(f"input_size {s} must hold positive ints")
        dt = dtypes[i] if dtypes else None
        out.append(rand(*s, dtype=dt, device=device))
    return out


def summary(model, input_size=None, input_data=None, depth: int = 3,
            col_names: Sequence[str] = ("output_size", "num_params"), dtypes=None,
            device=None, mode: str = "eval", verbose: int | None = None) -> ModelSummary:
    """Summarise ``model``: run one forward pass on ``input_data`` (or random inputs of
    ``input_size``) and tabulate every module call to ``depth``.

    With neither input given, the table lists modules and parameters without shapes.
    """
    from .autograd.grad_mode import no_grad
    bad = [c for c in col_names if c not in ALL_COLUMNS]
    if bad:
        raise ValueError(f"unknown column(s) {bad}; choose from {list(ALL_COLUMNS)}")
    if input_data is not None and input_size is not None:
        raise ValueError("give input_size or input_data, not both")
    rows: list[LayerRow] = []
    handles = []
    seen_ids: set = set()
    names = {id(m): n for n, m in model.named_modules(remove_duplicate=False)}
    parent_stack: list[LayerRow] = []

    def pre_hook(module, inputs):
        name = names.get(id(module), "")
        row = LayerRow(name=name or type(module).__name__, type_name=type(module).__name__,
                       depth=0 if module is model else name.count(".") + 1, depth_index=0,
                       module=module, kernel_size=_kernel_size(module),
                       is_leaf=not any(True for _ in module.children()),
                       is_recursive=id(module) in seen_ids)
        row.path = name
        _count_own(row)
        row.input_size, _ = _shape_and_itemsize(inputs)
        seen_ids.add(id(module))
        rows.append(row)
        parent_stack.append(row)

    def post_hook(module, inputs, output):
        row = parent_stack.pop()
        row.output_size, itemsize = _shape_and_itemsize(output)
        row.output_bytes = itemsize * math.prod(row.output_size) if row.output_size else 0
        row.mult_adds = _mult_adds(row) if row.is_leaf else 0

    if input_data is None and input_size is None:
        _static_rows(model, rows)
    else:
        for m in set(m for _, m in model.named_modules(remove_duplicate=True)):
            handles.append(m.register_forward_pre_hook(pre_hook))
            handles.append(m.register_forward_hook(post_hook))
        inputs = _make_inputs(input_size, dtypes, device) if input_data is None else input_data
        was_training = model.training
        model.train(mode == "train")
        try:
            with no_grad():
                if isinstance(inputs, dict):
                    model(**inputs)
                elif isinstance(inputs, (list, tuple)):
                    model(*inputs)
                else:
                    model(inputs)
        finally:
            for h in handles:
                h.remove()
            model.train(was_training)
        rows[:] = _with_missing_containers(model, rows, seen_ids)
    _number_rows(rows)
    return _totals(model, rows, depth, tuple(col_names),
                   _input_bytes(input_data, input_size, dtypes, device))


def _with_missing_containers(model, rows: list, seen_ids: set) -> list:
    """Insert rows for containers never called themselves (a ModuleList holding called layers),
    so every row sits under its module-tree ancestors, as torchinfo shows them."""
    modules = dict(model.named_modules())
    out: list = []
    current: dict = {}
    for row in rows:
        path = getattr(row, "path", "")
        parts = path.split(".") if path else []
        for d in range(1, row.depth):
            ancestor_path = ".".join(parts[:d])
            ancestor = modules.get(ancestor_path)
            if ancestor is None:
                continue
            if current.get(d) is ancestor or (out and out[-1].module is ancestor):
                continue
            filler = LayerRow(name=ancestor_path, type_name=type(ancestor).__name__, depth=d,
                              depth_index=0, module=ancestor, kernel_size=_kernel_size(ancestor),
                              is_leaf=False, is_recursive=id(ancestor) in seen_ids)
            filler.path = ancestor_path
            seen_ids.add(id(ancestor))
            _count_own(filler)
            out.append(filler)
            current[d] = ancestor
        current[row.depth] = row.module
        out.append(row)
    return out


def _number_rows(rows: list) -> None:
    """depth-index numbering (a counter per depth over the whole table) and child links."""
    counters: dict = {}
    stack: list = []
    for row in rows:
        counters[row.depth] = counters.get(row.depth, 0) + 1
        row.depth_index = counters[row.depth]
        row.children = []
        while stack and stack[-1].depth >= row.depth:
            stack.pop()
        if stack:
            stack[-1].children.append(row)
        stack.append(row)


def _count_own(row: LayerRow) -> None:
    for p in row.module.parameters():
        n = p.numel()
        row.num_params += n
        row.param_bytes += n * p.element_size()
        if p.requires_grad:
            row.trainable_params += n
    for b in row.module.buffers():
        row.num_buffers += b.numel()
        row.buffer_bytes += b.numel() * b.element_size()


def _static_rows(model, rows: list) -> None:
    for name, module in model.named_modules():
        depth = 0 if not name else name.count(".") + 1
        row = LayerRow(name=name or type(module).__name__, type_name=type(module).__name__,
                       depth=depth, depth_index=0, module=module,
                       kernel_size=_kernel_size(module),
                       is_leaf=not any(True for _ in module.children()))
        _count_own(row)
        rows.append(row)


def _input_bytes(input_data, input_size, dtypes, device) -> int:
    if input_data is None and input_size is None:
        return 0
    tensors = []

    def collect(x):
        if isinstance(x, Tensor):
            tensors.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                collect(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                collect(v)
    collect(input_data if input_data is not None else _make_inputs(input_size, dtypes, device))
    return sum(t.numel() * t.element_size() for t in tensors)


def _totals(model, rows, depth, col_names, input_bytes) -> ModelSummary:
    params = {id(p): p for p in model.parameters()}.values()
    buffers = {id(b): b for b in model.buffers()}.values()
    activation = sum(r.output_bytes for r in rows if r.is_leaf and not r.is_recursive)
    fwd_bwd = sum(2 * r.output_bytes for r in rows if r.is_leaf and r.num_params > 0)
    return ModelSummary(
        model_name=type(model).__name__, rows=rows, depth=depth, col_names=col_names,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        total_buffers=sum(b.numel() for b in buffers),
        buffer_bytes=sum(b.numel() * b.element_size() for b in buffers),
        input_bytes=input_bytes, activation_bytes=activation,
        forward_backward_bytes=fwd_bwd,
        total_mult_adds=sum(r.mult_adds for r in rows if r.is_leaf))


# ---------------------------------------------------------------------- rendering
def _cell(row: LayerRow, col: str, total_params: int, at_max_depth: bool) -> str:
    if col == "input_size":
        return str(row.input_size) if row.input_size else "--"
    if col == "output_size":
        return str(row.output_size) if row.output_size else "--"
    if col == "num_params":
        if row.num_params == 0:
            return "--"
        if row.is_recursive:
            return "(recursive)"
        if row.is_leaf or at_max_depth:
            s = f"{row.num_params:,}"
            return s if row.trainable_params else f"({s})"
        own = row.num_params - sum(c.num_params for c in row.children if not c.is_recursive)
        return f"{own:,}" if own > 0 else "--"
    if col == "params_percent":
        if row.num_params == 0 or not total_params or not (row.is_leaf or at_max_depth):
            return "--"
        return f"{100 * row.num_params / total_params:.2f}%"
    if col == "kernel_size":
        return str(row.kernel_size) if row.kernel_size else "--"
    if col == "mult_adds":
        if row.is_leaf:
            return f"{row.mult_adds:,}" if row.mult_adds > 0 else "--"
        if at_max_depth:
            s = sum(c.mult_adds for c in _descendants(row) if c.is_leaf)
            return f"{s:,}" if s else "--"
        return "--"
    if col == "trainable":
        return row.trainable
    if col == "buffers":
        return f"{row.num_buffers:,} ({human_bytes(row.buffer_bytes)})" if row.num_buffers \
            else "--"
    raise ValueError(col)


def _descendants(row: LayerRow):
    for c in row.children:
        yield c
        yield from _descendants(c)


def _tree_label(row: LayerRow, rows_shown: list, i: int) -> str:
    if row.depth == 0:
        return row.type_name
    prefix = "│    " * (row.depth - 1) + "└─" if row.depth > 1 else "├─"
    return f"{prefix}{row.type_name}: {row.depth}-{row.depth_index}"


def _render(s: ModelSummary) -> str:
    shown = [r for r in s.rows if r.depth <= s.depth]
    labels = [_tree_label(r, shown, i) for i, r in enumerate(shown)]
    name_w = max([len("Layer (type:depth-idx)")] + [len(x) for x in labels]) + 3
    cells = [[_cell(r, c, s.total_params, r.depth == s.depth) for c in s.col_names]
             for r in shown]
    widths = [max([len(_HEADERS[c])] + [len(row[j]) for row in cells]) + 3
              for j, c in enumerate(s.col_names)]
    total_w = name_w + sum(widths)
    rule = "=" * total_w
    out = [rule, "Layer (type:depth-idx)".ljust(name_w) +
           "".join(_HEADERS[c].ljust(w) for c, w in zip(s.col_names, widths)).rstrip(), rule]
    for label, row in zip(labels, cells):
        out.append((label.ljust(name_w) +
                    "".join(v.ljust(w) for v, w in zip(row, widths))).rstrip())
    out += [rule,
            f"Total params: {s.total_params:,}",
            f"Trainable params: {s.trainable_params:,}",
            f"Non-trainable params: {s.non_trainable_params:,}",
            f"Buffers: {s.total_buffers:,} elements ({human_bytes(s.buffer_bytes)})",
            f"Total mult-adds: {s.total_mult_adds:,}",
            rule,
            f"Input size: {human_bytes(s.input_bytes)}",
            f"Activations (forward/backward): {human_bytes(s.forward_backward_bytes)}",
            f"Params size: {human_bytes(s.param_bytes)}",
            f"Buffers size: {human_bytes(s.buffer_bytes)}",
            f"Estimated total size: {human_bytes(s.estimated_total_bytes)}",
            rule]
    return "\n".join(out)
