"""Differentiable ops: indexing."""
from __future__ import annotations

__all__: list = []          # functions exported as numtorch.<name>
TENSOR_METHODS: list = []   # names (from __all__ or private) attached as Tensor methods
