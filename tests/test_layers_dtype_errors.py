"""Layers and functionals whose input and parameters have different dtypes, against torch.

Each test walks every combination of input and parameter dtypes of one function and compares
the result dtype and values, or the error type and torch's whole message.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from harness import compare

FLOATS = ("float32", "float64", "float16", "bfloat16")
DTYPES = FLOATS + ("int64",)


def ones(T, dtype: str | None, *shape):
    """``T.ones(*shape)`` in ``dtype``; None for an absent tensor."""
    return None if dtype is None else T.ones(*shape, dtype=getattr(T, dtype))


def values(T, dtype: str, *shape, seed: int = 0, low: float = -1.0, high: float = 1.0):
    """Seeded values in ``[low, high)`` as a ``dtype`` tensor (integers for int64)."""
    rng = np.random.default_rng(seed)
    if dtype == "int64":
        return T.tensor(rng.integers(0, 3, shape))
    return T.tensor(rng.uniform(low, high, shape).astype(np.float32)).to(getattr(T, dtype))


def check_all(body, combos) -> None:
    """``compare(body, *combo, match_message=True)`` for each combination, with tolerances that
    fit half precision."""
    for combo in combos:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                compare(body, *combo, match_message=True, rtol=2e-2, atol=2e-2)
            except AssertionError as exc:
                raise AssertionError(f"{combo}: {exc}") from None


# ---------------------------------------------------------------------- normalisation
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_mixed_dtypes(training):
    """float32 parameters may normalise a float16/bfloat16 input; other mixes raise torch's
    "mixed dtype (CPU)" or "expected scalar type" errors, the latter in the order torch's
    kernels read the tensors (running statistics first while training)."""
    def body(T, x, w, b, r, r2):
        return T.nn.functional.batch_norm(
            values(T, x, 4, 3), None if r is None else ones(T, r, 3) * 0, ones(T, r2, 3),
            ones(T, w, 3), ones(T, b, 3), training=training)
    opts = (None,) + FLOATS
    combos = [(x, w, b, r, r2) for x in DTYPES for w, b, r, r2 in itertools.product(opts, repeat=4)
              if (r is None) == (r2 is None) and (training or r is not None)
              and len({w, b, r, r2} - {None}) <= 2]
    check_all(body, combos)


def test_batch_norm_three_parameter_dtypes_report_the_kernel_order():
    def body(T, training, w, b, r, r2):
        return T.nn.functional.batch_norm(values(T, "float32", 4, 3), ones(T, r, 3),
                                          ones(T, r2, 3), ones(T, w, 3), ones(T, b, 3),
                                          training=training)
    check_all(body, [(t, "float32", b, r, r2) for t in (True, False)
                     for b, r, r2 in itertools.permutations(("float64", "float16", "float32"))])


@pytest.mark.parametrize("layer", ["BatchNorm1d", "LayerNorm", "GroupNorm"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_norm_layers_refuse_a_double_input(layer, mode):
    def body(T, x):
        m = T.nn.GroupNorm(1, 3) if layer == "GroupNorm" else getattr(T.nn, layer)(3)
        m.train(mode == "train")
        return m(values(T, x, 4, 3, 2))
    check_all(body, [(d,) for d in DTYPES])


@pytest.mark.parametrize("fn", ["layer_norm", "group_norm"])
def test_layer_and_group_norm_mixed_dtypes(fn):
    def body(T, x, w, b):
        if fn == "layer_norm":
            return T.nn.functional.layer_norm(values(T, x, 4, 3), (3,), ones(T, w, 3),
                                              ones(T, b, 3))
        return T.nn.functional.group_norm(values(T, x, 2, 4, 3), 2, ones(T, w, 4),
                                          ones(T, b, 4))
    opts = (None,) + FLOATS
    check_all(body, [(x, w, b) for x in DTYPES for w in opts for b in opts])


def test_group_norm_shape_errors_and_batch_of_one():
    def body(T, shape, groups, w, b):
        return T.nn.functional.group_norm(values(T, "float32", *shape), groups,
                                          None if w is None else T.ones(w),
                                          None if b is None else T.ones(b))
    check_all(body, [((2, 4, 3), 2, 3, None), ((2, 4, 3), 2, None, 3), ((2, 4, 3), 2, 4, 5),
                     ((1, 4), 4, None, None), ((2, 4, 3), 3, None, None), ((1, 4, 1), 2, 4, 4),
                     ((2, 4, 3), 2, (2, 2), None)])


def test_batch_norm_feature_count_checks_in_torch_order():
    def body(T, training, rm, rv, w, b):
        t = lambda n: None if n is None else T.ones(n)  # noqa: E731
        return T.nn.functional.batch_norm(values(T, "float64", 4, 3), t(rm), t(rv), t(w),
                                          t(b), training=training)
    check_all(body, [(False, None, 3, None, None), (False, 3, None, None, None),
                     (True, 2, 3, None, None), (True, 3, 3, 2, None), (True, None, None, 3, 2),
                     (True, 3, 3, 3, 3), (False, 3, 3, 2, 2)])


# ---------------------------------------------------------------------- linear, bilinear
def test_linear_mixed_dtypes():
    """With a bias torch's addmm checks the bias against the weight, then input against weight;
    without one, matmul's "expected m1 and m2" error."""
    def body(T, x, w, b, rank):
        return T.nn.functional.linear(values(T, x, *((2, 4, 3)[3 - rank:])), values(T, w, 2, 3),
                                      None if b is None else values(T, b, 2))
    check_all(body, [(x, w, b, r) for x in DTYPES for w in DTYPES for b in (None,) + DTYPES
                     for r in (1, 2, 3) if len({x, w, b} - {None}) <= 2])


