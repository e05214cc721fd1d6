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


def _per_module(torch_value, numtorch_value):
    return lambda T: torch_value if T.__name__ == "torch" else numtorch_value


@pytest.mark.parametrize("torch_value,numtorch_value", [(True, 1), (1, True), (2.0, 2),
                                                        (2, 2.0), ([1.0], [True])])
def test_detects_python_type_mismatch(torch_value, numtorch_value):
    with pytest.raises(AssertionError, match="type"):
        compare(_per_module(torch_value, numtorch_value))


def test_message_must_start_with_torchs_whole_message():
    def raiser(torch_msg, numtorch_msg):
        def body(T):
            raise RuntimeError(torch_msg if T.__name__ == "torch" else numtorch_msg)
        return body
    long = "Given groups=1, weight of size [4, 2, 3, 3], expected input to have 2 channels"
    with pytest.raises(AssertionError, match="messages differ"):
        compare(raiser(long, long[:45] + " WRONG"), match_message=True)
    with pytest.raises(AssertionError, match="messages differ"):
        compare(raiser("x must be 1", "wrapper: x must be 1"), match_message=True)
    compare(raiser("x must be 1", "x must be 1\nnumtorch's advice"), match_message=True)


@differential(check_grad_fn=True)
def test_tiny_autograd(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    return y, x.grad
