"""numtorch demo: the seed training loop (Linear(3, 2), MSE, a hand-written SGD step on .grad).

Run with `make demo`.
"""
import numtorch as torch

torch.manual_seed(0)
w = torch.randn(2, 3, requires_grad=True)
b = torch.zeros(2, requires_grad=True)
x = torch.randn(64, 3)
true_w = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.0, -1.0]])
y = (x.unsqueeze(1) * true_w).sum(-1) if hasattr(torch.Tensor, "unsqueeze") else None

for step in range(101):
    pred = (x.unsqueeze(1) * w).sum(-1) + b
    loss = ((pred - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        b -= 0.1 * b.grad
    w.grad = None
    b.grad = None
    if step % 20 == 0:
        print(f"step {step:3d}  loss {loss.item():.6f}")
