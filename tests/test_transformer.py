"""Attention and transformer layers against torch given the same weights: outputs, attention
weights, input and parameter gradients, state_dict keys, masks, errors."""
import inspect
import math
import warnings

import numpy as np
import pytest

import harness


def differential(fn=None, **kw):
    """harness.differential; the body gets a fresh, identically seeded NumPy generator."""
    def deco(body):
        def seeded(T, *args, **kwargs):
            return body(T, np.random.default_rng(0), *args, **kwargs)
        sig = inspect.signature(body)
        params = list(sig.parameters.values())
        seeded.__name__, seeded.__qualname__ = body.__name__, body.__qualname__
        seeded.__module__ = body.__module__
        seeded.__signature__ = sig.replace(parameters=[params[0]] + params[2:])
        return harness.differential(seeded, **kw)
    return deco(fn) if fn is not None else deco


def tensor(T, rng, *shape, dtype="float64", requires_grad=False):
    return T.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=requires_grad)


def seed_weights(T, rng, module, dtype="float64"):
    """Give ``module`` the same random weights under both libraries (via load_state_dict)."""
    sd = module.state_dict()
    module.load_state_dict({k: T.tensor((rng.standard_normal(tuple(v.shape)) * 0.5).astype(
        dtype)) for k, v in sd.items()})
    return module


def backward_all(T, rng, out, module, *inputs):
    """Backpropagate a fixed random cotangent; return input grads and named parameter grads."""
    g = T.tensor(rng.standard_normal(tuple(out.shape)).astype(str(out.dtype)[6:]))
    out.backward(g)
    return [x.grad for x in inputs], {n: p.grad for n, p in module.named_parameters()}


# ---------------------------------------------------------------------------- SDPA
@pytest.mark.parametrize("shapes", [((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)),
                                    ((3, 4, 8), (3, 5, 8), (3, 5, 8)), ((4, 8), (5, 8), (5, 2)),
                                    ((2, 3, 4, 8), (1, 3, 5, 8), (1, 3, 5, 6))])
@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
@pytest.mark.parametrize("scale", [None, 0.3])
@differential(check_grad_fn=True)
def test_sdpa(T, rng, shapes, mask, scale):
    q, k, v = (tensor(T, rng, *s, requires_grad=True) for s in shapes)
    L, S = shapes[0][-2], shapes[1][-2]
    kw = {}
    if mask == "bool":
        m = rng.random((L, S)) > 0.3
        m[:, 0] = True
        kw["attn_mask"] = T.tensor(m)
    elif mask == "float":
        kw["attn_mask"] = tensor(T, rng, L, S)
    elif mask == "causal":
        kw["is_causal"] = True
    out = T.nn.functional.scaled_dot_product_attention(q, k, v, scale=scale, **kw)
    g = T.tensor(rng.standard_normal(tuple(out.shape)))
    out.backward(g)
    return out, q.grad, k.grad, v.grad


@differential
def test_sdpa_fully_masked_rows_give_zeros(T, rng):
    q, k, v = (tensor(T, rng, 2, 4, 6, requires_grad=True) for _ in range(3))
    m = np.ones((4, 4), dtype=bool)
    m[1] = False
    out = T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=T.tensor(m))
    out.backward(T.ones(2, 4, 6, dtype=T.float64))
    return out, q.grad, k.grad, v.grad


@differential
def test_sdpa_float_mask_gradient_and_float32(T, rng):
    q, k, v = (tensor(T, rng, 2, 4, 6, dtype="float32", requires_grad=True) for _ in range(3))
    bias = tensor(T, rng, 2, 4, 4, dtype="float32", requires_grad=True)
    out = T.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    out.backward(T.tensor(rng.standard_normal((2, 4, 6)).astype("float32")))
    return out, q.grad, k.grad, v.grad, bias.grad


