"""Autograd semantics: leaves, grad_fn names, accumulation, retain_graph, no_grad, in place."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import chaingrad as cg


def test_leaf_and_grad_fn_names():
    x = cg.tensor(2.0, requires_grad=True)
    assert x.is_leaf and x.grad_fn is None and x.requires_grad
    y = (x * 3 + 1) ** 2
    assert not y.is_leaf and y.grad_fn.name() == "PowBackward0"
    assert repr(y.grad_fn).startswith("<PowBackward0 object at 0x")
    assert (x + x).grad_fn.name() == "AddBackward0"
    assert (x - 1).grad_fn.name() == "SubBackward0"
    assert (x / 2).grad_fn.name() == "DivBackward0"
    assert x.exp().grad_fn.name() == "ExpBackward0"
    assert cg.tensor([1.0, 2.0], requires_grad=True).sum().grad_fn.name() == "SumBackward0"
    nxt = y.grad_fn.next_functions
    assert nxt[0][0].name() == "AddBackward0"


def test_gradients_accumulate_and_reset_with_none_or_zero():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]
    g = x.grad
    (x * 1.0).sum().backward()
    assert g.tolist() == [5.0, 9.0]  # accumulated in place, as PyTorch
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_second_backward_needs_retain_graph():
    x = cg.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 12.0
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_of_non_scalar_needs_gradient():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(cg.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]
    with pytest.raises(RuntimeError, match="gradient has shape \\[3\\] but the output has shape \\[2\\]"):
        (x * 2).backward(cg.tensor([1.0, 2.0, 3.0]))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cg.tensor(1.0).backward()


def test_no_grad_context_and_decorator():
    x = cg.tensor(1.0, requires_grad=True)
    with cg.no_grad():
        y = x * 2
        assert not cg.is_grad_enabled()
        with cg.enable_grad():
            assert (x * 2).requires_grad
    assert cg.is_grad_enabled() and not y.requires_grad and y.grad_fn is None

    @cg.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad and cg.is_grad_enabled()
    with cg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cg.is_grad_enabled()


def test_detach_and_requires_grad_():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    z = cg.tensor([1.0]).requires_grad_()
    assert z.requires_grad
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
        cg.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf variables"):
        (x * 2).requires_grad = False


def test_autograd_grad_leaves_dot_grad_alone():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    w = cg.tensor(3.0, requires_grad=True)
    loss = (x * w).sum()
    gx, gw = cg.autograd.grad(loss, [x, w])
    assert gx.tolist() == [3.0, 3.0] and gw.item() == 3.0
    assert x.grad is None and w.grad is None
    unused = cg.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="not have been used"):
        cg.autograd.grad((x * 2).sum(), [unused])
    assert cg.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None
    h = x * 2
    (gh,) = cg.autograd.grad((h * h).sum(), [h])
    assert gh.tolist() == [4.0, 8.0]


def test_in_place_under_no_grad_and_version_counter():
    x = cg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x += 1
    v0 = x._version
    with cg.no_grad():
        x -= 0.5 * cg.ones(2)
    assert x.tolist() == [0.5, 1.5] and x._version == v0 + 1 and x.is_leaf


def test_in_place_change_of_saved_tensor_is_caught():
    a = cg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    c = b * b  # saves b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*expected version 0"):
        c.sum().backward()


def test_in_place_on_non_leaf_rebases_history():
    a = cg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b += 1
    b *= 3
    assert b.grad_fn.name() == "MulBackward0"
    b.sum().backward()
    assert a.grad.tolist() == [6.0, 6.0]


def test_in_place_dtype_rules():
    i = cg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        i += 0.5
    i += 2
    assert i.tolist() == [3, 4]


def test_graph_is_freed():
    x = cg.tensor(np.ones(1000), requires_grad=True)
    y = (x * 2).exp().sum()
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None


def test_deep_tensor_chain_backward_and_free():
    x = cg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y


def test_grad_flows_through_views_and_indexing():
    x = cg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    (x[:, 1] * 10 + x.t()[0].sum()).sum().backward()
    assert x.grad.tolist() == [[2.0, 10.0, 0.0], [2.0, 10.0, 0.0]]


def test_setitem_and_copy_fill():
    x = cg.zeros(2, 3)
    x[0] = 5
    x[1, 1:] = cg.tensor([7.0, 8.0])
    assert x.tolist() == [[5.0, 5.0, 5.0], [0.0, 7.0, 8.0]]
    x.fill_(1.5)
    assert x.tolist() == [[1.5] * 3] * 2
    x.copy_(cg.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [[1.0, 2.0, 3.0]] * 2
    w = cg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w[0] = 3.0


def test_in_place_into_an_expanded_view_is_refused():
    x = cg.ones(1).expand(5)
    for op in (lambda: x.add_(1), lambda: x.fill_(2.0), lambda: x.zero_(), lambda: x.copy_(cg.zeros(5))):
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            op()
    with pytest.raises(RuntimeError, match="more than one element"):
        x[1:] = 3.0


def test_in_place_arithmetic_written_straight_into_the_tensor_keeps_every_rule():
    """x op= y computes into x when autograd records nothing; the results, aliasing, versions and
    errors are those of the out-of-place path."""
    x = cg.arange(6.0)
    x[1:] += x[:-1]  # overlapping views of one storage: read before written
    assert x.tolist() == [0.0, 1.0, 3.0, 5.0, 7.0, 9.0]
    z = cg.arange(4.0)
    z *= z
    z -= cg.tensor(1.0, dtype=cg.float64)  # a float64 scalar keeps z float32
    assert z.tolist() == [-1.0, 0.0, 3.0, 8.0] and z.dtype is cg.float32
    m = cg.ones(2, 3)
    m += cg.tensor([1.0, 2.0, 3.0])  # broadcast operand
    assert m.tolist() == [[2.0, 3.0, 4.0]] * 2
    t = m.t()
    t /= 2  # a non-contiguous target
    assert m.tolist() == [[1.0, 1.5, 2.0]] * 2
    ints = cg.arange(3)
    with pytest.raises(RuntimeError, match="can't be cast"):
        ints /= 2
    w = cg.ones(3, requires_grad=True)
    a = cg.ones(3)
    y = (w * a).sum()  # MulBackward saved a
    with cg.no_grad():
        a += 1  # in place, outside the graph: the version moves on
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
