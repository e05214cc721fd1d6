"""Losses (functional and module forms) against torch: values, gradients, grad_fn names, errors."""
import functools
import warnings

import numpy as np
import pytest

import harness

RNG = np.random.default_rng(0)


def differential(fn=None, **kw):
    """harness.differential, reseeding the data generator before each library's run."""
    def deco(body):
        @functools.wraps(body)
        def seeded(T, *args, **kwargs):
            global RNG
            RNG = np.random.default_rng(0)
            return body(T, *args, **kwargs)
        return harness.differential(seeded, **kw)
    return deco(fn) if fn is not None else deco
REDUCTIONS = ["none", "mean", "sum"]


def arr(*shape, dtype="float32", low=None, high=None):
    if low is not None:
        return RNG.uniform(low, high, shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def backward_with(out, T):
    """Backpropagate a fixed random upstream gradient of ``out``'s shape."""
    g = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(
        str(out.dtype).replace("torch.", ""))
    out.backward(T.tensor(g))


def run_loss(T, name, x, t, *, grad_target=False, module=None, **kw):
    """``F.<name>`` (or ``nn.<module>``) on fresh leaves, then backward; returns all results."""
    xi = T.tensor(x, requires_grad=x.dtype.kind == "f")
    ti = T.tensor(t, requires_grad=grad_target)
    if module is not None:
        out = getattr(T.nn, module)(**kw)(xi, ti)
    else:
        out = getattr(T.nn.functional, name)(xi, ti, **kw)
    if out.requires_grad:
        backward_with(out, T)
    return out, xi.grad, ti.grad


# ---------------------------------------------------------------------------- regression
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@differential(check_grad_fn=True)
def test_regression_losses(T, name, reduction, dtype):
    x, t = arr(5, 4, dtype=dtype), arr(5, 4, dtype=dtype)
    t[0, 0] = x[0, 0]  # a zero difference: sign and kinks must agree
    return run_loss(T, name, x, t, grad_target=True, reduction=reduction)


@pytest.mark.parametrize("beta", [0.0, 0.3, 2.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@differential(check_grad_fn=True)
def test_smooth_l1_beta(T, beta, reduction):
    return run_loss(T, "smooth_l1_loss", arr(6, 3), arr(6, 3), grad_target=True, beta=beta,
                    reduction=reduction)


@pytest.mark.parametrize("delta", [0.2, 1.0, 3.0])
@differential(check_grad_fn=True)
def test_huber_delta(T, delta):
    return run_loss(T, "huber_loss", arr(6, 3), arr(6, 3), delta=delta, reduction="sum")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@differential(check_grad_fn=True)
def test_weighted_regression(T, name, reduction):
    w = T.tensor(arr(4, 3, low=0.1, high=2.0))
    return run_loss(T, name, arr(4, 3), arr(4, 3), grad_target=True, reduction=reduction,
                    weight=w)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@differential(check_grad_fn=True)
def test_regression_broadcast_warns(T, name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_loss(T, name, arr(4, 3), arr(4, 1), grad_target=True)
    return res, [str(c.message) for c in caught]


@pytest.mark.parametrize("case", ["bad_reduction", "not_broadcastable", "weight_size",
                                  "weighted_bad_reduction", "int_mse", "int_smooth", "int_huber",
                                  "int_l1_mean", "neg_beta", "neg_delta"])
@differential(match_message=True)
def test_regression_errors(T, case):
    F = T.nn.functional
    x = T.tensor(arr(4, 3))
    i = T.ones(4, 3, dtype=T.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "bad_reduction": lambda: F.mse_loss(x, x, reduction="avg"),
            "not_broadcastable": lambda: F.mse_loss(x, T.tensor(arr(4, 2))),
            "weight_size": lambda: F.mse_loss(x, x, weight=T.ones(3)),
            "weighted_bad_reduction": lambda: F.l1_loss(x, x, reduction="x", weight=T.ones(4, 3)),
            "int_mse": lambda: F.mse_loss(i, i),
            "int_smooth": lambda: F.smooth_l1_loss(i, i),
            "int_huber": lambda: F.huber_loss(i, i),
            "int_l1_mean": lambda: F.l1_loss(i, i),
            "neg_beta": lambda: F.smooth_l1_loss(x, x, beta=-1.0),
            "neg_delta": lambda: F.huber_loss(x, x, delta=0.0),
        }[case]()


@differential
def test_regression_promotes_target_dtype(T):
    F = T.nn.functional
    x = T.tensor(arr(3, 2))
    return (F.mse_loss(x, T.tensor(arr(3, 2, dtype="float64"))),
            F.l1_loss(x, T.ones(3, 2, dtype=T.int64)), F.l1_loss(T.ones(3, dtype=T.int64),
                                                                 T.zeros(3, dtype=T.int64),
                                                                 reduction="sum"))


@differential
def test_legacy_size_average_reduce(T):
    F = T.nn.functional
    x, t = T.tensor(arr(3, 2)), T.tensor(arr(3, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = [F.mse_loss(x, t, size_average=False), F.l1_loss(x, t, reduce=False),
               F.cross_entropy(x, T.tensor([0, 1, 1]), size_average=True, reduce=True)]
    return res, [str(c.message) for c in caught]


# ---------------------------------------------------------------------------- cross entropy
def labels(shape, classes, ignore=None):
    t = RNG.integers(0, classes, shape)
    if ignore is not None:
        t.flat[::3] = ignore
    return t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(8, 5), (5,), (3, 4, 6), (2, 4, 3, 5), (2, 3, 2, 2, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@differential(check_grad_fn=True)
def test_cross_entropy_indices(T, reduction, shape, dtype):
    x = arr(*shape, dtype=dtype) * 3
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = labels(tshape, shape[0] if len(shape) == 1 else shape[1])
    return run_loss(T, "cross_entropy", x, t, reduction=reduction)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, -100, 2])
@pytest.mark.parametrize("smoothing", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@differential(check_grad_fn=True)
def test_cross_entropy_options(T, weighted, ignore, smoothing, reduction):
    x = arr(9, 4, dtype="float64") * 2
    t = labels((9,), 4, ignore)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    if ignore is not None:
        kw["ignore_index"] = ignore
    if weighted:
        kw["weight"] = T.tensor(arr(4, dtype="float64", low=0.2, high=2.0))
    return run_loss(T, "cross_entropy", x, t, **kw)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
@differential(check_grad_fn=True)
def test_cross_entropy_spatial_options(T, smoothing, weighted):
    x = arr(2, 3, 4, 5) * 2
    t = labels((2, 4, 5), 3, ignore=1)
    w = T.tensor(arr(3, low=0.5, high=1.5)) if weighted else None
    return run_loss(T, "cross_entropy", x, t, weight=w, ignore_index=1,
                    label_smoothing=smoothing)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (4,), (2, 3, 5)])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@differential(check_grad_fn=True)
def test_cross_entropy_probabilities(T, reduction, shape, smoothing, weighted):
    x = arr(*shape, dtype="float64") * 2
    p = RNG.random(shape)
    p = p / p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    classes = shape[0] if len(shape) == 1 else shape[1]
    w = T.tensor(arr(classes, dtype="float64", low=0.5, high=2.0)) if weighted else None
    return run_loss(T, "cross_entropy", x, p, grad_target=True, reduction=reduction,
                    label_smoothing=smoothing, weight=w)


@differential
def test_cross_entropy_extreme_logits_stay_finite(T):
    x = np.array([[1000.0, -1000.0, 0.0], [-5e4, 5e4, 3.0]], dtype="float32")
    return run_loss(T, "cross_entropy", x, np.array([1, 0]))


@differential
def test_cross_entropy_uint8_target_and_all_ignored(T):
    x = arr(5, 3)
    a = run_loss(T, "cross_entropy", x, np.array([0, 2, 1, 1, 0], dtype=np.uint8))
    b = run_loss(T, "cross_entropy", x, np.full(5, -100))
    return a, b


@differential
def test_cross_entropy_empty_batch(T):
    return run_loss(T, "cross_entropy", arr(0, 3), np.zeros(0, dtype=np.int64))


@pytest.mark.parametrize("case", ["float_indices", "int32_target", "batch", "out_of_range",
                                  "negative", "weight_shape", "prob_int", "prob_ignore",
                                  "smoothing", "int_input", "zero_dim", "spatial_target",
                                  "multi_target", "prob_smoothing_negative", "weight_dtype",
                                  "nll_weight_dtype"])
@differential(match_message=True)
def test_cross_entropy_errors(T, case):
    F = T.nn.functional
    x = T.tensor(arr(4, 3))
    t = T.tensor([0, 1, 2, 1])
    return {
        "float_indices": lambda: F.cross_entropy(x, t.float()),
        "int32_target": lambda: F.cross_entropy(x, t.int()),
        "batch": lambda: F.cross_entropy(x, T.tensor([0, 1, 2, 1, 0])),
        "out_of_range": lambda: F.cross_entropy(x, T.tensor([0, 1, 3, 1])),
        "negative": lambda: F.cross_entropy(x, T.tensor([0, -5, 1, 1])),
        "weight_shape": lambda: F.cross_entropy(x, t, weight=T.ones(4)),
        "prob_int": lambda: F.cross_entropy(x, T.ones(4, 3, dtype=T.int64)),
        "prob_ignore": lambda: F.cross_entropy(x, T.tensor(arr(4, 3)), ignore_index=1),
        "smoothing": lambda: F.cross_entropy(x, t, label_smoothing=1.5),
        "int_input": lambda: F.cross_entropy(T.ones(4, 3, dtype=T.int64), t),
        "zero_dim": lambda: F.cross_entropy(T.tensor(1.0), t),
        "spatial_target": lambda: F.cross_entropy(T.tensor(arr(2, 3, 4)),
                                                  T.tensor(labels((2, 5), 3))),
        "multi_target": lambda: F.cross_entropy(x, T.tensor(labels((4, 2), 3))),
        "prob_smoothing_negative": lambda: F.cross_entropy(x, T.tensor(arr(4, 3)),
                                                           label_smoothing=-0.5),
        "weight_dtype": lambda: F.cross_entropy(x, t, weight=T.ones(3, dtype=T.float64)),
        "nll_weight_dtype": lambda: F.nll_loss(x.double(), t, weight=T.ones(3)),
    }[case]()


@differential(match_message=True)
def test_class_weight_must_not_require_grad(T):
    x = T.tensor(arr(4, 3), requires_grad=True)
    w = T.ones(3, requires_grad=True)
    return T.nn.functional.cross_entropy(x, T.tensor([0, 1, 2, 1]), weight=w)


# ---------------------------------------------------------------------------- nll
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7, 4), (4,), (2, 4, 3), (2, 4, 3, 2)])
@pytest.mark.parametrize("weighted", [False, True])
@differential(check_grad_fn=True)
def test_nll_loss(T, reduction, shape, weighted):
    classes = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    w = T.tensor(arr(classes, low=0.5, high=2.0)) if weighted else None
    return run_loss(T, "nll_loss", arr(*shape), labels(tshape, classes, ignore=None if
                                                       len(shape) == 1 else 0),
                    reduction=reduction, weight=w, ignore_index=0 if len(shape) > 1 else -100)


@pytest.mark.parametrize("case", ["float_target", "batch", "spatial", "out_of_range"])
@differential(match_message=True)
def test_nll_errors(T, case):
    F = T.nn.functional
    x = T.tensor(arr(4, 3))
    return {
        "float_target": lambda: F.nll_loss(x, T.tensor([0.0, 1.0, 2.0, 1.0])),
        "batch": lambda: F.nll_loss(x, T.tensor([0, 1])),
        "spatial": lambda: F.nll_loss(T.tensor(arr(2, 3, 4)), T.tensor([0, 1])),
        "out_of_range": lambda: F.nll_loss(x, T.tensor([0, 1, 2, 7])),
    }[case]()


# ---------------------------------------------------------------------------- binary
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@differential(check_grad_fn=True)
def test_binary_cross_entropy(T, reduction, weighted, dtype):
    x = arr(6, 4, dtype=dtype, low=0.02, high=0.98)
    t = arr(6, 4, dtype=dtype, low=0.0, high=1.0)
    w = T.tensor(arr(4, dtype=dtype, low=0.5, high=2.0)) if weighted else None
    return run_loss(T, "binary_cross_entropy", x, t, grad_target=True, weight=w,
                    reduction=reduction)


@differential
def test_binary_cross_entropy_clamps_log(T):
    x = np.array([0.0, 1.0, 0.0, 1.0], dtype="float32")
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype="float32")
    return T.nn.functional.binary_cross_entropy(T.tensor(x), T.tensor(t), reduction="none")


