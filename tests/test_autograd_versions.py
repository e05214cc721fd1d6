"""Version counters against torch: which in-place changes backward refuses, and torch's words."""
import pytest

from harness import compare, differential


def _x(T, shape=(2, 3)):
    return T.arange(1.0, 1.0 + 6).reshape(shape).requires_grad_()


# each body changes something backward needs; torch names the tensor's producer (short form)
MODIFIED = {
    "saved input": lambda T, x: (lambda y: ((y * y).sum(), y.add_(1)))(x * 1),
    "saved output": lambda T, x: (lambda y: (y.sum(), y.mul_(2)))(x.exp()),
    "leaf through detach": lambda T, x: ((x * x).sum(), x.detach().add_(1)),
    "clamp_ producer": lambda T, x: (lambda y: ((y * y).sum(), y.clamp_(0, 3)))(x * 1),
    "fill_ producer": lambda T, x: (lambda y: ((y * y).sum(), y.fill_(2)))(x * 1),
    "copy_ producer": lambda T, x: (lambda y: ((y * y).sum(), y.copy_(T.ones(2, 3))))(x * 1),
    "setitem producer": lambda T, x: (lambda y: ((y * y).sum(), y.__setitem__(0, 1.0)))(x * 1),
    "masked_fill_ producer": lambda T, x: (lambda y: (
        (y * y).sum(), y.masked_fill_(T.ones(2, 3, dtype=T.bool), 1.0)))(x * 1),
    "saved output of an in-place op": lambda T, x: (lambda y: (
        y.sigmoid_().sum(), y.mul_(2)))(x * 1),
    "tanh_ output": lambda T, x: (lambda y: (y.tanh_().sum(), y.add_(1)))(x * 1),
    "exp_ output": lambda T, x: (lambda y: (y.exp_().sum(), y.add_(1)))(x * 1),
    "relu_ output": lambda T, x: (lambda y: (y.relu_().sum(), y.add_(1)))(x * 1),
    "sqrt_ output": lambda T, x: (lambda y: (y.sqrt_().sum(), y.add_(1)))(x * 1),
    "rsqrt_ output": lambda T, x: (lambda y: (y.rsqrt_().sum(), y.add_(1)))(x * 1),
    "reciprocal_ output": lambda T, x: (lambda y: (y.reciprocal_().sum(), y.add_(1)))(x * 1),
    "base of a saved output view": lambda T, x: (lambda y: (y.sum(), y.t().add_(1)))(x.exp()),
    "row of a saved output": lambda T, x: (lambda y: (y.sum(), y[0].add_(1)))(
        x.double().exp()),
}


@pytest.mark.parametrize("name", MODIFIED)
def test_modified_saved_tensor_is_refused_in_torch_words(name):
    def body(T):
        loss, _ = MODIFIED[name](T, _x(T))
        loss.backward()
    compare(body, match_message=True)


def test_anomaly_mode_changes_the_hint():
    def body(T):
        with T.autograd.set_detect_anomaly(True):
            x = _x(T)
            y = x * 1
            z = (y * y).sum()
            y.add_(1)
            z.backward()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(body, match_message=True)


def _function_saving_outputs(T):
    class Split(T.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            first, second = a * 2, a * 3
            ctx.save_for_backward(second)
            return first, second

        @staticmethod
        def backward(ctx, g1, g2):
            (second,) = ctx.saved_tensors
            return g1 * 2 + g2 * second
    return Split


@differential(match_message=True)
def test_function_saved_output_names_function_and_output_number(T):
    x = _x(T)
    first, second = _function_saving_outputs(T).apply(x)
    loss = (first + second).sum()
    second.add_(1)
    loss.backward()


@differential
def test_data_has_its_own_version_counter(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    before = x._version
    x.data.mul_(2)
    y.backward()
    return x.grad, before, x._version, x.data._version


@differential
def test_detach_keeps_the_version_counter(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    d.add_(1)
    return x._version, d._version
