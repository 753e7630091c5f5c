"""In-place ops on views of tensors in a graph: recorded on the base (CopySlices), checked against PyTorch."""

from __future__ import annotations

import weakref
from typing import Any, Callable, List

import numpy as np
import pytest

import chaingrad as cg

torch = pytest.importorskip("torch")


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy()


def _same(fn: Callable[[Any], List[Any]]) -> None:
    """fn(lib) gives the same tensors (values and gradients) under chaingrad and PyTorch."""
    ours, theirs = fn(cg), fn(torch)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a is not None and b is not None, i
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-12, err_msg=f"tensor {i}")


def _leaves(lib: Any, *shapes: tuple) -> List[Any]:
    rng = np.random.default_rng(7)
    return [lib.tensor(rng.standard_normal(s), dtype=lib.float64, requires_grad=True) for s in shapes]


def test_lecture_loop_accumulates_rows_into_a_zero_tensor():
    """makemore part 4: dC[ix] += demb[k, j] gives dC a CopySlices history reaching demb."""

    def run(lib: Any) -> List[Any]:
        C, W = _leaves(lib, (6, 3), (6, 3))
        Xb = lib.tensor([[1, 2, 5], [0, 1, 1], [5, 5, 3], [2, 0, 1]])
        demb = C[Xb] * 3.0
        dC = lib.zeros_like(C)
        for k in range(Xb.shape[0]):
            for j in range(Xb.shape[1]):
                ix = Xb[k, j]
                dC[ix] += demb[k, j]
        assert type(dC.grad_fn).__name__ == "CopySlices" or dC.grad_fn.name() == "CopySlices"
        (dC * W).sum().backward()
        return [dC, C.grad, W.grad]

    _same(run)


def test_add_into_a_column_of_a_base_with_history():
    """x[:, 1] += y where x = a * 1."""

    def run(lib: Any) -> List[Any]:
        a, y, w = _leaves(lib, (3, 4), (3,), (3, 4))
        x = a * 1
        x[:, 1] += y * y
        (x * w).sum().backward()
        return [x, a.grad, y.grad, w.grad]

    _same(run)


def test_mul_into_a_row():
    """x[0].mul_(y): the view's own gradient reads the old row."""

    def run(lib: Any) -> List[Any]:
        a, y, w = _leaves(lib, (3, 4), (4,), (3, 4))
        x = a * 1.5
        row = x[0]
        row.mul_(y)
        (x * w).sum().backward(retain_graph=True)
        ga, gy = a.grad.clone(), y.grad.clone()
        a.grad = None
        y.grad = None
        (row * row).sum().backward()  # through the view's own (new) history
        return [x, row, ga, gy, a.grad, y.grad]

    _same(run)


def test_view_of_a_view():
    """An in-place op on x[1:][:, 2] is recorded on x, and the middle view reads the new history."""

    def run(lib: Any) -> List[Any]:
        a, y, w = _leaves(lib, (4, 3), (3,), (3, 3))
        x = a.sin()
        middle = x[1:]
        inner = middle[:, 2]
        inner.mul_(y)
        inner += 1.0
        (middle * w).sum().backward()
        return [x, middle, inner, a.grad, y.grad]

    _same(run)


def test_stale_views_read_the_new_history():
    """Views taken before a write (through another view, or into the base) see it, values and gradients."""

    def run(lib: Any) -> List[Any]:
        a, y, z, w = _leaves(lib, (3, 2), (2,), (3, 2), (2,))
        x = a * 2
        first, second = x[0], x[1]
        second.mul_(y)  # through another view
        x.mul_(z)  # into the base itself
        (first * w + second).sum().backward()
        return [x, first, second, a.grad, y.grad, z.grad, w.grad]

    _same(run)


def test_stale_view_of_a_tensor_that_did_not_require_grad():
    """A view of a zeros tensor taken before a recorded write then requires grad, as in PyTorch."""

    def run(lib: Any) -> List[Any]:
        (y,) = _leaves(lib, (3,))
        d = lib.zeros(2, 3, dtype=lib.float64)
        early = d[0]
        d[0] += y
        assert early.requires_grad
        (early * early).sum().backward()
        return [early, y.grad]

    _same(run)


