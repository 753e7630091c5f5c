"""Threads sharing tensors: no crash, no freed memory read, PyTorch's semantics.

The kernels of large tensors (2^17 elements and more) release the GIL, so another Python thread can
run in the middle of an op. The semantics, as PyTorch's: backward passes run one at a time; a
thread that replaces `p.grad` (zero_grad sets it to None) or `p.data` while another thread's op is
running changes what later ops see, never the memory a running kernel reads or writes; an
accumulation that was running when `.grad` was replaced lands in the replaced gradient.
"""

from __future__ import annotations

import threading
from typing import Callable, List

import numpy as np
import pytest

import chaingrad as cg
import chaingrad.nn.functional as F

pytestmark = pytest.mark.concurrency

BIG = 1 << 18  # past the size at which kernels release the GIL


def _run_together(*jobs: Callable[[], None]) -> List[BaseException]:
    """Runs each job in its own thread, all at once; the exceptions they raised."""
    errors: List[BaseException] = []
    start = threading.Barrier(len(jobs))

    def guarded(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as err:  # reported to the test
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_grad_reset_while_backward_accumulates_into_it():
    p = cg.randn(BIG, requires_grad=True)
    done = threading.Event()

    def train() -> None:
        try:
            for _ in range(40):
                (p * 2.0).sum().backward()  # from the second pass on: an in-place add into p.grad
        finally:
            done.set()

    def clear() -> None:
        while not done.is_set():
            p.grad = None  # what zero_grad() does

    assert _run_together(train, clear) == []
    if p.grad is not None:  # whatever survived is a whole number of passes, never torn memory
        values = np.unique(p.grad.numpy())
        assert values.size == 1 and values[0] % 2 == 0 and 2 <= values[0] <= 80


def test_zero_grad_and_steps_from_other_threads():
    cg.manual_seed(0)
    model = cg.nn.Sequential(cg.nn.Linear(512, 512), cg.nn.Tanh(), cg.nn.Linear(512, 4))
    opt = cg.optim.Adam(model.parameters(), lr=1e-3)
    x, y = cg.randn(32, 512), cg.randint(0, 4, (32,))
    done = threading.Event()

    def train() -> None:
        try:
            for _ in range(15):
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
        finally:
            done.set()

    def clear() -> None:
        while not done.is_set():
            opt.zero_grad()

    assert _run_together(train, clear) == []
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())


def test_data_replaced_while_ops_run_on_it():
    w = cg.randn(BIG)
    done = threading.Event()

    def compute() -> None:
        try:
            for _ in range(30):
                (w * 2.0 + 1.0).sum()
                w.exp()
                -w
        finally:
            done.set()

    def replace() -> None:
        while not done.is_set():
            w.data = cg.randn(BIG)

    assert _run_together(compute, replace) == []


def test_backward_passes_from_threads_sum_like_sequential_ones():
    w = cg.randn(300, 300, requires_grad=True)
    x = cg.randn(64, 300)

    def work() -> None:
        for _ in range(5):
            (x @ w).tanh().sum().backward()

    assert _run_together(work, work, work) == []
    single = cg.autograd.grad((x @ w).tanh().sum(), [w])[0]
    np.testing.assert_allclose(w.grad.numpy(), 15 * single.numpy(), rtol=1e-4, atol=1e-4)


def test_separate_models_trained_in_threads_match_a_sequential_run():
    def make():
        cg.manual_seed(1)
        model = cg.nn.Sequential(cg.nn.Linear(64, 128), cg.nn.ReLU(), cg.nn.Linear(128, 3))
        return model, cg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    cg.manual_seed(2)
    x, y = cg.randn(256, 64), cg.randint(0, 3, (256,))

    def train(model, opt) -> None:
        for _ in range(20):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

    runs = [make() for _ in range(3)]
    assert _run_together(*[lambda m=m, o=o: train(m, o) for m, o in runs]) == []
    reference = make()
    train(*reference)
    for model, _ in runs:
        for p, q in zip(model.parameters(), reference[0].parameters()):
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
