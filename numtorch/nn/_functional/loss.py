"""Loss functions of ``nn.functional``: each one fused NumPy forward and one vectorised backward.

Regression losses (mse, l1, smooth_l1, huber) share one pointwise node; the classification
losses (cross_entropy, nll_loss) share one node over a (rows, classes) view of the input; the
binary losses and kl_div have their own. Errors, warnings, result dtypes and grad_fn names follow
torch 2.13.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..._tensor import Tensor, _from_array
from ..._ops._util import GRAD, Node, binary_operands, record, unbroadcast
from .._functional_util import reduction_enum, legacy_reduction, type_word, to_compute, \
    finish_reduce
from ._classification import cross_entropy, nll_loss  # noqa: F401  (re-exported)

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]