def test_repeated_writes_into_one_row():
    def run(lib: Any) -> List[Any]:
        a, y = _leaves(lib, (3, 3), (3,))
        x = a.sin()
        for _ in range(3):
            x[1] *= y
            x[1] += x[0]
        x.pow(2).sum().backward()
        return [x, a.grad, y.grad]

    _same(run)


def test_double_backward_through_copy_slices():
    def run(lib: Any) -> List[Any]:
        a, y = _leaves(lib, (2, 3), (3,))
        x = a * 1
        x[0] *= y
        (ga,) = lib.autograd.grad(x.pow(3).sum(), a, create_graph=True)
        (ga * ga).sum().backward()
        return [ga, a.grad, y.grad]

    _same(run)


def test_no_grad_writes_record_nothing():
    def run(lib: Any) -> List[Any]:
        a, y = _leaves(lib, (2, 3), (3,))
        x = a * 1
        before = x.grad_fn
        with lib.no_grad():
            x[0] += y
        assert x.grad_fn is before or x.grad_fn.name() == before.name()
        x.sum().backward()
        return [x, a.grad]

    _same(run)


@pytest.mark.parametrize(
    "write",
    [
        lambda a, y: a[0].add_(y),
        lambda a, y: a[:, 1].mul_(2.0),
        lambda a, y: a.__setitem__(0, y),
    ],
)
def test_write_into_a_view_of_a_leaf_raises_as_torch(write: Callable[[Any, Any], Any]):
    for lib in (torch, cg):
        a, y = _leaves(lib, (2, 3), (3,))
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place"):
            write(a, y)


def test_write_into_a_saved_output_is_caught_as_torch():
    """exp saves its output: writing into a row of it makes the backward pass refuse, as in PyTorch."""
    for lib in (torch, cg):
        (a,) = _leaves(lib, (2, 3))
        x = a.exp()
        x[0] *= 2.0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            x.sum().backward()


def test_write_through_an_overlapping_view_raises():
    a, y = _leaves(cg, (3,), (2, 3))
    x = a * 1
    with pytest.raises(RuntimeError):
        x.expand(2, 3).mul_(y)


def test_graph_is_freed_after_the_tensors_are_deleted():
    """No cycle: the base owns CopySlices, which owns only the older history and the written value."""
    array = np.ones((4, 3))
    leaf = cg.from_numpy(array).requires_grad_()
    probe = weakref.ref(array)
    del array
    y = leaf * 2
    d = cg.zeros(4, 3, dtype=cg.float64)
    early = d[1]
    for i in range(4):
        d[i] += y[i]
    early += 1.0
    d.sum().backward(retain_graph=True)
    del leaf, y, d, early
    assert probe() is None


def test_write_through_a_view_of_a_non_contiguous_base_raises():
    """A limitation: autograd follows a view's geometry only within a contiguous base; it says so."""
    a, y = _leaves(cg, (3, 2), (3,))
    x = (a * 1).t().detach()  # not a view, and not contiguous
    with pytest.raises(RuntimeError, match="non-contiguous"):
        x[0].add_(y)


def test_stale_view_as_the_root_of_backward_and_of_grad():
    """A stale view used as a root (no op in between) still gets its base's new history, named as torch."""

    def run(lib: Any) -> List[Any]:
        a, y = _leaves(lib, (2, 2), (2,))
        x = a * 1
        v = x[0]
        x.mul_(2)
        x[1] *= y
        assert v.grad_fn.name() == "AsStridedBackward0"
        v.backward(lib.ones(2, dtype=lib.float64), retain_graph=True)
        ga, gy = lib.autograd.grad(x[1].sum(), [a, y])
        return [a.grad, y.grad, ga, gy]

    _same(run)


def test_write_into_a_view_of_a_leaf_that_is_itself_a_view_is_refused() -> None:
    """x = t.reshape(...).requires_grad_() is a leaf: its views are views of a leaf that requires
    grad, whatever x views (fuzz_ops found chaingrad accepting these where PyTorch raises)."""
    x = cg.tensor(np.array([-0.0], dtype="float32")).reshape([1, 1, 1]).requires_grad_()
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.transpose(0, 0).clamp_(0, -2.5)
    e = cg.tensor(np.array([], dtype="float64")).reshape([0, 0]).requires_grad_()
    t = e.unsqueeze(-2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        t += -4.0
