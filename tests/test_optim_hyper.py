"""Tensor hyper-parameters against torch: a tensor ``lr`` (and tensor ``betas``) keep torch's
0-d tensor maths (float32 step sizes for a float32 lr, whatever the parameters' dtype), stay
tensors in ``param_groups``, raise torch's errors with ``foreach``; fused groups keep a float32
``step``; Adagrad makes state for parameters that have none; complex parameters step as torch
steps them for every optimizer and option."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from harness import compare
from test_optim import RNG, same_error, train

TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])

# every option in which the lr takes part in tensor maths (step sizes, decoupled decay)
TENSOR_LR = [
    ("SGD", {"momentum": 0.9}, 0.05),
    ("SGD", {"momentum": 0.5, "nesterov": True, "weight_decay": 0.1}, 0.05),
    ("Adam", {}, 0.01),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1}, 0.01),
    ("Adam", {"weight_decay": 0.1, "decoupled_weight_decay": True}, 0.01),
    ("AdamW", {"maximize": True}, 0.01),
    ("AdamW", {"fused": True}, 0.01),
    ("RMSprop", {}, 0.01),
    ("RMSprop", {"centered": True, "momentum": 0.5}, 0.01),
    ("Adagrad", {"lr_decay": 0.01}, 0.1),
    ("Adagrad", {"lr_decay": 0.01, "fused": True}, 0.1),
    ("Adamax", {"weight_decay": 0.1}, 0.01),
    ("NAdam", {"weight_decay": 0.1}, 0.01),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}, 0.01),
    ("RAdam", {}, 0.01),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}, 0.01),
    ("Adafactor", {"weight_decay": 0.1}, 0.01),
    ("ASGD", {"t0": 5}, 0.05),
]


def _ids(cases):
    return [f"{c[0]}-{'-'.join(c[1]) or 'plain'}" for c in cases]


@DTYPES
@pytest.mark.parametrize("name,kwargs,lr", TENSOR_LR, ids=_ids(TENSOR_LR))
def test_tensor_lr_steps_match_torch(name, kwargs, lr, dtype):
    def body(T):
        opt, params = train(T, name, {"lr": T.tensor(lr), **kwargs}, dtype)
        return list(params), opt.state_dict()
    compare(body, **TOL[dtype])


@pytest.mark.parametrize("name", ["Adam", "Adagrad", "NAdam", "RAdam"])
def test_float64_tensor_lr_with_float32_parameters(name):
    """A float64 lr makes float64 step sizes, rounded once into the float32 update."""
    def body(T):
        opt, params = train(T, name, {"lr": T.tensor(0.01, dtype=T.float64)}, np.float32, 40)
        return list(params), opt.state_dict()
    compare(body, **TOL[np.float32])


# torch's float32 0-d sqrt (MKL's) is 1 ulp off the correctly rounded one for some values, which
# ones depending on the CPU: these tests use torch's root (the torch_f32_sqrt fixture), so the rest
# of the step compares as tightly as for float lrs.
TENSOR_BETAS = [
    ("Adam", {}, (0.9, 0.99)),
    ("Adam", {"amsgrad": True, "lr_tensor": True}, (0.3, 0.95)),
    ("AdamW", {"weight_decay": 0.1}, (0.8, 0.999)),
    ("Adamax", {}, (0.9, 0.99)),
    ("NAdam", {"weight_decay": 0.1}, (0.9, 0.99)),
    ("RAdam", {"lr_tensor": True}, (0.9, 0.99)),
    ("RAdam", {"weight_decay": 0.1}, (0.4, 0.95)),
]


@pytest.mark.usefixtures("torch_f32_sqrt")
@DTYPES
@pytest.mark.parametrize("beta_dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs,betas", TENSOR_BETAS, ids=_ids(TENSOR_BETAS))
def test_tensor_betas_stay_tensors_and_steps_match_torch(name, kwargs, betas, beta_dtype,
                                                         dtype):
    kwargs = dict(kwargs)
    lr_tensor = kwargs.pop("lr_tensor", False)

    def body(T):
        bd = getattr(T, beta_dtype)
        kw = {"lr": T.tensor(0.01) if lr_tensor else 0.01,
              "betas": (T.tensor(betas[0], dtype=bd), T.tensor(betas[1], dtype=bd)), **kwargs}
        opt, params = train(T, name, kw, dtype, 30)
        return list(params), opt.state_dict(), opt.defaults["betas"]
    compare(body, **TOL[dtype])


def test_one_element_tensor_betas_are_squeezed():
    def body(T):
        w = T.tensor([1.0, -2.0], requires_grad=True)
        opt = T.optim.Adam([w], betas=(T.tensor([0.9]), T.tensor([[0.99]])))
        w.grad = T.tensor([0.3, 0.7])
        opt.step()
        return opt.state_dict()["param_groups"][0]["betas"], w.detach()
    compare(body)


def test_tensor_lr_and_betas_errors_match_torch():
    cases = [
        lambda T, w: T.optim.Adam([w], lr=T.tensor(0.01), foreach=True),
        lambda T, w: T.optim.AdamW([w], lr=T.tensor(0.01), foreach=True),
        lambda T, w: T.optim.Adam([w], lr=T.tensor([0.01, 0.02]), foreach=True),
        lambda T, w: T.optim.Adam([w], lr=T.tensor([0.01, 0.02])),
        lambda T, w: T.optim.Adam([w], betas=(T.tensor(0.9), T.tensor(0.99)), foreach=True),
        lambda T, w: T.optim.AdamW([w], betas=(0.9, T.tensor(0.99))),
        lambda T, w: T.optim.Adam([w], betas=(T.tensor(0.9), 0.99)),
        lambda T, w: T.optim.Adam([w], betas=(T.tensor(1.5), T.tensor(0.99))),
        lambda T, w: T.optim.Adam([w], betas=(T.tensor(0.5), T.tensor([[0.9]])), foreach=True),
        lambda T, w: T.optim.Adam([w], betas=(0.9, 1)),
    ]
    for fn in cases:
        same_error(lambda T: fn(T, T.tensor([1.0, 2.0], requires_grad=True)))


def test_tensor_lr_with_foreach_group_fails_at_step_like_torch():
    """A group added with foreach=True meets the tensor lr at step time: torch's RuntimeError,
    and no parameter changes."""
    def body(T):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        opt = T.optim.Adam([w], lr=T.tensor(0.01))
        opt.add_param_group({"params": [T.tensor([3.0], requires_grad=True)], "foreach": True})
        for p in (w, opt.param_groups[1]["params"][0]):
            p.grad = T.ones_like(p)
        try:
            opt.step()
        except RuntimeError as exc:
            return str(exc), [p.detach() for g in opt.param_groups for p in g["params"]]
        return None
    compare(body)


# ---------------------------------------------------------------- fused step dtype
@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adagrad"])
def test_fused_groups_keep_a_float32_step_under_float64_default(name):
    def body(T):
        old = T.get_default_dtype()
        T.set_default_dtype(T.float64)
        try:
            w = T.tensor([1.0, 2.0], requires_grad=True)
            v = T.tensor([3.0, 4.0], requires_grad=True)
            u = T.tensor([5.0], requires_grad=True)
            opt = getattr(T.optim, name)([w], lr=0.1, fused=True)
            opt.add_param_group({"params": [v]})  # fused, made lazily for Adagrad
            opt.add_param_group({"params": [u], "fused": False})
            for _ in range(2):
                for p in (w, v, u):
                    p.grad = T.ones_like(p)
                opt.step()
            sd = opt.state_dict()
            old_format = {"state": {k: {**s, "step": 2} for k, s in sd["state"].items()},
                          "param_groups": sd["param_groups"]}
            opt.load_state_dict(old_format)
            return sd, opt.state_dict(), w.detach(), v.detach(), u.detach()
        finally:
            T.set_default_dtype(old)
    compare(body)


# ---------------------------------------------------------------- Adagrad state made lazily
def test_adagrad_makes_state_for_an_added_group_from_the_defaults():
    """torch fills ``sum`` with the constructor's initial_accumulator_value, not the group's."""
    def body(T, dtype):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        v = T.tensor([3.0, 4.0], dtype=getattr(T, dtype), requires_grad=True)
        z = T.tensor([1 + 1j], requires_grad=True)
        opt = T.optim.Adagrad([w], lr=0.1, initial_accumulator_value=0.5)
        opt.add_param_group({"params": [v], "initial_accumulator_value": 3.0})
        opt.add_param_group({"params": [z], "lr": 0.2})
        for _ in range(3):
            w.grad, v.grad = T.ones_like(w), T.ones_like(v)
            z.grad = T.tensor([0.5 - 1j])
            opt.step()
        return w.detach(), v.detach(), z.detach(), opt.state_dict()
    compare(body, "float32")
    compare(body, "float64")  # mixed dtypes: the per-parameter path


def test_adagrad_parameter_missing_from_a_loaded_state_dict():
    def body(T):
        w = T.tensor([1.0, 2.0], requires_grad=True)
        v = T.tensor([3.0, 4.0], requires_grad=True)
        opt = T.optim.Adagrad([w, v], lr=0.1, initial_accumulator_value=0.25)
        sd = opt.state_dict()
        del sd["state"][1]
        opt.load_state_dict(sd)
        missing = 1 not in opt.state_dict()["state"]
        w.grad, v.grad = T.ones_like(w), T.ones_like(v)
        opt.step()
        return missing, w.detach(), v.detach(), opt.state_dict()
    compare(body)


# ---------------------------------------------------------------- complex parameters
COMPLEX = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.1,
             "maximize": True}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("AdamW", {"lr": 0.1, "amsgrad": True}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"maximize": True, "alpha": 0.9}),
    ("Adagrad", {"lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.2}),
    ("Adamax", {"weight_decay": 0.1}),
    ("Adamax", {"maximize": True}),
    ("NAdam", {"weight_decay": 0.1}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"weight_decay": 0.1}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("Adadelta", {"weight_decay": 0.1}),
    ("Rprop", {"maximize": True}),
    ("ASGD", {"t0": 2, "weight_decay": 0.1}),
    ("Adafactor", {}),  # torch refuses complex parameters
    ("Adam", {"lr": "tensor", "betas": "tensor"}),
    ("NAdam", {"lr": "tensor", "betas": "tensor"}),
]
Z0 = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
G = RNG.standard_normal((8, 2, 3)) + 1j * RNG.standard_normal((8, 2, 3))


@pytest.mark.usefixtures("torch_f32_sqrt")
@pytest.mark.parametrize("ctype", ["complex64", "complex128"])
@pytest.mark.parametrize("name,kwargs", COMPLEX, ids=_ids(COMPLEX))
def test_complex_parameters_match_torch(name, kwargs, ctype):
    def body(T):
        kw = dict(kwargs)
        if kw.get("lr") == "tensor":
            kw["lr"], kw["betas"] = T.tensor(0.05), (T.tensor(0.8), T.tensor(0.95))
        z = T.tensor(Z0.astype(ctype), requires_grad=True)
        opt = getattr(T.optim, name)([z], **kw)
        for g in G:  # 8 steps: RAdam rectifies from step 6
            z.grad = T.tensor(g.astype(ctype))
            opt.step()
        return z.detach(), opt.state_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(body, **(TOL[np.float32] if ctype == "complex64" else TOL[np.float64]))


def test_float32_hyper_parameter_sqrt_is_correctly_rounded():
    """numtorch's own root (used outside the torch_f32_sqrt fixture) is the float32 nearest to
    the exact one, for the bias corrections of common betas."""
    from numtorch.optim._hyper import _pow
    for beta in (0.9, 0.95, 0.99, 0.999, 0.3):
        b = np.float32(beta)
        for step in range(1, 200):
            x = np.float32(1) - _pow(b, float(step))
            exact = np.sqrt(np.float64(x))
            got = _pow(x, 0.5)
            assert type(got) is np.float32
            assert got == np.float32(exact), (beta, step)