@differential
def test_sdpa_grouped_query_attention(T, rng):
    q = tensor(T, rng, 2, 4, 3, 8, requires_grad=True)
    k = tensor(T, rng, 2, 2, 5, 8, requires_grad=True)
    v = tensor(T, rng, 2, 2, 5, 6, requires_grad=True)
    out = T.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    out.backward(T.tensor(rng.standard_normal((2, 4, 3, 6))))
    return out, q.grad, k.grad, v.grad


@differential
def test_sdpa_dropout_one_drops_everything(T, rng):
    q, k, v = (tensor(T, rng, 3, 4, requires_grad=True) for _ in range(3))
    out = T.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    return out


def test_sdpa_dropout_keeps_expectation():
    import numtorch
    rng = np.random.default_rng(0)
    q, k = (numtorch.tensor(rng.standard_normal((64, 16))) for _ in range(2))
    v = numtorch.ones(64, 8, dtype=numtorch.float64)
    numtorch.manual_seed(0)
    out = numtorch.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    rows = out.numpy()[:, 0]
    assert abs(rows.mean() - 1.0) < 0.05 and rows.std() > 0.05


@pytest.mark.parametrize("case", ["causal_and_mask", "dtypes", "mask_dtype", "mask_shape",
                                  "heads"])
@differential(match_message=True)
def test_sdpa_errors(T, rng, case):
    F = T.nn.functional
    q, k, v = tensor(T, rng, 2, 3, 4, 8), tensor(T, rng, 2, 3, 5, 8), tensor(T, rng, 2, 3, 5, 6)
    return {
        "causal_and_mask": lambda: F.scaled_dot_product_attention(
            q, k, v, attn_mask=T.ones(4, 5, dtype=T.bool), is_causal=True),
        "dtypes": lambda: F.scaled_dot_product_attention(q, k.float(), v.float()),
        "mask_dtype": lambda: F.scaled_dot_product_attention(
            q, k, v, attn_mask=T.zeros(4, 5, dtype=T.int64)),
        "mask_shape": lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=T.zeros(
            3, 5, dtype=T.float64)),
        "heads": lambda: F.scaled_dot_product_attention(tensor(T, rng, 2, 4, 4, 8), k, v),
    }[case]()


# ---------------------------------------------------------------------------- MultiheadAttention
def make_mha(T, rng, E=8, H=2, **kw):
    m = T.nn.MultiheadAttention(E, H, **kw).double()
    return seed_weights(T, rng, m)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("attention", ["self", "kv_shared", "cross"])
@differential
def test_mha_forward_and_gradients(T, rng, batch_first, need_weights, average, attention):
    m = make_mha(T, rng, batch_first=batch_first)
    L, S, N = 4, 5, 3
    shape = (N, L, 8) if batch_first else (L, N, 8)
    kshape = (N, S, 8) if batch_first else (S, N, 8)
    q = tensor(T, rng, *shape, requires_grad=True)
    if attention == "self":
        k = v = q
    elif attention == "kv_shared":
        k = v = tensor(T, rng, *kshape, requires_grad=True)
    else:
        k, v = tensor(T, rng, *kshape, requires_grad=True), tensor(T, rng, *kshape,
                                                                  requires_grad=True)
    out, w = m(q, k, v, need_weights=need_weights, average_attn_weights=average)
    grads = backward_all(T, rng, out, m, q, k, v)
    return out, w, grads


