"""Hostile uses of autograd: made-up or stale graph state, writes into a graph, odd gradient
arguments, backward from several threads; each must raise a clear error or give the right answer."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import chaingrad as cg


def test_grad_fn_cannot_be_made_or_copied_from_python():
    y = cg.tensor(1.0, requires_grad=True) * 2
    with pytest.raises(TypeError):
        type(y.grad_fn)()
    with pytest.raises(TypeError):
        copy.copy(y.grad_fn)


def test_untracked_writes_into_a_graph_are_refused():
    x = cg.ones(3, requires_grad=True)
    y = x * 2
    for op in (lambda: y.zero_(), lambda: y.fill_(1.0)):
        with pytest.raises(RuntimeError, match="not recorded by autograd"):
            op()
    with cg.no_grad():
        y[0] = 0.0
    y[1] = 0.0  # item assignment is recorded (CopySlices), as in PyTorch
    assert y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 2.0]  # the no_grad write is invisible to autograd


def test_autograd_grad_does_not_return_stale_gradients():
    x = cg.tensor(2.0, requires_grad=True)
    w = cg.tensor(3.0, requires_grad=True)
    cg.autograd.grad(x * w, [x])  # leaves a gradient in w's accumulator
    with pytest.raises(RuntimeError, match="not have been used"):
        cg.autograd.grad(x * 2, [w])


def test_gradient_argument_with_a_storage_offset():
    G = cg.tensor([[0.0, 0.0], [10.0, 20.0]])
    x = cg.ones(3, 2, requires_grad=True)
    x.sum(0).backward(G[1])
    assert x.grad.tolist() == [[10.0, 20.0]] * 3
    m = cg.ones(2, 2, requires_grad=True)
    (m @ cg.ones(2, 2)).backward(cg.tensor([[9.0, 9.0], [1.0, 2.0], [3.0, 4.0]])[1:])
    assert m.grad.tolist() == [[3.0, 3.0], [7.0, 7.0]]


def test_grad_assignment_edge_cases():
    x = cg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="own gradient"):
        x.grad = x
    x.grad = x * 2
    assert not x.grad.requires_grad and x.grad.tolist() == [2.0, 2.0]


@pytest.mark.concurrency
def test_concurrent_tensor_backward_on_shared_parameters():
    import threading

    w = cg.randn(300, 300, requires_grad=True)
    x = cg.randn(64, 300)
    errors = []

    def work():
        try:
            for _ in range(10):
                (x @ w).tanh().sum().backward()
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    single = cg.autograd.grad((x @ w).tanh().sum(), [w])[0]
    np.testing.assert_allclose(w.grad.numpy(), 30 * single.numpy(), rtol=1e-4, atol=1e-4)
