"""Optimizer workloads: the seed training loop (tiny tensors, Python overhead) and one Adam
step over 10M parameters (memory bandwidth)."""
import numpy as np

from benchmarks.run import Workload

SEED_STEPS = 32


def _seed_loop(T):
    """Seed 000's loop: Linear(3, 2), Adam, MSELoss, batch 1; one unit = 32 steps."""
    rng = np.random.default_rng(0)
    xs = [T.tensor(rng.standard_normal((1, 3)).astype(np.float32)) for _ in range(SEED_STEPS)]
    ys = [T.tensor(rng.standard_normal((1, 2)).astype(np.float32)) for _ in range(SEED_STEPS)]
    model = T.nn.Linear(3, 2)
    optimizer = T.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = T.nn.MSELoss()
    data = list(zip(xs, ys))

    def run():
        for x, y in data:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
    return run


def _adam_10m(T):
    """One Adam step over 10M float32 parameters in four tensors with gradients set."""
    rng = np.random.default_rng(0)
    shapes = [(1000, 4000), (4000, 1000), (2000, 500), (1000,)]  # 10.001M elements
    params = []
    for shape in shapes:
        p = T.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
        p.grad = T.tensor(rng.standard_normal(shape).astype(np.float32))
        params.append(p)
    optimizer = T.optim.Adam(params, lr=1e-3)
    return optimizer.step


WORKLOADS = [
    Workload("seed loop: Linear(3,2)+Adam+MSE, batch 1, 32 steps", _seed_loop,
             target=">= 2.0x (issue 4)", min_speedup=2.0),
    Workload("Adam step over 10M float32 params", _adam_10m,
             target=">= 0.83x (issue 4)", min_speedup=0.83, number=3),
]