@pytest.mark.parametrize("attn_mask", [None, "bool2d", "float2d", "float3d", "bool3d"])
@pytest.mark.parametrize("kpm", [None, "bool", "float"])
@pytest.mark.parametrize("need_weights", [True, False])
@differential
def test_mha_masks(T, rng, attn_mask, kpm, need_weights):
    m = make_mha(T, rng)
    L, N, H = 5, 2, 2
    x = tensor(T, rng, L, N, 8, requires_grad=True)
    kw = {}
    if attn_mask is not None:
        shape = (L, L) if attn_mask.endswith("2d") else (N * H, L, L)
        if attn_mask.startswith("bool"):
            mask = rng.random(shape) > 0.7
            mask[..., 0] = False
            kw["attn_mask"] = T.tensor(mask)
        else:
            kw["attn_mask"] = tensor(T, rng, *shape)
    if kpm is not None:
        pad = np.zeros((N, L), dtype=bool)
        pad[0, 3:] = True
        kw["key_padding_mask"] = T.tensor(pad) if kpm == "bool" else \
            T.tensor(np.where(pad, -np.inf, 0.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, w = m(x, x, x, need_weights=need_weights, **kw)
    return out, w, backward_all(T, rng, out, m, x), [str(c.message) for c in caught]


@pytest.mark.parametrize("need_weights", [True, False])
@differential
def test_mha_is_causal_with_mask(T, rng, need_weights):
    m = make_mha(T, rng, batch_first=True)
    x = tensor(T, rng, 2, 5, 8, requires_grad=True)
    causal = T.triu(T.full((5, 5), float("-inf"), dtype=T.float64), diagonal=1)
    out, w = m(x, x, x, attn_mask=causal, is_causal=True, need_weights=need_weights)
    return out, w, backward_all(T, rng, out, m, x)


@pytest.mark.parametrize("kw", [dict(bias=False), dict(kdim=5, vdim=3), dict(add_bias_kv=True),
                                dict(add_zero_attn=True), dict(add_bias_kv=True, kdim=6),
                                dict(H=4, E=12)])
@differential
def test_mha_options(T, rng, kw):
    kw = dict(kw)
    E = kw.pop("E", 8)
    H = kw.pop("H", 2)
    m = make_mha(T, rng, E=E, H=H, **kw)
    x = tensor(T, rng, 4, 2, E, requires_grad=True)
    k = tensor(T, rng, 6, 2, kw.get("kdim", E), requires_grad=True)
    v = tensor(T, rng, 6, 2, kw.get("vdim", E), requires_grad=True)
    pad = np.zeros((2, 6), dtype=bool)
    pad[1, 4:] = True
    out, w = m(x, k, v, key_padding_mask=T.tensor(pad))
    return (list(m.state_dict().keys()), out, w, backward_all(T, rng, out, m, x, k, v),
            [type(c).__name__ for c in m.children()], m._qkv_same_embed_dim, m.head_dim)


@differential
def test_mha_unbatched(T, rng):
    m = make_mha(T, rng)
    q = tensor(T, rng, 4, 8, requires_grad=True)
    kv = tensor(T, rng, 6, 8, requires_grad=True)
    pad = T.tensor(np.array([False, False, True, False, False, True]))
    out, w = m(q, kv, kv, key_padding_mask=pad)
    return out, w, backward_all(T, rng, out, m, q, kv)


@differential
def test_mha_eval_no_grad_float32(T, rng):
    m = seed_weights(T, rng, T.nn.MultiheadAttention(8, 2, batch_first=True, dropout=0.5),
                     "float32").eval()
    x = tensor(T, rng, 3, 5, 8, dtype="float32")
    pad = np.zeros((3, 5), dtype=bool)
    pad[2, 3:] = True
    with T.no_grad():
        out, w = m(x, x, x, key_padding_mask=T.tensor(pad))
        out2, w2 = m(x, x, x, need_weights=False)
    return out, w, out2, w2


def test_mha_dropout_in_training_changes_output_and_eval_does_not():
    import numtorch
    m = numtorch.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = numtorch.randn(4, 3, 8)
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    m.eval()
    c, _ = m(x, x, x)
    d, _ = m(x, x, x)
    assert np.array_equal(c.detach().numpy(), d.detach().numpy())


@differential
def test_mha_default_initialisation(T, rng):
    m = T.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    w = m.in_proj_weight.detach().numpy()
    bound = math.sqrt(6.0 / (16 + 48))
    return (float(abs(w).max()) <= bound, float(abs(w).max()) > 0.8 * bound,
            m.in_proj_bias, m.out_proj.bias, tuple(m.bias_k.shape), m.out_proj.weight.shape,
            [n for n, _ in m.named_parameters()])


@pytest.mark.parametrize("case", ["zero_dim", "not_divisible", "query_rank", "key_rank",
                                  "mask_rank", "mask2d_shape", "mask3d_shape", "int_mask",
                                  "kpm_shape", "causal_no_mask", "embed_mismatch"])
@differential(match_message=True)
def test_mha_errors(T, rng, case):
    if case == "zero_dim":
        return T.nn.MultiheadAttention(0, 2)
    if case == "not_divisible":
        return T.nn.MultiheadAttention(10, 3)
    m = make_mha(T, rng)
    x = tensor(T, rng, 4, 2, 8)
    calls = {
        "query_rank": lambda: m(tensor(T, rng, 1, 4, 2, 8), x, x),
        "key_rank": lambda: m(x, tensor(T, rng, 4, 8), x),
        "mask_rank": lambda: m(x, x, x, attn_mask=T.zeros(1, 1, 4, 4, dtype=T.float64)),
        "mask2d_shape": lambda: m(x, x, x, attn_mask=T.zeros(4, 3, dtype=T.float64)),
        "mask3d_shape": lambda: m(x, x, x, attn_mask=T.zeros(3, 4, 4, dtype=T.float64)),
        "int_mask": lambda: m(x, x, x, attn_mask=T.zeros(4, 4, dtype=T.int64)),
        "kpm_shape": lambda: m(x, x, x, key_padding_mask=T.zeros(3, 4, dtype=T.bool)),
        "causal_no_mask": lambda: m(x, x, x, is_causal=True),
        "embed_mismatch": lambda: m(tensor(T, rng, 4, 2, 6), x, x),
    }
    return calls[case]()


@differential
def test_multi_head_attention_forward_functional(T, rng):
    E, H = 8, 2
    q = tensor(T, rng, 4, 2, E, requires_grad=True)
    w_in, b_in = tensor(T, rng, 3 * E, E, requires_grad=True), tensor(T, rng, 3 * E,
                                                                       requires_grad=True)
    w_out, b_out = tensor(T, rng, E, E, requires_grad=True), tensor(T, rng, E,
                                                                     requires_grad=True)
    out, w = T.nn.functional.multi_head_attention_forward(
        q, q, q, E, H, w_in, b_in, None, None, False, 0.0, w_out, b_out, training=False)
    out.backward(T.tensor(rng.standard_normal((4, 2, E))))
    return out, w, q.grad, w_in.grad, b_in.grad, w_out.grad, b_out.grad


# ---------------------------------------------------------------------------- encoder layer
def make_layer(T, rng, **kw):
    kw.setdefault("dropout", 0.0)
    layer = T.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, **kw).double()
    return seed_weights(T, rng, layer)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable"])
@pytest.mark.parametrize("batch_first", [False, True])
@differential
def test_encoder_layer(T, rng, norm_first, activation, batch_first):
    act = T.nn.functional.silu if activation == "callable" else activation
    layer = make_layer(T, rng, norm_first=norm_first, activation=act, batch_first=batch_first)
    x = tensor(T, rng, 3, 5, 8, requires_grad=True)
    pad = np.zeros((3, 5) if batch_first else (5, 3), dtype=bool)
    pad_mask = np.zeros((3, 5), dtype=bool)
    pad_mask[1, 3:] = True
    causal = T.triu(T.full((5, 5), float("-inf"), dtype=T.float64), diagonal=1)
    src_mask = causal if batch_first else None
    out = layer(x, src_mask=src_mask, src_key_padding_mask=T.tensor(pad_mask)
                if batch_first else None)
    return (out, backward_all(T, rng, out, layer, x), list(layer.state_dict().keys()),
            layer.activation_relu_or_gelu, pad.shape)


@pytest.mark.parametrize("kw", [dict(bias=False), dict(layer_norm_eps=1e-3),
                                dict(activation="gelu", norm_first=True)])
@differential
def test_encoder_layer_options_and_eval(T, rng, kw):
    layer = make_layer(T, rng, batch_first=True, **kw)
    x = tensor(T, rng, 2, 4, 8, requires_grad=True)
    out = layer(x)
    grads = backward_all(T, rng, out, layer, x)
    layer.eval()
    with T.no_grad():
        pad = T.tensor(np.array([[False] * 4, [False, False, True, True]]))
        evaluated = layer(x.detach(), src_key_padding_mask=pad)
    return out, grads, evaluated, list(layer.state_dict().keys()), repr(layer)


@differential(match_message=True)
def test_encoder_layer_bad_activation(T, rng):
    return T.nn.TransformerEncoderLayer(8, 2, activation="tanh")


@differential
def test_encoder_layer_defaults(T, rng):
    layer = T.nn.TransformerEncoderLayer(16, 4)
    return (layer.linear1.weight.shape, layer.dropout.p, layer.norm1.eps, layer.norm_first,
            layer.self_attn.batch_first, layer.activation_relu_or_gelu,
            [(n, tuple(p.shape)) for n, p in layer.named_parameters()], layer.training)


# ---------------------------------------------------------------------------- encoder
def make_encoder(T, rng, num_layers=2, final_norm=True, **kw):
    layer = T.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **kw)
    norm = T.nn.LayerNorm(8) if final_norm else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enc = T.nn.TransformerEncoder(layer, num_layers, norm=norm)
    return seed_weights(T, rng, enc.double()), [str(c.message) for c in caught]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("final_norm", [False, True])