@pytest.mark.parametrize("case", ["shape", "shape2", "input_range", "target_range",
                                  "int_target", "double_target", "long_both", "weight_shape"])
@differential(match_message=True)
def test_binary_cross_entropy_errors(T, case):
    F = T.nn.functional
    p = T.tensor(arr(4, 3, low=0.1, high=0.9))
    return {
        "shape": lambda: F.binary_cross_entropy(T.tensor(arr(4, low=0, high=1)),
                                                T.tensor(arr(3, low=0, high=1))),
        "shape2": lambda: F.binary_cross_entropy(T.tensor(arr(4, 1, low=0, high=1)),
                                                 T.tensor(arr(4, low=0, high=1))),
        "input_range": lambda: F.binary_cross_entropy(p * 2, p),
        "target_range": lambda: F.binary_cross_entropy(p, p * 3),
        "int_target": lambda: F.binary_cross_entropy(p, T.ones(4, 3, dtype=T.int64)),
        "double_target": lambda: F.binary_cross_entropy(p, p.double()),
        "long_both": lambda: F.binary_cross_entropy(T.ones(3, dtype=T.int64),
                                                    T.ones(3, dtype=T.int64)),
        "weight_shape": lambda: F.binary_cross_entropy(p, p, weight=T.ones(4)),
    }[case]()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
