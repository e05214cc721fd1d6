"""The Optimizer contract against torch: param groups and their errors, repr, hooks,
load_state_dict (casting, checks, old formats); state dicts moving between torch and numtorch
through files are in test_optim_files.py."""
from __future__ import annotations

import copy
import importlib
import warnings

import numpy as np
import pytest
import torch

import numtorch
from harness import compare
from test_optim import X, Y, make_params, same_error, set_linear_grads, train

ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "Adadelta",
       "Rprop", "ASGD", "Adafactor"]
STATEFUL_KW = {"SGD": {"lr": 0.05, "momentum": 0.9}, "Adam": {"lr": 0.01, "amsgrad": True},
               "AdamW": {"lr": 0.01}, "RMSprop": {"lr": 0.01, "centered": True, "momentum": 0.5},
               "Adagrad": {"lr": 0.1}, "Adamax": {"lr": 0.01}, "NAdam": {"lr": 0.01},
               "RAdam": {"lr": 0.01}, "Adadelta": {}, "Rprop": {}, "ASGD": {"t0": 5},
               "Adafactor": {}}


# ---------------------------------------------------------------- construction and groups
@pytest.mark.parametrize("name", ALL)
def test_defaults_groups_and_repr(name):
    def body(T):
        w, b, _ = make_params(T, np.float32)
        opt = getattr(T.optim, name)([{"params": [w]}, {"params": b, "lr": 0.5}])
        groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        return opt.defaults, groups, repr(opt)
    compare(body)


def test_error_cases_match_torch_wording():
    def make(T, fn):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        return lambda: fn(T, w)
    cases = [
        lambda T, w: T.optim.SGD({w}),
        lambda T, w: T.optim.SGD([]),
        lambda T, w: T.optim.SGD(w),
        lambda T, w: T.optim.SGD(T.tensor([1, 2])),
        lambda T, w: T.optim.SGD([w, "w"]),
        lambda T, w: T.optim.SGD([w * 2]),
        lambda T, w: T.optim.SGD([w, 3]),
        lambda T, w: T.optim.SGD([{"params": [w]}, {"params": [w]}]),
        lambda T, w: T.optim.SGD([w], lr=-1.0),
        lambda T, w: T.optim.SGD([w], momentum=-0.5),
        lambda T, w: T.optim.SGD([w], nesterov=True),
        lambda T, w: T.optim.SGD([w], momentum=0.9, dampening=0.1, nesterov=True),
        lambda T, w: T.optim.Adam([w], betas=(1.0, 0.9)),
        lambda T, w: T.optim.Adam([w], betas=(0.9, -0.1)),
        lambda T, w: T.optim.Adam([w], eps=-1.0),
        lambda T, w: T.optim.Adam([w], weight_decay=-1.0),
        lambda T, w: T.optim.Adam([w], fused=True, foreach=True),
        lambda T, w: T.optim.RMSprop([w], alpha=-1.0),
        lambda T, w: T.optim.Adagrad([w], lr_decay=-1.0),
        lambda T, w: T.optim.Adagrad([w], initial_accumulator_value=-1.0),
        lambda T, w: T.optim.NAdam([w], momentum_decay=-1.0),
        lambda T, w: T.optim.SGD([w], lr=T.tensor([0.1, 0.2])),
        lambda T, w: T.optim.Adadelta([w], rho=1.5),
        lambda T, w: T.optim.Rprop([w], etas=(1.5, 2.0)),
        lambda T, w: T.optim.ASGD([w], weight_decay=-1.0),
        lambda T, w: T.optim.Adafactor([w], beta2_decay=0.5),
        lambda T, w: T.optim.Adafactor([w], d=0.5),
        lambda T, w: T.optim.Adafactor([w], eps=(-1.0, 1e-3)),
        lambda T, w: T.optim.SGD([("a", w), T.tensor([1.0], requires_grad=True)]),
        lambda T, w: T.optim.Adam([w], capturable=True).step(w.grad),
    ]
    for fn in cases:
        same_error(lambda T: make(T, fn)())


def test_add_param_group_and_named_params():
    def body(T):
        w, b, extra = make_params(T, np.float32)
        opt = T.optim.Adam([("w", w), ("b", b)], lr=0.1)
        err = None
        try:
            opt.add_param_group({"params": [extra]})
        except ValueError as exc:
            err = str(exc)
        opt.add_param_group({"params": [("extra", extra)], "lr": 0.01})
        return err, opt.state_dict()["param_groups"]
    compare(body)


def test_duplicate_parameter_warns():
    for T in (torch, numtorch):
        w = T.tensor([1.0], requires_grad=True)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            T.optim.SGD([w, w])