@pytest.mark.parametrize("masks", [None, "causal", "padding", "both"])
@differential
def test_encoder(T, rng, batch_first, final_norm, masks):
    enc, caught = make_encoder(T, rng, final_norm=final_norm, batch_first=batch_first)
    x = tensor(T, rng, 3, 5, 8, requires_grad=True)
    kw = {}
    if masks in ("causal", "both"):
        kw["mask"] = T.triu(T.full((5, 5), float("-inf"), dtype=T.float64), diagonal=1)
    if masks in ("padding", "both"):
        n = 3 if batch_first else 5
        pad = np.zeros((n, 5), dtype=bool)
        pad[1, 3:] = True
        kw["src_key_padding_mask"] = T.tensor(pad) if batch_first else None
    out = enc(x, **kw)
    return (out, backward_all(T, rng, out, enc, x), list(enc.state_dict().keys()), caught,
            enc.use_nested_tensor)


@differential
def test_encoder_layers_are_independent_copies(T, rng):
    layer = T.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = T.nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    w = [enc.layers[i].linear1.weight for i in range(3)]
    return (w[0] is not w[1], w[0] is not layer.linear1.weight,
            bool(np.array_equal(w[0].detach().numpy(), layer.linear1.weight.detach().numpy())),
            len(enc.layers), enc.num_layers, enc.enable_nested_tensor, enc.use_nested_tensor)