@differential(check_grad_fn=True)
def test_bce_with_logits(T, reduction, weighted, pos_weighted):
    x = arr(6, 4, dtype="float64") * 4
    x[0, 0], x[0, 1] = 60.0, -60.0
    t = arr(6, 4, dtype="float64", low=0.0, high=1.0)
    w = T.tensor(arr(4, dtype="float64", low=0.5, high=2.0)) if weighted else None
    pw = T.tensor(arr(4, dtype="float64", low=0.5, high=3.0)) if pos_weighted else None
    return run_loss(T, "binary_cross_entropy_with_logits", x, t, grad_target=True, weight=w,
                    pos_weight=pw, reduction=reduction)


@pytest.mark.parametrize("case", ["shape", "int_target", "pos_weight_shape", "weight_grad"])
@differential(match_message=True)
def test_bce_with_logits_errors(T, case):
    F = T.nn.functional
    x = T.tensor(arr(4, 3))
    return {
        "shape": lambda: F.binary_cross_entropy_with_logits(T.tensor(arr(4)), T.tensor(arr(3))),
        "int_target": lambda: F.binary_cross_entropy_with_logits(x, T.ones(4, 3,
                                                                           dtype=T.int64)),
        "pos_weight_shape": lambda: F.binary_cross_entropy_with_logits(x, x,
                                                                       pos_weight=T.ones(4)),
        "weight_grad": lambda: F.binary_cross_entropy_with_logits(
            x, x, weight=T.ones(3, requires_grad=True)),
    }[case]()