# ---------------------------------------------------------------- hooks
def test_step_and_state_dict_hooks_order_and_results():
    def body(T):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        opt = T.optim.SGD([w], lr=0.1)
        log = []
        h1 = opt.register_step_pre_hook(lambda o, a, k: log.append("pre"))
        opt.register_step_post_hook(lambda o, a, k: log.append("post"))
        opt.register_state_dict_pre_hook(lambda o: log.append("sd_pre"))
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
        opt.register_state_dict_pre_hook(lambda o: log.append("sd_pre_first"), prepend=True)
        opt.register_load_state_dict_pre_hook(lambda o, sd: log.append("load_pre"))
        opt.register_load_state_dict_post_hook(lambda o: log.append("load_post"))
        w.grad = T.tensor([1.0, 1.0])
        opt.step()
        h1.remove()
        opt.step()
        sd = opt.state_dict()
        opt.load_state_dict(sd)
        return log, sorted(sd), w.detach()
    compare(body)


def test_step_pre_hook_may_replace_arguments():
    """Hooks see the optimizer as ``args[0]`` (as torch passes the bound call's args)."""
    def body(T):
        w = T.tensor([1.0], requires_grad=True)
        opt = T.optim.SGD([w], lr=0.1)
        w.grad = T.tensor([1.0])
        opt.register_step_pre_hook(lambda o, a, k: ((o,), {"closure": lambda: 7.0}))
        return opt.step()
    compare(body)


def test_global_step_hooks():
    from numtorch.optim.optimizer import register_optimizer_step_pre_hook
    calls = []
    handle = register_optimizer_step_pre_hook(lambda o, a, k: calls.append(type(o).__name__))
    try:
        w = numtorch.tensor([1.0], requires_grad=True)
        w.grad = numtorch.tensor([1.0])
        numtorch.optim.Adam([w]).step()
    finally:
        handle.remove()
    assert calls == ["Adam"]


# ---------------------------------------------------------------- load_state_dict
def _continue(T, opt, params, start: int, steps: int = 20):
    w, b, _ = params
    for i in range(start, start + steps):
        opt.zero_grad()
        set_linear_grads(T, w, b, X[i], Y[i])
        opt.step()
    return [p.detach() for p in params]


def _fresh(T, name, kwargs, like_params):
    params = tuple(T.tensor(p.detach().numpy().copy(), requires_grad=True) for p in like_params)
    return getattr(T.optim, name)(list(params), **kwargs), params


