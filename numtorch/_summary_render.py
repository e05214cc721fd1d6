"""The summary table: torchinfo's cell texts, aligned columns, totals and memory lines."""
from __future__ import annotations

ALL_COLUMNS = ("input_size", "output_size", "num_params", "params_percent", "kernel_size",
               "mult_adds", "trainable", "buffers")
REQUIRES_INPUT = {"input_size", "output_size", "mult_adds"}
_HEADERS = {"input_size": "Input Shape", "output_size": "Output Shape", "num_params": "Param #",
            "params_percent": "Param %", "kernel_size": "Kernel Shape",
            "mult_adds": "Mult-Adds", "trainable": "Trainable", "buffers": "Buffers"}


def human_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _num_params(row, at_max_depth: bool) -> str:
    if row.num_params == 0:
        return "--"
    if row.is_recursive:
        return "(recursive)"
    if row.is_leaf or at_max_depth:
        s = f"{row.num_params:,}"
        return s if row.trainable_params else f"({s})"
    left = row.leftover_params()
    return f"{left:,}" if left > 0 else "--"


def _params_percent(row, total_params: int, at_max_depth: bool) -> str:
    if total_params == 0:
        return "     --"
    if row.is_recursive:
        return "(recursive)"
    params = row.num_params if at_max_depth or row.is_leaf else row.leftover_params()
    return "     --" if params == 0 else f"{params / total_params:>7.2%}"


def _mult_adds(row, at_max_depth: bool) -> str:
    if row.mult_adds <= 0:
        return "--"
    if row.is_leaf:
        return f"{row.mult_adds:,}"
    if at_max_depth:
        return f"{sum(c.mult_adds for c in row.children if c.is_leaf):,}"
    return "--"


def cell(row, col: str, total_params: int, at_max_depth: bool) -> str:
    """The text of one column for one row, as torchinfo writes it."""
    if col in ("input_size", "output_size", "kernel_size"):
        value = {"input_size": row.input_size, "output_size": row.output_size,
                 "kernel_size": row.kernel_size}[col]
        return str(value) if value else "--"
    if col == "num_params":
        return _num_params(row, at_max_depth)
    if col == "params_percent":
        return _params_percent(row, total_params, at_max_depth)
    if col == "mult_adds":
        return _mult_adds(row, at_max_depth)
    if col == "trainable":
        return row.trainable
    if col == "buffers":
        return f"{row.num_buffers:,} ({human_bytes(row.buffer_bytes)})" if row.num_buffers \
            else "--"
    raise ValueError(col)


def label(row) -> str:
    """``├─Conv2d: 1-1`` / ``│    └─Linear: 2-3``; the model itself by its class name."""
    if row.depth == 0:
        return row.type_name
    prefix = "│    " * (row.depth - 1) + "└─" if row.depth > 1 else "├─"
    return f"{prefix}{row.type_name}: {row.depth}-{row.depth_index}"


def table_rows(s) -> list[tuple[str, dict]]:
    """(label, {column: text}) for each row of ``s`` shown (depth <= ``s.depth``)."""
    return [(label(r), {c: cell(r, c, s.total_params, r.depth == s.depth)
                        for c in s.col_names})
            for r in s.rows if r.depth <= s.depth]


def render(s) -> str:
    """The whole table with totals and memory estimates."""
    shown = table_rows(s)
    name_w = max([len("Layer (type:depth-idx)")] + [len(lbl) for lbl, _ in shown]) + 3
    widths = [max([len(_HEADERS[c])] + [len(cells[c]) for _, cells in shown]) + 3
              for c in s.col_names]
    rule = "=" * (name_w + sum(widths))
    out = [rule, ("Layer (type:depth-idx)".ljust(name_w) +
                  "".join(_HEADERS[c].ljust(w) for c, w in zip(s.col_names, widths))).rstrip(),
           rule]
    for lbl, cells in shown:
        out.append((lbl.ljust(name_w) +
                    "".join(cells[c].ljust(w) for c, w in zip(s.col_names, widths))).rstrip())
    out += [rule,
            f"Total params: {s.total_params:,}",
            f"Trainable params: {s.trainable_params:,}",
            f"Non-trainable params: {s.non_trainable_params:,}",
            f"Buffers: {s.total_buffers:,} elements ({human_bytes(s.buffer_bytes)})"]
    if s.has_input:
        out += [f"Total mult-adds: {s.total_mult_adds:,}", rule,
                f"Input size: {human_bytes(s.input_bytes)}",
                f"Activations (forward/backward): {human_bytes(s.forward_backward_bytes)}"]
    else:
        out.append(rule)
    out += [f"Params size: {human_bytes(s.param_bytes)}",
            f"Buffers size: {human_bytes(s.buffer_bytes)}"]
    if s.has_input:
        out.append(f"Estimated total size: {human_bytes(s.estimated_total_bytes)}")
    out.append(rule)
    return "\n".join(out)
