"""Functional forms of the layers and losses (``torch.nn.functional``).

Layer implementations live in ``numtorch/nn/_functional/<family>.py``; this module re-exports
them in sections. Each section lists its own names so other families can be appended.
"""
from __future__ import annotations

# ---------------------------------------------------------------------- layers: linear
from ._functional.linear import bilinear, linear  # noqa: F401

# ---------------------------------------------------------------------- layers: convolution
from ._functional.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: F401

# ---------------------------------------------------------------------- layers: pooling
from ._functional.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d,  # noqa: F401
                                  avg_pool1d, avg_pool2d, max_pool1d, max_pool2d)

# ---------------------------------------------------------------------- layers: activations
from ._functional.activation import (gelu, leaky_relu, leaky_relu_, log_softmax,  # noqa: F401
                                     prelu, relu, relu_, sigmoid, silu, softmax, tanh)
# the rest of torch.nn.functional's pointwise activations live with the tensor ops
from .._ops.activation import (celu, elu, elu_, hardsigmoid, hardswish,  # noqa: F401
                               hardtanh, hardtanh_, logsigmoid, mish, relu6, selu, softplus,
                               softsign)

# ---------------------------------------------------------------------- layers: normalisation
from ._functional.normalization import batch_norm, group_norm, layer_norm  # noqa: F401

# ---------------------------------------------------------------------- layers: dropout, embedding, pad
from ._functional.misc import dropout, embedding, normalize, pad  # noqa: F401

# --- losses and attention (see nn/_functional/loss.py, attention.py)
from ._functional.loss import *  # noqa: F401,F403,E402
from ._functional.attention import *  # noqa: F401,F403,E402
from ._functional.attention import _canonical_mask, _mha_shape_check  # noqa: F401,E402
