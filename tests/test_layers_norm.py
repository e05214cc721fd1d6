"""BatchNorm1d/2d, LayerNorm, GroupNorm and their functional forms against torch."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from harness import compare, differential
from layers_util import check_layer, check_structure, rand


@pytest.mark.parametrize("kw", [
    {}, dict(momentum=None), dict(momentum=0.3), dict(track_running_stats=False),
    dict(affine=False), dict(bias=False), dict(eps=1e-3),
])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm2d_steps(kw, train):
    check_layer(lambda T: T.nn.BatchNorm2d(3, **kw), [rand(4, 3, 5, 4)], train=train, steps=3)


@pytest.mark.parametrize("shape", [(8, 5), (4, 5, 6), (2, 5)])
@pytest.mark.parametrize("kw", [{}, dict(momentum=None), dict(track_running_stats=False)])
def test_batchnorm1d_steps(shape, kw):
    check_layer(lambda T: T.nn.BatchNorm1d(5, **kw), [rand(*shape)], steps=3)


def test_batchnorm_float64():
    check_layer(lambda T: T.nn.BatchNorm2d(3), [rand(4, 3, 5, 4, dtype=np.float64)],
                dtype=np.float64, steps=2)
    check_layer(lambda T: T.nn.BatchNorm1d(3, momentum=None), [rand(6, 3, dtype=np.float64)],
                dtype=np.float64, steps=2, train=False)


def test_batchnorm_running_stats_over_training_then_eval():
    @differential(rtol=1e-5, atol=1e-6)
    def body(T):
        bn = T.nn.BatchNorm2d(4, momentum=None)
        seen = []
        for i in range(4):
            bn(T.tensor(rand(3, 4, 2, 2, seed=i) * (i + 1) + i))
            seen.append((bn.running_mean.clone(), bn.running_var.clone(),
                         bn.num_batches_tracked.clone()))
        bn.eval()
        out = bn(T.tensor(rand(2, 4, 3, 3, seed=9)))
        return seen, out, bn.num_batches_tracked
    body()


def test_batchnorm_eval_without_running_stats_uses_batch():
    @differential
    def body(T):
        bn = T.nn.BatchNorm1d(3, track_running_stats=False).eval()
        return bn(T.tensor(rand(5, 3))), list(bn.state_dict().keys())
    body()


def test_batchnorm_buffers_are_updated_in_place():
    @differential
    def body(T):
        bn = T.nn.BatchNorm1d(3)
        mean, var = bn.running_mean, bn.running_var
        bn(T.tensor(rand(5, 3)))
        return mean is bn.running_mean, var is bn.running_var, mean._version > 0
    body()


def test_batchnorm_old_checkpoint_without_num_batches_tracked():
    @differential
    def body(T):
        src = T.nn.Sequential(T.nn.BatchNorm1d(3))
        src(T.tensor(rand(4, 3)))
        sd = src.state_dict()
        del sd["0.num_batches_tracked"]
        old = OrderedDict(sd)
        old._metadata = OrderedDict({"": {"version": 1}, "0": {"version": 1}})
        dst = T.nn.Sequential(T.nn.BatchNorm1d(3))
        result = dst.load_state_dict(old)
        new = OrderedDict(sd)
        new._metadata = OrderedDict({"": {"version": 1}, "0": {"version": 2}})
        try:
            T.nn.Sequential(T.nn.BatchNorm1d(3)).load_state_dict(new)
            error = None
        except RuntimeError as exc:
            error = str(exc).split("\n\n")[0]
        no_meta = OrderedDict(sd)
        dst2 = T.nn.Sequential(T.nn.BatchNorm1d(3))
        return (list(result.missing_keys), dst.state_dict(), error,
                list(dst2.load_state_dict(no_meta).missing_keys), dst2.state_dict())
    body()


def test_batchnorm_state_dict_version_metadata():
    @differential
    def body(T):
        sd = T.nn.Sequential(T.nn.BatchNorm2d(2), T.nn.LayerNorm(2)).state_dict()
        return {k: dict(v) for k, v in sd._metadata.items()}
    body()


@pytest.mark.parametrize("case", [
    lambda T: T.nn.BatchNorm1d(4)(T.ones(2, 3)),
    lambda T: T.nn.BatchNorm2d(4)(T.ones(2, 4, 3)),
    lambda T: T.nn.BatchNorm1d(4)(T.ones(2, 4, 3, 3)),
    lambda T: T.nn.functional.batch_norm(T.ones(1, 4), T.zeros(4), T.ones(4), training=True),
    lambda T: T.nn.functional.layer_norm(T.ones(3, 4), (3,)),
    lambda T: T.nn.functional.group_norm(T.ones(3, 4), 3),
    lambda T: T.nn.GroupNorm(3, 4),
])
def test_norm_errors(case):
    compare(case, match_message=True)


@pytest.mark.parametrize("shape,normalized", [((4, 5), 5), ((2, 3, 4, 5), (4, 5)),
                                               ((1, 6), [6])])
@pytest.mark.parametrize("kw", [{}, dict(elementwise_affine=False), dict(bias=False),
                                dict(eps=1e-3)])
def test_layernorm(shape, normalized, kw):
    check_layer(lambda T: T.nn.LayerNorm(normalized, **kw), [rand(*shape) * 3 + 1])


def test_layernorm_float64():
    check_layer(lambda T: T.nn.LayerNorm((3, 4)), [rand(2, 3, 4, dtype=np.float64)],
                dtype=np.float64)


@pytest.mark.parametrize("groups,shape", [(2, (4, 6, 3, 2)), (1, (2, 4, 5)), (4, (1, 4, 3)),
                                          (3, (2, 6))])
@pytest.mark.parametrize("kw", [{}, dict(affine=False), dict(bias=False)])
def test_groupnorm(groups, shape, kw):
    check_layer(lambda T: T.nn.GroupNorm(groups, shape[1], **kw), [rand(*shape) * 2 - 1])


def test_groupnorm_float64():
    check_layer(lambda T: T.nn.GroupNorm(2, 4), [rand(3, 4, 5, dtype=np.float64)],
                dtype=np.float64)


def test_layernorm_and_batchnorm_with_affine_params_changed():
    """Non-trivial weights reach the gradients (fresh layers have weight 1, bias 0)."""
    for factory, shape in [(lambda T: T.nn.LayerNorm(5), (3, 5)),
                           (lambda T: T.nn.BatchNorm1d(5), (3, 5)),
                           (lambda T: T.nn.GroupNorm(1, 5), (3, 5, 2))]:
        @differential(rtol=1e-5, atol=1e-5)
        def body(T):
            m = factory(T)
            with T.no_grad():
                m.weight.mul_(T.tensor(rand(5) + 2))
                m.bias.add_(T.tensor(rand(5, seed=3)))
            x = T.tensor(rand(*shape), requires_grad=True)
            y = m(x)
            (y * T.tensor(rand(*shape, seed=4))).sum().backward()
            return y, x.grad, m.weight.grad, m.bias.grad
        body()


@pytest.mark.parametrize("factory", [
    lambda T: T.nn.BatchNorm2d(3),
    lambda T: T.nn.BatchNorm2d(3, eps=1e-3, momentum=None),
    lambda T: T.nn.BatchNorm1d(3, affine=False),
    lambda T: T.nn.BatchNorm1d(3, track_running_stats=False),
    lambda T: T.nn.BatchNorm1d(3, bias=False, dtype=T.float64),
    lambda T: T.nn.LayerNorm(4),
    lambda T: T.nn.LayerNorm([2, 3], elementwise_affine=False),
    lambda T: T.nn.LayerNorm((2, 3), bias=False),
    lambda T: T.nn.GroupNorm(2, 4),
    lambda T: T.nn.GroupNorm(2, 4, affine=False),
])
def test_structure(factory):
    check_structure(factory)


def test_initial_values():
    @differential
    def body(T):
        bn = T.nn.BatchNorm2d(3)
        ln = T.nn.LayerNorm(3)
        gn = T.nn.GroupNorm(1, 3)
        return bn.state_dict(), ln.state_dict(), gn.state_dict()
    body()