@pytest.mark.parametrize("left_aligned", [True, False])
@differential
def test_encoder_eval_no_grad_padding_follows_torch_nested_path(T, rng, left_aligned):
    enc, _ = make_encoder(T, rng, batch_first=True, final_norm=False)
    enc.eval()
    x = tensor(T, rng, 3, 5, 8)
    pad = np.zeros((3, 5), dtype=bool)
    pad[1, 3:] = True
    if not left_aligned:
        pad[2, 0] = True
    with T.no_grad():
        out = enc(x, src_key_padding_mask=T.tensor(pad))
    return out


@differential
def test_decoder(T, rng):
    layer = T.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    dec = seed_weights(T, rng, T.nn.TransformerDecoder(layer, 2, norm=T.nn.LayerNorm(8))
                       .double())
    tgt = tensor(T, rng, 4, 2, 8, requires_grad=True)
    mem = tensor(T, rng, 6, 2, 8, requires_grad=True)
    causal = T.triu(T.full((4, 4), float("-inf"), dtype=T.float64), diagonal=1)
    out = dec(tgt, mem, tgt_mask=causal)
    return out, backward_all(T, rng, out, dec, tgt, mem), list(dec.state_dict().keys())


@differential
def test_full_transformer(T, rng):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = T.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
                                 dim_feedforward=16, dropout=0.0, batch_first=True)
    model = seed_weights(T, rng, model.double())
    src = tensor(T, rng, 2, 5, 8, requires_grad=True)
    tgt = tensor(T, rng, 2, 4, 8, requires_grad=True)
    mask = T.nn.Transformer.generate_square_subsequent_mask(4, dtype=T.float64)
    out = model(src, tgt, tgt_mask=mask)
    bad = None
    try:
        model(src, tensor(T, rng, 3, 4, 8))
    except RuntimeError as e:
        bad = str(e)
    return (out, backward_all(T, rng, out, model, src, tgt), list(model.state_dict().keys()),
            [str(c.message) for c in caught], mask, bad,
            T.nn.Transformer.generate_square_subsequent_mask(3))