def test_load_casts_state_to_parameter_dtype_but_not_step():
    def body(T):
        w = T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True)
        opt = T.optim.Adam([w])
        sd = {"state": {0: {"step": T.tensor(4.0), "exp_avg": T.tensor([0.1, 0.2]),
                            "exp_avg_sq": T.tensor([0.01, 0.02])}},
              "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
        opt.load_state_dict(sd)
        st = opt.state[w]
        return st["step"], st["exp_avg"], st["exp_avg_sq"], st["exp_avg"] is \
            sd["state"][0]["exp_avg"], opt.param_groups[0] is sd["param_groups"][0]
    compare(body)


def test_load_errors_match_torch():
    def wrong_groups(T):
        w = T.tensor([1.0], requires_grad=True)
        opt = T.optim.SGD([w])
        sd = opt.state_dict()
        sd["param_groups"] = sd["param_groups"] * 2
        opt.load_state_dict(sd)

    def wrong_size(T):
        w = T.tensor([1.0], requires_grad=True)
        opt = T.optim.SGD([w])
        sd = opt.state_dict()
        sd["param_groups"][0]["params"] = [0, 1]
        opt.load_state_dict(sd)
    same_error(wrong_groups)
    same_error(wrong_size)


def test_load_keeps_and_replaces_param_names():
    def body(T):
        w, b, _ = make_params(T, np.float32)
        opt = T.optim.SGD([("w", w), ("b", b)], lr=0.1)
        sd = copy.deepcopy(opt.state_dict())
        del sd["param_groups"][0]["param_names"]
        opt.load_state_dict(sd)
        kept = opt.param_groups[0]["param_names"]
        sd["param_groups"][0]["param_names"] = ["x", "y"]
        opt.load_state_dict(sd)
        return kept, opt.param_groups[0]["param_names"]
    compare(body)


OLD_FORMAT_DROPPED = ("maximize", "foreach", "capturable", "differentiable", "fused",
                      "decoupled_weight_decay")


def _old_format(sd, dropped=OLD_FORMAT_DROPPED):
    """``sd`` as torch 1.x wrote it: ``step`` an int (other scalar state plain numbers), the
    ``dropped`` group keys missing, and state keyed by arbitrary ids listed in ``params``."""
    old_ids = [140234, 99, 7]
    remap = dict(zip(sd["param_groups"][0]["params"], old_ids))
    old = {"state": {remap[k]: {sk: (int(sv.item()) if sk == "step" else
                                     (sv.item() if sk in ("mu_product", "eta", "mu") else sv))
                                for sk, sv in v.items()} for k, v in sd["state"].items()},
           "param_groups": [{k: v for k, v in g.items() if k not in dropped}
                            for g in sd["param_groups"]]}
    old["param_groups"][0]["params"] = old_ids
    return old


@pytest.mark.parametrize("name", ALL)
def test_old_format_int_step_missing_keys_and_arbitrary_ids(name):
    """An old state dict loads and the optimizer continues as torch's does. torch's Adafactor
    (newer than the keys) fills only ``foreach``: it is given ``maximize`` here, and its
    failure without it is checked on its own below."""
    kwargs = STATEFUL_KW[name]
    dropped = tuple(k for k in OLD_FORMAT_DROPPED if not (name == "Adafactor" and
                                                          k == "maximize"))

    def body(T):
        opt, params = train(T, name, kwargs, np.float64, steps=10)
        fresh, fparams = _fresh(T, name, kwargs, params)
        fresh.load_state_dict(_old_format(opt.state_dict(), dropped))
        return fresh.state_dict(), _continue(T, fresh, fparams, 10, steps=5)
    compare(body, rtol=1e-12, atol=1e-12)


def test_old_format_without_maximize_fails_in_adafactor_as_in_torch():
    """torch's Adafactor does not fill ``maximize``: loading works, the next step raises
    KeyError('maximize'), and numtorch does the same rather than guessing."""
    def body(T):
        opt, params = train(T, "Adafactor", {}, np.float64, steps=3)
        fresh, fparams = _fresh(T, "Adafactor", {}, params)
        fresh.load_state_dict(_old_format(opt.state_dict()))
        assert "maximize" not in fresh.param_groups[0]
        assert isinstance(fresh.state[fparams[0]]["step"], T.Tensor)  # the upgrade ran
        _continue(T, fresh, fparams, 3, steps=1)
    errors = []
    for T in (torch, numtorch):
        with pytest.raises(KeyError) as info:
            body(T)
        errors.append(info.value.args)
    assert errors == [("maximize",), ("maximize",)]


def test_getstate_setstate_round_trip():
    opt, params = train(numtorch, "Adam", {"lr": 0.01}, np.float32, steps=3)
    state = opt.__getstate__()
    assert set(state) == {"defaults", "state", "param_groups"}
    clone = numtorch.optim.Adam.__new__(numtorch.optim.Adam)
    clone.__setstate__(copy.copy(state))
    assert clone.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    assert clone.state is opt.state and clone._optimizer_step_pre_hooks == {}


def test_user_defined_optimizer_subclass():
    """A custom optimizer written against the public API, as users write them for torch."""
    def body(T):
        required = importlib.import_module(T.__name__ + ".optim.optimizer").required

        class SignSGD(T.optim.Optimizer):
            def __init__(self, params, lr=required, decay=0.5):
                super().__init__(params, {"lr": lr, "decay": decay})

            @T.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        state = self.state[p]
                        state["n"] = state.get("n", 0) + 1
                        p.add_(p.grad.sign(), alpha=-group["lr"] * group["decay"] ** state["n"])

        w = T.tensor([1.0, -2.0, 3.0], requires_grad=True)
        opt = SignSGD([w], lr=0.1)
        log = []
        opt.register_step_post_hook(lambda o, a, k: log.append("post"))
        for _ in range(3):
            w.grad = T.tensor([0.5, -0.5, 0.0])
            opt.step()
        err = None
        try:
            SignSGD([w])
        except ValueError as exc:
            err = str(exc)
        return w.detach(), opt.state_dict(), log, err, repr(opt)
    compare(body)


def test_parameter_replaced_in_place_keeps_updates_correct():
    def body(T):
        w, b, _ = make_params(T, np.float32)
        opt = T.optim.Adam([w, b], lr=0.1)
        for i in range(3):
            set_linear_grads(T, w, b, X[i], Y[i])
            opt.step()
        with T.no_grad():
            w.data = T.tensor(np.ones((4, 3), np.float32))
        set_linear_grads(T, w, b, X[3], Y[3])
        opt.step()
        return w.detach(), b.detach(), opt.state_dict()
    compare(body)


@pytest.mark.parametrize("name", ["Adam", "SGD", "RMSprop"])
def test_duplicate_parameter_is_stepped_twice_like_torch(name):
    def body(T):
        w, b, _ = make_params(T, np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = getattr(T.optim, name)([w, b, w], **STATEFUL_KW[name])
        for i in range(5):
            set_linear_grads(T, w, b, X[i], Y[i])
            opt.step()
        return w.detach(), b.detach(), opt.state_dict()
    compare(body, rtol=1e-5, atol=1e-6)


def test_subclass_calling_super_step_runs_hooks_once():
    """torch runs the hooks once per patched class level (so it depends on whether a plain
    Adam was ever built); numtorch runs them once per user call."""
    class ClippedAdam(numtorch.optim.Adam):
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.clamp_(-0.1, 0.1)
            return super().step(closure)

    w = numtorch.tensor([1.0, -1.0], requires_grad=True)
    opt = ClippedAdam([w], lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    w.grad = numtorch.tensor([5.0, -5.0])
    opt.step()
    assert calls == ["pre", "post"]
    np.testing.assert_allclose(w.detach().numpy(), [0.9, -0.9], rtol=1e-6)
