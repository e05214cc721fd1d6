"""L-BFGS: limited-memory quasi-Newton steps, optionally with a strong-Wolfe line search.

The arithmetic follows torch's ``torch.optim.LBFGS`` on flat NumPy arrays in the parameters'
dtype. Scalars torch keeps as 0-d tensors (``ys``, ``H_diag``, ``ro``, ``al``, a step length
derived from a gradient) are NumPy scalars here and become 0-d tensors in ``state``; scalars
torch keeps as Python numbers stay Python numbers, so ``state_dict()`` has torch's value types.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._tensor import Tensor, _from_array
from ..autograd.grad_mode import enable_grad
from .optimizer import Optimizer, to_scalar

__all__ = ["LBFGS"]

_TENSOR_STATE = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "al")


def _is_tensorish(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through two points with slopes, clamped to ``bounds``."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square) if _is_tensorish(d2_square) else d2_square ** 0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """torch's strong-Wolfe line search along ``d``; returns (loss, flat grad, t, evals)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    bracket_gtd = None
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    return _zoom(obj_func, x, d, f, gtd, c1, c2, tolerance_change, max_ls, d_norm, done,
                 ls_iter, ls_func_evals, bracket, bracket_f, bracket_g, bracket_gtd)


def _zoom(obj_func, x, d, f, gtd, c1, c2, tolerance_change, max_ls, d_norm, done, ls_iter,
          ls_func_evals, bracket, bracket_f, bracket_g, bracket_gtd):
    """The zoom phase of the strong-Wolfe search (torch's second loop)."""
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1],
                               bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    """L-BFGS, as ``torch.optim.LBFGS``: ``step(closure)`` re-evaluates the model as often as
    needed (up to ``max_eval`` times). One parameter group only."""

    def __init__(self, params, lr: float | Tensor = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ------------------------------------------------------------------ flat views
    def _flat_grad(self) -> np.ndarray:
        parts = []
        for p in self._params:
            g = p._grad
            arr = np.zeros(p._data.size, p._data.dtype) if g is None else g._data.reshape(-1)
            parts.append(arr.view(arr.real.dtype) if arr.dtype.kind == "c" else arr)
        return np.concatenate(parts)

    def _add_grad(self, step_size, update: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            arr = p._data
            if arr.dtype.kind == "c":
                arr = arr.view(arr.real.dtype)
            n = arr.size
            arr += np.multiply(update[offset:offset + n].reshape(arr.shape),
                               step_size.item() if _is_tensorish(step_size) else step_size)
            p._bump()
            offset += n

    def _clone_params(self) -> list[np.ndarray]:
        return [p._data.copy() for p in self._params]

    def _set_params(self, values: list[np.ndarray]) -> None:
        for p, v in zip(self._params, values):
            np.copyto(p._data, v)
            p._bump()

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._flat_grad()
        self._set_params(x)
        return loss, flat_grad

    # ------------------------------------------------------------------ step
    def step(self, closure: Callable[[], float]):
        """Run up to ``max_iter`` L-BFGS iterations; returns the first loss of the closure."""
        group = self.param_groups[0]

        def evaluate():
            with enable_grad():
                return closure()
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = evaluate()
        loss = float(orig_loss)
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= group["tolerance_grad"]:
            return orig_loss
        memory = {k: _to_arrays(state.get(k)) for k in _TENSOR_STATE}
        memory["prev_loss"] = state.get("prev_loss")
        self._iterate(group, state, memory, evaluate, loss, flat_grad)
        if memory["al"] is not None:  # torch adds it on the first curvature update
            state["al"] = _to_tensors(memory["al"])
        for key in _TENSOR_STATE[:-1]:
            state[key] = _to_tensors(memory[key])
        state["prev_loss"] = memory["prev_loss"]
        return orig_loss

    def _iterate(self, group, state, memory, evaluate, loss, flat_grad) -> None:
        lr = to_scalar(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        d, t = memory["d"], memory["t"]
        prev_flat_grad = memory["prev_flat_grad"]
        current_evals = 1
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = np.negative(flat_grad)
                memory.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            else:
                d = self._direction(group, memory, flat_grad, prev_flat_grad, d, t)
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                np.copyto(prev_flat_grad, flat_grad)
            memory["prev_loss"] = prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break
            ls_func_evals = 0
            if group["line_search_fn"] is not None:
                if group["line_search_fn"] != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_params()

                def obj_func(x, step, direction):
                    return self._directional_evaluate(evaluate, x, step, direction)
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(np.multiply(d, t)).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break
        memory.update(d=d, t=t, prev_flat_grad=prev_flat_grad)

    @staticmethod
    def _direction(group, memory, flat_grad, prev_flat_grad, d, t) -> np.ndarray:
        """The two-loop recursion: the new search direction from the curvature history."""
        old_dirs, old_stps, ro = memory["old_dirs"], memory["old_stps"], memory["ro"]
        y = np.subtract(flat_grad, prev_flat_grad)
        s = np.multiply(d, t)
        ys = y.dot(s)
        if ys > 1e-10:
            if len(old_dirs) == group["history_size"]:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            memory["H_diag"] = ys / y.dot(y)
        num_old = len(old_dirs)
        if memory.get("al") is None:
            memory["al"] = [None] * group["history_size"]
        al = memory["al"]
        q = np.negative(flat_grad)
        for i in range(num_old - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q += np.multiply(old_dirs[i], -al[i].item())
        r = np.multiply(q, memory["H_diag"])
        for i in range(num_old):
            be_i = old_dirs[i].dot(r) * ro[i]
            r += np.multiply(old_stps[i], (al[i] - be_i).item())
        return r


def _to_arrays(value):
    """State values as the arrays/scalars the iteration works on."""
    if isinstance(value, Tensor):
        arr = value._data
        return arr.dtype.type(arr.item()) if arr.ndim == 0 else arr
    if isinstance(value, list):
        return [_to_arrays(v) for v in value]
    return value


def _to_tensors(value):
    """Arrays/NumPy scalars as numtorch tensors (0-d for scalars); Python numbers unchanged."""
    if isinstance(value, np.ndarray):
        return _from_array(value)
    if isinstance(value, np.generic):
        return _from_array(np.array(value))
    if isinstance(value, list):
        return [_to_tensors(v) for v in value]
    return value