@differential(rtol=1e-6)  # float32 log-sigmoid (as torch) promoted to float64: ulp-level libm gaps
def test_bce_with_logits_promotes(T):
    return T.nn.functional.binary_cross_entropy_with_logits(T.tensor(arr(3)),
                                                            T.tensor(arr(3, dtype="float64")))


# ---------------------------------------------------------------------------- kl_div
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
@differential(check_grad_fn=True)
def test_kl_div(T, reduction, log_target):
    x = np.log(arr(5, 4, dtype="float64", low=0.05, high=1.0))
    t = arr(5, 4, dtype="float64", low=0.05, high=1.0)
    if log_target:
        t = np.log(t)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = run_loss(T, "kl_div", x, t, grad_target=True, reduction=reduction,
                       log_target=log_target)
    return res, [str(c.message) for c in caught]


@differential
def test_kl_div_zero_target_forward(T):
    x = np.log(arr(3, 4, dtype="float64", low=0.05, high=1.0))
    t = arr(3, 4, dtype="float64", low=0.05, high=1.0)
    t[0, :2] = 0
    return run_loss(T, "kl_div", x, t, reduction="sum")


@differential(match_message=True)
def test_kl_div_integral_error(T):
    return T.nn.functional.kl_div(T.tensor(arr(3)), T.ones(3, dtype=T.int64), reduction="sum")


# ---------------------------------------------------------------------------- autograd contract
@differential(match_message=True)
def test_second_backward_through_loss_raises(T):
    x = T.tensor(arr(4, 3), requires_grad=True)
    loss = T.nn.functional.cross_entropy(x, T.tensor([0, 1, 2, 1]))
    loss.backward()
    loss.backward()


@differential
def test_loss_without_grad_records_nothing(T):
    x = T.tensor(arr(4, 3), requires_grad=True)
    with T.no_grad():
        a = T.nn.functional.cross_entropy(x, T.tensor([0, 1, 2, 1]))
        b = T.nn.functional.mse_loss(x, x)
    return a, b, a.grad_fn is None, b.requires_grad


# ---------------------------------------------------------------------------- modules
MODULE_CASES = {
    "MSELoss": ("mse_loss", {}), "L1Loss": ("l1_loss", {}),
    "SmoothL1Loss": ("smooth_l1_loss", {"beta": 0.5}), "HuberLoss": ("huber_loss", {"delta": 0.7}),
    "CrossEntropyLoss": ("cross_entropy", {"label_smoothing": 0.1, "ignore_index": 1}),
    "NLLLoss": ("nll_loss", {"ignore_index": 2}), "BCELoss": ("binary_cross_entropy", {}),
    "BCEWithLogitsLoss": ("binary_cross_entropy_with_logits", {}),
    "KLDivLoss": ("kl_div", {"reduction": "batchmean", "log_target": True}),
}


