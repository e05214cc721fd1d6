"""Inference tensors (made inside ``inference_mode``) against torch: which tensors are, and the
errors for saving them for backward, changing them in place or making them require grad."""
import pytest

from harness import compare, differential


def _made_in_inference_mode(T):
    x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    normal = T.ones(3)
    with T.inference_mode():
        made = {"factory": T.ones(3), "op on leaf": x * 2, "op on normal": normal + 1,
                "clone": normal.clone(), "tensor()": T.tensor([1.0, 2.0, 3.0]),
                "view of normal": normal[0:2], "arange": T.arange(3.0)}
        made["view of inference"] = made["factory"][1:]
        made["detach"] = made["factory"].detach()
        normal.add_(1)               # normal tensors may change in place inside the mode
        with T.inference_mode(False):
            made["inside inference_mode(False)"] = T.ones(3)
    return x, normal, made


@differential
def test_which_tensors_are_inference_tensors(T):
    x, normal, made = _made_in_inference_mode(T)
    flags = {name: t.is_inference() for name, t in made.items()}
    return flags, x.is_inference(), normal.is_inference(), T.is_inference(made["factory"]), \
        normal._version, made["factory"].data.is_inference(), made["factory"].clone().is_inference()


USES = {
    "saved by mul": lambda T, x, f: (x * f).sum().backward(),
    "saved by mul, other order": lambda T, x, f: (f * x).sum(),
    "saved by mm": lambda T, x, f: T.mm(x.view(1, 3), f.view(3, 1)),
    "add saves nothing": lambda T, x, f: (x + f).sum().backward(),
    "add_": lambda T, x, f: f.add_(1),
    "mul_ by a tensor requiring grad": lambda T, x, f: f.mul_(x),
    "fill_ of a view": lambda T, x, f: f[0].fill_(2),
    "zero_": lambda T, x, f: f.zero_(),
    "copy_": lambda T, x, f: f.copy_(x.detach()),
    "setitem": lambda T, x, f: f.__setitem__(0, 3.0),
    "copy into a normal tensor": lambda T, x, f: x.detach().clone().copy_(f),
    "add_ under no_grad": lambda T, x, f: T.no_grad()(lambda: f.add_(1))(),
    "requires_grad_": lambda T, x, f: f.requires_grad_(),
    "requires_grad = True": lambda T, x, f: setattr(f, "requires_grad", True),
    "requires_grad_(False)": lambda T, x, f: f.requires_grad_(False),
    "_version": lambda T, x, f: f._version,
    "in inference_mode(False)": lambda T, x, f: T.inference_mode(False)(lambda: x * f)(),
}


@pytest.mark.parametrize("name", USES)
def test_using_an_inference_tensor_outside_the_mode(name):
    """torch changes the data and then refuses an in-place update; numtorch does the same."""
    def body(T):
        x, _, made = _made_in_inference_mode(T)
        f = made["factory"]
        outcome = USES[name](T, x, f)
        return f, outcome
    compare(body, match_message=True)


@differential
def test_inference_tensors_change_in_place_inside_the_mode(T):
    with T.inference_mode():
        f = T.ones(3)
        f.add_(1)
        f[0] = 5.0
        g = T.ones(2, requires_grad=True)
    return f, g.requires_grad, g.is_inference()
