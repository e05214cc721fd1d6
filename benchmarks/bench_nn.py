"""Layer workloads: the MLP and the seed CNN, full train steps and forward/backward alone.

The full train steps need CrossEntropyLoss and the optimizers; when numtorch lacks one of them
the workload says so and is skipped (``setup`` raises ``Skip``)."""
from __future__ import annotations

import numpy as np

from benchmarks.run import Workload

_MISSING: list[str] = []


def _data(T, shape, classes, seed=0):
    rng = np.random.default_rng(seed)
    x = T.tensor(rng.standard_normal(shape).astype(np.float32))
    y = T.tensor(rng.integers(0, classes, shape[0]).astype(np.int64))
    return x, y


def _mlp(T):
    nn = T.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def _cnn(T):
    nn = T.nn
    return nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(20 * 12 * 12, 10))


def _train_step(model, loss_fn, opt, x, y):
    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def _mlp_train(T):
    model = _mlp(T)
    opt = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = _data(T, (128, 784), 10)
    return _train_step(model, T.nn.CrossEntropyLoss(), opt, x, y)


def _cnn_train(T):
    model = _cnn(T)
    opt = T.optim.Adam(model.parameters())
    x, y = _data(T, (64, 1, 28, 28), 10)
    return _train_step(model, T.nn.CrossEntropyLoss(), opt, x, y)


def _forward_backward(build, shape):
    def setup(T):
        model = build(T)
        x, _ = _data(T, shape, 10)

        def step():
            for p in model.parameters():
                p.grad = None
            model(x).sum().backward()
        return step
    return setup


def _available(T_names=("nn.CrossEntropyLoss", "optim.SGD", "optim.Adam")) -> list[str]:
    import numtorch
    missing = []
    for name in T_names:
        obj = numtorch
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            missing.append("numtorch." + name)
    return missing


WORKLOADS = [
    Workload("MLP 784-512-512-10 fwd+bwd (sum), batch 128",
             _forward_backward(_mlp, (128, 784)), target="(part of the train step)"),
    Workload("seed CNN fwd+bwd (sum), batch 64", _forward_backward(_cnn, (64, 1, 28, 28)),
             target="(part of the train step)"),
]
_MISSING = _available()
if _MISSING:
    print(f"bench_nn: skipping the train-step workloads: {', '.join(_MISSING)} not available "
          "yet")
else:
    WORKLOADS += [
        Workload("MLP 784-512-512-10 train step (CE, SGD momentum), batch 128", _mlp_train,
                 target=">= 1.0x (issue 3)", min_speedup=1.0),
        Workload("seed CNN train step (CE, Adam), batch 64", _cnn_train,
                 target=">= 1.3x (issue 3)", min_speedup=1.3),
    ]
