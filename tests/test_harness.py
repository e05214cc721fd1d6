"""The harness itself must catch disagreement, or no differential test means anything."""
import pytest

from harness import compare, differential


def test_detects_value_mismatch():
    with pytest.raises(AssertionError):
        compare(lambda T: T.tensor([1.0, 2.0]) + (0.5 if T.__name__ == "numtorch" else 0.0))


def test_detects_dtype_mismatch():
    with pytest.raises(AssertionError, match="dtype"):
        compare(lambda T: T.tensor([1, 2], dtype=T.float64 if T.__name__ == "torch" else
                                   T.float32))


def test_detects_exception_type_mismatch():
    def body(T):
        if T.__name__ == "torch":
            raise ValueError("x")
        raise KeyError("x")
    with pytest.raises(AssertionError, match="raised"):
        compare(body)


def test_detects_missing_exception():
    def body(T):
        if T.__name__ == "torch":
            raise RuntimeError("x")
        return 1
    with pytest.raises(AssertionError, match="returned"):
        compare(body)


def test_detects_requires_grad_mismatch():
    with pytest.raises(AssertionError, match="requires_grad"):
        compare(lambda T: T.ones(2, requires_grad=T.__name__ == "torch"))


@differential(check_grad_fn=True)
def test_tiny_autograd(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    return y, x.grad