@differential
def test_full_transformer_default_init_is_glorot(T, rng):
    model = T.nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                             dim_feedforward=32)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = math.sqrt(6.0 / (16 + 32))
    return bool(abs(w).max() <= bound), bool(abs(w).max() > 0.8 * bound), \
        model.encoder.layers[0].linear1.bias.shape


def test_encoder_loaded_from_torch_state_dict_matches_torch():
    """The brief's recipe: torch's own (default-initialised) weights through NumPy arrays."""
    import torch
    import numtorch
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True,
                                             activation="gelu"), 2, norm=torch.nn.LayerNorm(16))
        mine = numtorch.nn.TransformerEncoder(
            numtorch.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True,
                                                activation="gelu"), 2,
            norm=numtorch.nn.LayerNorm(16))
    result = mine.load_state_dict({k: numtorch.tensor(v.numpy())
                                   for k, v in ref.state_dict().items()})
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    ref.eval()
    mine.eval()
    x = np.random.default_rng(0).standard_normal((2, 6, 16)).astype("float32")
    mask = np.triu(np.full((6, 6), -np.inf, dtype="float32"), 1)
    expected = ref(torch.tensor(x), mask=torch.tensor(mask)).detach().numpy()
    actual = mine(numtorch.tensor(x), mask=numtorch.tensor(mask)).detach().numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("bad", [None, "size0", "size2"])
@differential(match_message=True)
def test_multi_head_attention_forward_static_kv(T, rng, bad):
    E, H, N = 8, 2, 3
    q = tensor(T, rng, 4, N, E, requires_grad=True)
    w_in, b_in = tensor(T, rng, 3 * E, E, requires_grad=True), tensor(T, rng, 3 * E)
    w_out = tensor(T, rng, E, E, requires_grad=True)
    shape = {None: (N * H, 5, E // H), "size0": (N, 5, E // H), "size2": (N * H, 5, 3)}[bad]
    sk = tensor(T, rng, *shape, requires_grad=True)
    sv = tensor(T, rng, N * H, 5, E // H, requires_grad=True)
    kv = tensor(T, rng, 5, N, E)
    out, w = T.nn.functional.multi_head_attention_forward(
        q, kv, kv, E, H, w_in, b_in, None, None, False, 0.0, w_out, None, training=False,
        static_k=sk, static_v=sv)
    out.backward(T.tensor(rng.standard_normal((4, N, E))))
    return out, w, q.grad, w_in.grad, w_out.grad, sk.grad, sv.grad


@differential
def test_layers_accept_dtype_and_module_activation(T, rng):
    mha = T.nn.MultiheadAttention(8, 2, dtype=T.float64, kdim=4)
    layer = T.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation=T.nn.GELU(),
                                         dtype=T.float64)
    return ({n: p.dtype for n, p in mha.named_parameters()},
            {n: p.dtype for n, p in layer.named_parameters()},
            [n for n, _ in layer.named_children()], layer.activation_relu_or_gelu, repr(layer))