def module_inputs(name):
    if name in ("CrossEntropyLoss", "NLLLoss"):
        return arr(6, 4), labels((6,), 4)
    if name == "BCELoss":
        return arr(6, 4, low=0.05, high=0.95), arr(6, 4, low=0.0, high=1.0)
    return arr(6, 4), arr(6, 4)


@pytest.mark.parametrize("name", sorted(MODULE_CASES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@differential(check_grad_fn=True)
def test_loss_modules_match_functional_and_torch(T, name, reduction):
    fn, kw = MODULE_CASES[name]
    kw = dict(kw)
    if name != "KLDivLoss":
        kw["reduction"] = reduction
    x, t = module_inputs(name)
    mod_res = run_loss(T, fn, x, t, module=name, **kw)
    fn_res = run_loss(T, fn, x, t, **kw)
    agree = bool(np.allclose(mod_res[0].detach().numpy(), fn_res[0].detach().numpy()))
    return mod_res, agree, repr(getattr(T.nn, name)(**kw)), getattr(T.nn, name)().reduction


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "BCELoss"])
@differential
def test_weighted_loss_modules_keep_weight_buffer(T, name):
    w = T.tensor([0.5, 1.0, 2.0])
    m = getattr(T.nn, name)(weight=w)
    plain = getattr(T.nn, name)()
    return (m.state_dict(), [n for n, _ in m.named_buffers()], plain.state_dict(), plain.weight,
            m.weight is w, m.double().weight.dtype)


@differential
def test_bce_with_logits_module_buffers_and_math(T):
    m = T.nn.BCEWithLogitsLoss(weight=T.tensor([1.0, 2.0]), pos_weight=T.tensor([3.0, 0.5]))
    x, t = arr(4, 2), arr(4, 2, low=0.0, high=1.0)
    return list(m.state_dict().keys()), run_loss(T, "binary_cross_entropy_with_logits", x, t,
                                                 module="BCEWithLogitsLoss",
                                                 weight=m.weight, pos_weight=m.pos_weight)


@differential
def test_loss_module_legacy_args_and_attributes(T):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = T.nn.CrossEntropyLoss(size_average=False)
        n = T.nn.MSELoss(reduce=False)
    ce = T.nn.CrossEntropyLoss(ignore_index=3, label_smoothing=0.2)
    return (m.reduction, n.reduction, [str(c.message) for c in caught], ce.ignore_index,
            ce.label_smoothing, T.nn.SmoothL1Loss(beta=2.0).beta, T.nn.HuberLoss().delta,
            T.nn.KLDivLoss(log_target=True).log_target, T.nn.MSELoss().training)


@differential(match_message=True)
def test_huber_module_rejects_non_number_delta(T):
    return T.nn.HuberLoss(delta="1")


@differential(match_message=True)
def test_loss_module_bad_reduction_fails_on_call(T):
    m = T.nn.MSELoss(reduction="avg")
    x = T.tensor(arr(3))
    return m(x, x)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "cross_entropy",
                                  "binary_cross_entropy_with_logits"])
@differential(check_grad_fn=True)
def test_half_precision_losses(T, dtype, name):
    x = T.tensor(arr(6, 5, dtype="float32")).to(getattr(T, dtype)).requires_grad_()
    if name == "cross_entropy":
        t = T.tensor(labels((6,), 5))
    else:
        t = T.tensor(arr(6, 5, low=0.0, high=1.0)).to(getattr(T, dtype))
    out = getattr(T.nn.functional, name)(x, t)
    out.backward()
    return out, x.grad


@pytest.mark.parametrize("shape", [(6, 40), (40,), (2, 40, 3)])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@differential(check_grad_fn=True)
def test_cross_entropy_many_classes(T, shape, smoothing, reduction, weighted):
    """Above 32 classes the fused node works in the (rows, classes) layout."""
    classes = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = labels(tshape, classes, ignore=None if len(shape) == 1 else 5)
    w = T.tensor(arr(classes, dtype="float64", low=0.5, high=2.0)) if weighted else None
    return run_loss(T, "cross_entropy", arr(*shape, dtype="float64") * 3, t, weight=w,
                    ignore_index=5, label_smoothing=smoothing, reduction=reduction)
