"""Per-op autograd overhead: the smallest op with backward, a longer chain, autograd.grad and a
custom Function, all on 2-element tensors so Python overhead is what is measured."""
from benchmarks.run import Workload


def _tiny_backward(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)

    def step():
        (x * 2).sum().backward()
    return step


def _chain_backward(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    w = T.tensor([0.5, -0.5], requires_grad=True)

    def step():
        y = x
        for _ in range(10):
            y = y * w + x
        y.sum().backward()
    return step


def _autograd_grad(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)

    def step():
        T.autograd.grad((x * x).sum(), x)
    return step


def _custom_function(T):
    class Square(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return g * 2 * a
    x = T.tensor([1.0, 2.0], requires_grad=True)

    def step():
        Square.apply(x).sum().backward()
    return step


WORKLOADS = [
    Workload("tiny op + backward: (x*2).sum().backward(), 2 elems", _tiny_backward,
             target=">= 2.0x (issue 2)", min_speedup=2.0),
    Workload("chain of 20 ops + backward, 2 elems", _chain_backward),
    Workload("autograd.grad((x*x).sum(), x), 2 elems", _autograd_grad),
    Workload("custom autograd.Function + backward, 2 elems", _custom_function),
]
