"""Per-op overhead: the smallest op with autograd."""
from benchmarks.run import Workload


def _tiny_backward(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)

    def step():
        (x * 2).sum().backward()
    return step


WORKLOADS = [
    Workload("tiny op + backward: (x*2).sum().backward(), 2 elems", _tiny_backward,
             target=">= 2.0x (issue 2)", min_speedup=2.0),
]