def test_linear_shape_errors_come_in_torch_order():
    def body(T, xs, ws, b, xd):
        bias = None if b is None else T.ones(b)
        return T.nn.functional.linear(T.ones(xs, dtype=getattr(T, xd)), T.ones(ws), bias)
    check_all(body, [((2, 4), (2, 3), None, "float64"), ((2, 4), (2, 3), 2, "float64"),
                     ((2, 4), (2, 3), 3, "float32"), ((), (2, 3), None, "float32"),
                     ((2, 3), (), None, "float32"), ((2, 3), (2, 2, 3), None, "float32"),
                     ((2, 3), (3,), (), "float32"), ((3,), (3,), None, "float32"),
                     ((2, 3), (3,), None, "float32"), ((4,), (2, 3), 2, "float64")])


def test_linear_module_with_double_input():
    def body(T, bias):
        return T.nn.Linear(3, 2, bias=bias)(values(T, "float64", 4, 3))
    check_all(body, [(True,), (False,)])


def test_bilinear_mixed_dtypes():
    def body(T, x1, x2, w, b):
        return T.nn.functional.bilinear(values(T, x1, 2, 3), values(T, x2, 2, 3),
                                        values(T, w, 2, 3, 3), None if b is None else
                                        values(T, b, 2))
    check_all(body, [(x1, x2, w, b) for x1, x2, w in itertools.product(DTYPES, repeat=3)
                     for b in (None, "float32", "float64") if len({x1, x2, w, b} - {None}) <= 2])


def test_bilinear_module_and_dtype_before_shape():
    def body(T, case):
        if case == 0:
            return T.nn.Bilinear(3, 3, 2)(values(T, "float64", 4, 3), values(T, "float64", 4, 3))
        if case == 1:
            return T.nn.Bilinear(3, 3, 2, bias=False)(values(T, "float64", 4, 3),
                                                      values(T, "float32", 4, 3))
        return T.nn.functional.bilinear(values(T, "float64", 2, 4), values(T, "float64", 2, 3),
                                        T.ones(2, 3, 3))
    check_all(body, [(0,), (1,), (2,)])


# ---------------------------------------------------------------------- prelu
def test_prelu_never_promotes():
    def body(T, x, w):
        return T.nn.functional.prelu(values(T, x, 2, 4), ones(T, w, 1))
    check_all(body, [(x, w) for x in DTYPES + ("bool",) for w in DTYPES if x != w or x == w])


def test_prelu_module_with_other_dtypes():
    def body(T, x):
        return T.nn.PReLU()(values(T, x, 4, 3))
    check_all(body, [(d,) for d in DTYPES])


def test_prelu_checks_in_torch_order():
    def body(T, xs, ws, xd):
        return T.nn.functional.prelu(T.ones(xs, dtype=getattr(T, xd)), T.ones(ws))
    f32 = "float32"
    check_all(body, [((), (4,), f32), ((), (1,), "float64"), ((), (1,), f32),
                     ((4,), (3,), "float64"), ((4,), (2, 2), f32), ((3, 4), (2, 2), f32),
                     ((2, 3), (4,), f32), ((4,), (4,), f32), ((3, 4), (4,), f32),
                     ((3, 4), (), f32), ((3, 4), (0,), f32), ((3, 1), (1, 1), f32)])


def test_prelu_with_channels_on_a_vector_raises_torch_mismatch():
    def body(T):
        return T.nn.PReLU(4)(T.ones(4))
    compare(body, match_message=True)


