"""autograd.Function: Python-defined forward/backward, checked against PyTorch's behaviour."""

import gc
import weakref

import numpy as np
import pytest

import chaingrad as cg
from chaingrad.autograd import Function


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class Scale(Function):
    @staticmethod
    def forward(ctx, x, k, *, offset=0.0):
        ctx.save_for_backward(x)
        ctx.k = k
        return x * k + offset

    @staticmethod
    def backward(ctx, g):
        assert ctx.needs_input_grad == (True, False)
        return g * ctx.k, None


class Cube(Function):  # saves its input: differentiable twice
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class SplitTwo(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3, 7

    @staticmethod
    def backward(ctx, a, b, _):
        return a * 2 + b * 3


def test_forward_backward_and_name():
    x = cg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward" and repr(y.grad_fn).startswith("<ExpBackward object")
    assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.tolist(), np.exp([0.5, -1.0, 2.0]), rtol=1e-6)


def test_non_tensor_and_keyword_arguments_pass_through():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x, 3.0, offset=1.0)
    assert y.tolist() == [4.0, 7.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_no_graph_without_grad():
    x = cg.tensor([1.0, 2.0])
    assert Exp.apply(x).grad_fn is None
    with cg.no_grad():
        assert Exp.apply(cg.tensor([1.0], requires_grad=True)).grad_fn is None


def test_multiple_outputs_and_materialized_grads():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    a, b, n = SplitTwo.apply(x)
    assert n == 7 and a.grad_fn.name() == "SplitTwoBackward"
    a.sum().backward()  # b gets no gradient: backward sees zeros for it
    assert x.grad.tolist() == [2.0, 2.0]
    x.grad = None
    a, b, _ = SplitTwo.apply(x)
    (a.sum() + b.sum()).backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_set_materialize_grads_false_passes_none():
    seen = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 1

        @staticmethod
        def backward(ctx, a, b):
            seen.append(b)
            return a

    x = cg.tensor([1.0], requires_grad=True)
    a, _ = Two.apply(x)
    a.sum().backward()
    assert seen == [None]


def test_mark_non_differentiable():
    class MaxIdx(Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            return x * 2, idx

        @staticmethod
        def backward(ctx, g, _):
            return g * 2

    x = cg.tensor([1.0, 3.0], requires_grad=True)
    y, idx = MaxIdx.apply(x)
    assert not idx.requires_grad and y.requires_grad


def test_input_returned_unchanged_is_a_new_tensor():
    class Id(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 10

    x = cg.tensor([1.0], requires_grad=True)
    y = Id.apply(x)
    assert y is not x and x.grad_fn is None
    y.sum().backward()
    assert x.grad.tolist() == [10.0]


def test_double_backward_through_saved_input():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = cg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [3.0, 12.0]
    (gg,) = cg.autograd.grad(g.sum(), x)
    assert gg.tolist() == [6.0, 12.0]


def test_wrong_gradient_count_and_shape_raise():
    class Few(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g

    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g[:1]

    class GradForNumber(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = cg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 1\)"):
        Few.apply(x, 2.0).sum().backward()
    with pytest.raises(
        RuntimeError,
        match=r"invalid gradient at index 0 - got \[1\] but expected shape compatible "
        r"with \[3\]",
    ):
        BadShape.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="was not a Variable"):
        GradForNumber.apply(x, 2.0).sum().backward()


def test_broadcast_gradient_is_summed_to_the_input():
    class Bcast(Function):
        @staticmethod
        def forward(ctx, b):
            return b * 1

        @staticmethod
        def backward(ctx, g):
            return g.unsqueeze(0).expand(4, 3)

    b = cg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    Bcast.apply(b).sum().backward()
    assert b.grad.tolist() == [4.0, 4.0, 4.0]


def test_second_backward_without_retain_graph_raises():
    x = cg.tensor([1.0], requires_grad=True)
    y = Exp.apply(x)
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_saved_tensor_modified_in_place_raises():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = Cube.apply(h)
    with cg.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_graph_is_freed():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = Exp.apply(Cube.apply(x * 2))  # Exp saves its own output: must not make a cycle
    a, b, _ = SplitTwo.apply(y)
    refs = [weakref.ref(t) for t in (y, a, b)]
    gc.disable()
    try:
        del y, a, b
        assert all(r() is None for r in refs)  # freed by reference counting, no collector needed
    finally:
        gc.enable()


def test_hooks_and_retain_grad_on_function_outputs():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x, 2.0)
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert y.grad.tolist() == [10.0, 10.0] and x.grad.tolist() == [20.0, 20.0]


def test_matches_torch():
    torch = pytest.importorskip("torch")

    class TCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    data = np.random.default_rng(0).standard_normal(5).tolist()
    x = cg.tensor(data, dtype=cg.float64, requires_grad=True)
    tx = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    (Cube.apply(x).sin().sum()).backward()
    (TCube.apply(tx).sin().sum()).backward()
    np.testing.assert_allclose(x.grad.tolist(), tx.grad.numpy(), rtol=1e-12)
    assert TCube.apply(tx).grad_fn.name() == "TCubeBackward"


def test_retain_grad_on_non_leaf_is_warning_free(recwarn):
    a = cg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    b.retain_grad()
    (b * b).sum().backward()
    assert b.grad.tolist() == [6.0, 12.0] and len(recwarn) == 0


def test_double_backward_through_saved_output_matches_torch():
    torch = pytest.importorskip("torch")

    class TExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    data = [0.3, -0.7, 1.1]
    x = cg.tensor(data, dtype=cg.float64, requires_grad=True)
    tx = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    (g,) = cg.autograd.grad((Exp.apply(x) ** 2).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((TExp.apply(tx) ** 2).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.tolist(), tg.detach().numpy(), rtol=1e-12)
    (gg,) = cg.autograd.grad(g.sum(), x)
    (tgg,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(gg.tolist(), tgg.numpy(), rtol=1e-12)


def test_graph_is_freed_after_a_create_graph_pass():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = Exp.apply(x * 2)
    (g,) = cg.autograd.grad(y.sum(), x, create_graph=True)
    refs = [weakref.ref(t) for t in (y, g)]
    gc.disable()
    try:
        del y, g
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_setup_context_style():
    class Mul(Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y, g * x

    x = cg.tensor([2.0], requires_grad=True)
    y = cg.tensor([5.0], requires_grad=True)
    Mul.apply(x, y).backward()
    assert x.grad.tolist() == [5.0] and y.grad.tolist() == [2.0]


def test_autograd_grad_through_several_outputs():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    a, b, _ = SplitTwo.apply(x * x)
    (g,) = cg.autograd.grad((a * b).sum(), x, create_graph=True)  # d/dx 6 x^4 = 24 x^3
    assert g.tolist() == [24.0, 192.0]
    (gg,) = cg.autograd.grad(g.sum(), x)  # 72 x^2
    assert gg.tolist() == [72.0, 288.0]
