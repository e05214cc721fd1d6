"""Collecting the summary's rows: module calls recorded by forward hooks (torchinfo's order,
depths and container rows), or the module tree itself when there is no input."""
from __future__ import annotations

import math
from contextlib import nullcontext

from ._summary import LayerRow, _kernel_size, _mult_adds, _shape_and_itemsize


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


def _new_row(module, path: str, depth: int, recursive: bool) -> LayerRow:
    row = LayerRow(name=path or type(module).__name__, type_name=type(module).__name__,
                   depth=depth, depth_index=0, module=module, path=path,
                   kernel_size=_kernel_size(module),
                   is_leaf=not any(True for _ in module.children()), is_recursive=recursive)
    _count_own(row)
    return row


def _depth(path: str) -> int:
    return path.count(".") + 1 if path else 0


class Recorder:
    """Forward hooks that turn every module call into a row, in call order."""

    def __init__(self, model) -> None:
        self.model = model
        self.rows: list[LayerRow] = []
        self.stack: list[LayerRow] = []
        self.seen: set = set()
        tree = list(model.named_modules(remove_duplicate=False))
        self.paths = {id(m): n for n, m in tree}  # a shared module: its last place, as torchinfo
        self.by_path = dict(tree)
        self.modules = list({id(m): m for _, m in tree}.values())

    def pre_hook(self, module, inputs) -> None:
        path = "" if module is self.model else self.paths.get(id(module), "")
        row = _new_row(module, path, _depth(path), id(module) in self.seen)
        row.input_size, _ = _shape_and_itemsize(inputs)
        self.seen.add(id(module))
        self.rows.append(row)
        self.stack.append(row)

    def post_hook(self, module, inputs, output) -> None:
        row = self.stack.pop()
        row.output_size, itemsize = _shape_and_itemsize(output)
        row.output_bytes = itemsize * math.prod(row.output_size) if row.output_size else 0
        row.executed = True
        row.mult_adds = _mult_adds(row)

    def mark(self) -> tuple:
        return len(self.rows), len(self.stack), set(self.seen)

    def rollback(self, mark: tuple) -> None:
        del self.rows[mark[0]:]
        del self.stack[mark[1]:]
        self.seen = mark[2]

    def run(self, inputs, train: bool) -> list[LayerRow]:
        """Call the model on ``inputs`` (positional list/tuple or keyword dict) with the
        hooks in place; returns the rows, container rows inserted and numbered."""
        from ._summary_meta import has_meta, shape_only_forward
        from .autograd.grad_mode import no_grad
        handles = []
        for m in self.modules:
            handles.append(m.register_forward_pre_hook(self.pre_hook))
            handles.append(m.register_forward_hook(self.post_hook))
        was_training = self.model.training
        self.model.train(train)
        shapes_only = shape_only_forward(self.modules, self) if has_meta(inputs) else \
            nullcontext()
        try:
            with no_grad(), shapes_only:
                if isinstance(inputs, dict):
                    self.model(**inputs)
                else:
                    self.model(*inputs)
        except Exception as exc:
            done = [f"{r.type_name}: {r.depth}" for r in self.rows if r.executed]
            raise RuntimeError(f"Failed to run the summary's forward pass: "
                               f"{type(exc).__name__}: {exc}. Executed layers up to: "
                               f"{done}") from exc
        finally:
            for h in handles:
                h.remove()
            self.model.train(was_training)
        rows = self._with_missing_containers()
        number_rows(rows)
        return rows

    def _with_missing_containers(self) -> list[LayerRow]:
        """Rows for containers never called themselves (a ModuleList holding called layers),
        so every row sits under its module-tree ancestors, as torchinfo shows them; one row
        object per container, however often it is shown."""
        fillers: dict = {}
        out: list = []
        current: dict = {}
        for row in self.rows:
            parts = row.path.split(".") if row.path else []
            for d in range(1, row.depth):
                path = ".".join(parts[:d])
                ancestor = self.by_path.get(path)
                if ancestor is None:
                    continue
                filler = fillers.get(id(ancestor))
                if (d in current and current[d].module is ancestor) or \
                        (filler is not None and out and out[-1] is filler):
                    continue
                if filler is None:
                    filler = fillers[id(ancestor)] = _new_row(ancestor, path, d, False)
                filler.is_recursive = filler.is_recursive or id(ancestor) in self.seen
                self.seen.add(id(ancestor))
                out.append(filler)
                current[d] = filler
            current[row.depth] = row
            for d in [d for d in current if d > row.depth]:
                del current[d]
            out.append(row)
        return out


def static_rows(model) -> list[LayerRow]:
    """The module tree without a forward pass: every module where it sits, a module met a
    second time marked recursive."""
    rows: list[LayerRow] = []
    seen: set = set()

    def visit(module, path: str, depth: int) -> None:
        rows.append(_new_row(module, path, depth, id(module) in seen))
        seen.add(id(module))
        for name, child in module._modules.items():
            if child is not None:
                visit(child, f"{path}.{name}" if path else name, depth + 1)
    visit(model, "", 0)
    number_rows(rows)
    return rows


def number_rows(rows: list) -> None:
    """torchinfo's depth-index numbering (a counter per depth over the whole table) and
    children (every row below, up to the next row no deeper); a row shown twice keeps the
    numbers of its last place."""
    counters: dict = {}
    for i, row in enumerate(rows):
        counters[row.depth] = counters.get(row.depth, 0) + 1
        row.depth_index = counters[row.depth]
        end = i + 1
        while end < len(rows) and rows[end].depth > row.depth:
            end += 1
        row.children = rows[i + 1:end]