# ---------------------------------------------------------------------- convolutions
@pytest.mark.parametrize("fn", ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"])
def test_convolution_mixed_dtypes(fn):
    """Plain convolutions check the bias first, the weight last; float16/bfloat16 inputs get the
    MKLDNN wording where this CPU runs them through oneDNN; a transposed convolution casts a
    wider bias (not into integers)."""
    nd = 1 if fn.endswith("1d") else 2
    transposed = "transpose" in fn

    def body(T, x, w, b):
        xs = (1, 2) + (4,) * nd
        ws = ((2, 3) if transposed else (3, 2)) + (3,) * nd
        return getattr(T.nn.functional, fn)(values(T, x, *xs), values(T, w, *ws),
                                            None if b is None else values(T, b, 3))
    check_all(body, [(x, w, b) for x in DTYPES for w in DTYPES for b in (None,) + DTYPES
                     if len({x, w, b} - {None}) <= 2])


def test_onednn_dtype_support_is_detected_as_torch_detects_it():
    import torch

    from numtorch.nn._functional._dtype_checks import _mkldnn_runs
    assert _mkldnn_runs(np.dtype("float16")) == torch.ops.mkldnn._is_mkldnn_fp16_supported()
    import ml_dtypes
    bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert _mkldnn_runs(np.dtype(ml_dtypes.bfloat16)) == bf16


def test_transposed_convolution_bias_cast_has_gradients():
    def body(T):
        x = values(T, "float32", 1, 2, 4, 4).requires_grad_()
        w = values(T, "float32", 2, 3, 3, 3).requires_grad_()
        b = values(T, "float64", 3).requires_grad_()
        out = T.nn.functional.conv_transpose2d(x, w, b)
        out.sum().backward()
        return out, x.grad, w.grad, b.grad
    compare(body)


def test_convolution_checks_in_torch_order():
    def body(T, case):
        F = T.nn.functional
        d = T.float64
        return [lambda: F.conv2d(T.ones(5, 5, dtype=d), T.ones(3, 2, 3, 3)),
                lambda: F.conv2d(T.ones(1, 3, 5, 5, dtype=d), T.ones(3, 2, 3, 3)),
                lambda: F.conv2d(T.ones(1, 3, 5, 5, dtype=d), T.ones(3, 2, 3, 3), T.ones(3)),
                lambda: F.conv_transpose2d(T.ones(1, 3, 5, 5, dtype=d), T.ones(2, 3, 3, 3)),
                lambda: F.conv2d(T.ones(1, 2, 5, 5, dtype=d), T.ones(3, 2, 3, 3), T.ones(3),
                                 stride=0),
                lambda: F.conv2d(T.ones(1, 2, 2, 2, dtype=d), T.ones(3, 2, 3, 3)),
                lambda: F.conv2d(T.ones(1, 2, 5, 5, dtype=d), T.ones(3, 2, 3, 3), T.ones(4)),
                ][case]()
    check_all(body, [(i,) for i in range(7)])


@pytest.mark.parametrize("layer", ["Conv1d", "Conv2d", "ConvTranspose2d"])
def test_convolution_layers_with_double_input(layer):
    def body(T, bias):
        nd = 1 if layer.endswith("1d") else 2
        return getattr(T.nn, layer)(2, 3, 3, bias=bias)(values(T, "float64", 1, 2, *(5,) * nd))
    check_all(body, [(True,), (False,)])


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_reduced_precision_layers_keep_their_dtype(dtype):
    def body(T):
        d = getattr(T, dtype)
        x = values(T, dtype, 1, 2, 5, 5).requires_grad_()
        conv = T.nn.Conv2d(2, 3, 3).to(d)
        lin = T.nn.Linear(5, 4).to(d)
        for m in (conv, lin):
            T.nn.init.constant_(m.weight, 0.25)
            T.nn.init.constant_(m.bias, 0.5)
        out = lin(conv(x))
        q = values(T, dtype, 2, 3, 4, seed=1)
        att = T.nn.functional.scaled_dot_product_attention(q, q, q, T.zeros(3, 3))
        out.sum().backward()
        return out, x.grad, conv.weight.grad, att
    compare(body, rtol=5e-2, atol=5e-2)


def test_even_kernel_same_padding_warns_once_like_torch():
    """torch warns (once per process) that 'same' padding with an even kernel needs a padded
    copy; numtorch gives torch's sentence (without torch's C++ source location)."""
    import torch

    import numtorch
    from numtorch.nn._functional import conv
    conv._warned_asymmetric_same = False
    messages = {}
    for T in (torch, numtorch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer = T.nn.Conv1d(2, 4, 4, padding="same")
            out = [layer(T.ones(1, 2, 6)) for _ in range(2)]
            T.nn.functional.conv2d(T.ones(1, 2, 6, 6), T.ones(4, 2, 3, 3), padding="same")
        messages[T.__name__] = [str(w.message) for w in caught
                                if issubclass(w.category, UserWarning)]
        assert tuple(out[0].shape) == (1, 4, 6)
    ours = messages["numtorch"]
    assert len(ours) == 1 and ours[0].startswith("Using padding='same' with even kernel")
    theirs = messages["torch"]
    assert len(theirs) <= 1 and all(t.startswith(ours[0]) for t in theirs)


# ---------------------------------------------------------------------- losses
LOSSES = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
          "binary_cross_entropy_with_logits", "kl_div"]


@pytest.mark.parametrize("fn", LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_loss_result_dtypes(fn, reduction):
    """huber_loss keeps the input's dtype, binary_cross_entropy_with_logits the target's (it
    works in place on ``1 - target``); the others promote."""
    def body(T, x, t):
        lo = 0.1 if fn == "binary_cross_entropy" else -1.0
        kw = dict(reduction="batchmean" if fn == "kl_div" and reduction == "mean" else reduction)
        return getattr(T.nn.functional, fn)(values(T, x, 2, 3, low=lo, high=0.9),
                                            values(T, t, 2, 3, seed=1, low=0.0), **kw)
    check_all(body, [(x, t) for x in DTYPES for t in DTYPES])


@pytest.mark.parametrize("arg", ["weight", "pos_weight"])
def test_binary_cross_entropy_with_logits_weights_keep_target_dtype(arg):
    def body(T, x, t, w):
        return T.nn.functional.binary_cross_entropy_with_logits(
            values(T, x, 2, 3), values(T, t, 2, 3, seed=1, low=0.0), **{arg: values(T, w, 3)})
    check_all(body, [(x, t, w) for x in DTYPES for t in FLOATS for w in FLOATS
                     if len({x, t, w}) <= 2])


def test_weighted_regression_losses_promote_with_the_weight():
    def body(T, fn, x, w):
        return getattr(T.nn.functional, fn)(values(T, x, 2, 3), values(T, "float32", 2, 3,
                                                                       seed=1),
                                            weight=values(T, w, 2, 3, seed=2, low=0.0))
    check_all(body, [(fn, x, w) for fn in ("mse_loss", "l1_loss", "huber_loss")
                     for x in FLOATS for w in FLOATS])


@pytest.mark.parametrize("target", ["index", "probs"])
def test_cross_entropy_and_nll_weight_dtypes(target):
    def body(T, fn, x, w):
        tg = T.tensor([0, 2]) if target == "index" else values(T, x, 2, 3, seed=1, low=0.0)
        if fn == "nll_loss" and target == "probs":
            return None
        return getattr(T.nn.functional, fn)(values(T, x, 2, 3), tg, values(T, w, 3, low=0.1))
    check_all(body, [(fn, x, w) for fn in ("cross_entropy", "nll_loss") for x in DTYPES
                     for w in FLOATS])


def test_cross_entropy_integer_inputs_fail_as_torch():
    def body(T, case):
        F = T.nn.functional
        i = T.ones(2, 3, dtype=T.int64)
        return [lambda: F.cross_entropy(i, T.tensor([0, 1])),
                lambda: F.nll_loss(i, T.tensor([0, 1])),
                lambda: F.cross_entropy(i, T.ones(2, 3)),
                lambda: F.cross_entropy(i, T.ones(2, 3, dtype=T.int64)),
                lambda: F.nll_loss(i, T.tensor([0, 1, 1])),
                lambda: F.cross_entropy(i, T.tensor([0, 1, 1]))][case]()
    check_all(body, [(i,) for i in range(6)])


def test_attention_mask_dtypes():
    def body(T, q, m):
        x = values(T, q, 2, 3)
        return T.nn.functional.scaled_dot_product_attention(x, x, x, values(T, m, 2, 2,
                                                                             seed=3))
    check_all(body, [(q, m) for q in FLOATS for m in FLOATS])


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_with_double_input(batch_first):
    def body(T, grad):
        x = values(T, "float64", 3, 1, 4)
        m = T.nn.MultiheadAttention(4, 2, batch_first=batch_first)
        if not grad:
            m.eval()
            with T.no_grad():
                return m(x, x, x)
        return m(x, x, x)
    check_all(body, [(True,), (False,)])


def test_embedding_with_double_weights():
    def body(T, idx):
        emb = T.nn.Embedding(5, 3).double()
        return emb(T.tensor([1, 2], dtype=getattr(T, idx))).dtype
    check_all(body, [("int64",), ("int32",)])
