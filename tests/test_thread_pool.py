"""The one thread pool (Note [one thread pool] in cpp/kernels/cpu/threads.cpp): large GEMMs split
into blocks of the output, the parallel sums and loops, set_num_threads, concurrent callers and
forked children."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Iterator

import numpy as np
import pytest

import chaingrad as cg

pytestmark = pytest.mark.concurrency  # also run under ThreadSanitizer (.ci/sanitize thread)

RNG = np.random.default_rng(7)
# (n, k, m): split by rows (n >= m) and by columns, with sizes that are not multiples of the blocks
SHAPES = [(128, 784, 256), (256, 128, 784), (300, 513, 77), (77, 300, 513), (1000, 40, 900)]


@pytest.fixture
def restore_threads() -> Iterator[None]:
    threads = cg.get_num_threads()
    yield
    cg.set_num_threads(threads)


def _products(a: np.ndarray, b: np.ndarray) -> list:
    """a @ b with plain operands and with each operand a transposed view."""
    A, B = cg.tensor(a), cg.tensor(b)
    return [(A @ B).numpy(), (cg.tensor(a.T.copy()).t() @ B).numpy(), (A @ cg.tensor(b.T.copy()).t()).numpy()]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_gemms_match_numpy_and_repeat_bit_for_bit(restore_threads, shape, dtype):
    n, k, m = shape
    a = RNG.standard_normal((n, k)).astype(dtype)
    b = RNG.standard_normal((k, m)).astype(dtype)
    expected = a.astype(np.float64) @ b
    tolerance = 1e-4 if dtype == np.float32 else 1e-12
    for threads in (1, 2, 3):
        cg.set_num_threads(threads)
        first = _products(a, b)
        for got, again in zip(first, _products(a, b)):
            np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance * np.sqrt(k))
            assert np.array_equal(got, again)


def test_large_sums_and_elementwise_ops_repeat_bit_for_bit(restore_threads):
    x = cg.tensor(RNG.standard_normal(1_000_003).astype(np.float32))
    for threads in (1, 2, 4):
        cg.set_num_threads(threads)
        total = x.sum().item()
        assert total == x.sum().item()
        assert total == pytest.approx(float(x.numpy().astype(np.float64).sum()), rel=1e-6)
        np.testing.assert_array_equal((x * 2 + 1).numpy(), x.numpy() * np.float32(2) + np.float32(1))


def test_set_num_threads_governs_get_num_threads(restore_threads):
    for threads in (1, 3, 2):
        cg.set_num_threads(threads)
        assert cg.get_num_threads() == threads
    with pytest.raises(ValueError, match="positive number of threads"):
        cg.set_num_threads(0)


def test_concurrent_callers_each_get_their_own_result(restore_threads):
    cg.set_num_threads(2)
    a = RNG.standard_normal((256, 512)).astype(np.float32)
    bs = [RNG.standard_normal((512, 384)).astype(np.float32) for _ in range(4)]
    expected = [a @ b for b in bs]
    errors = []

    def run(i: int) -> None:
        for _ in range(10):
            got = (cg.tensor(a) @ cg.tensor(bs[i])).numpy()
            if not np.allclose(got, expected[i], rtol=1e-4, atol=1e-3):
                errors.append(i)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform != "linux", reason="needs fork")
def test_a_forked_child_runs_parallel_kernels(restore_threads):
    cg.set_num_threads(2)
    a = cg.tensor(RNG.standard_normal((512, 512)).astype(np.float32))
    expected = (a @ a).numpy()  # the pool's workers are running in the parent now
    time.sleep(0.05)  # and asleep, waiting on the pool's condition variable
    pid = os.fork()
    if pid == 0:  # the child: one thread (as PyTorch), then two again, with no worker inherited
        ok = np.array_equal((a @ a).numpy(), expected) and cg.get_num_threads() == 1
        cg.set_num_threads(2)
        for _ in range(3):  # new workers, asleep in between
            ok = ok and np.array_equal((a @ a).numpy(), expected)
            time.sleep(0.01)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
