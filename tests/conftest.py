import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import pytest


@pytest.fixture
def torch_f32_sqrt(monkeypatch):
    """numtorch's 0-d tensor-hyper-parameter sqrt replaced by torch's for float32 values.

    torch's float32 sqrt runs through MKL, which on some CPUs (seen on AVX-512 AMD EPYC) is
    1 ulp off the correctly rounded root for some values; numtorch's is correctly rounded. Tests
    that compare a float32 tensor-``betas`` optimizer to the last bit use torch's root so that
    everything else in the step is still compared exactly."""
    import torch

    from numtorch.optim import _hyper

    exact = _hyper._sqrt

    def sqrt(base):
        if isinstance(base, np.float32):
            return np.float32(torch.tensor(float(base), dtype=torch.float32).sqrt().item())
        return exact(base)

    monkeypatch.setattr(_hyper, "_sqrt", sqrt)
