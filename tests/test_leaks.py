"""Tensor graphs are freed as soon as nothing references them, whatever happened to them.

The probe: a leaf built over a numpy array, which its storage keeps alive. Once the test drops its
own references, the array lives on only if some graph node still holds the leaf, so a weak
reference to the array tells, without gc.collect(), whether the whole graph was freed.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from typing import Callable, Tuple

import numpy as np
import pytest

import chaingrad as cg
import chaingrad.nn.functional as F
from chaingrad.bench.common import rss_bytes
from conftest import skip_unless_rss_measures_leaks


def _leaf(shape: Tuple[int, ...] = (4, 5)) -> Tuple[cg.Tensor, "weakref.ref[np.ndarray]"]:
    """A leaf that requires grad over fresh numpy memory, and a weak reference to that memory."""
    array = np.random.default_rng(0).uniform(0.5, 2.0, shape).astype(np.float32)
    x = cg.from_numpy(array).requires_grad_()
    return x, weakref.ref(array)


def _targets() -> Tuple[cg.Tensor, cg.Tensor, cg.Tensor]:
    return cg.tensor([0, 2, 1, 4]), cg.rand(4, 5), cg.rand(4, 5)


# Every op whose node saves tensors (its inputs, its output or both), and the losses built on them.
SAVING_OPS = {
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "abs": lambda x: x.abs(),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "square": lambda x: x.square(),
    "pow_scalar": lambda x: x ** 3,
    "pow_tensor": lambda x: x ** (x * 0.5),
    "mul": lambda x: x * x,
    "div": lambda x: x / (x + 1),
    "maximum": lambda x: cg.maximum(x, x * 0.5),
    "clamp": lambda x: x.clamp(0.7, 1.5),
    "where": lambda x: cg.where(x > 1, x, x * 2),
    "max_all": lambda x: x.max(),
    "max_dim": lambda x: x.max(1).values,
    "amax": lambda x: x.amax(0),
    "norm": lambda x: x.norm(),
    "norm_p3": lambda x: x.norm(3),
    "var": lambda x: x.var(1),
    "std": lambda x: x.std(),
    "softmax": lambda x: x.softmax(1),
    "log_softmax": lambda x: x.log_softmax(1),
    "matmul": lambda x: x @ x.t(),
    "linear": lambda x: F.linear(x, x[:3] * 1.0, x[0, :3] * 1.0),
    "cross_entropy": lambda x: F.cross_entropy(x, _targets()[0]),
    "bce_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, _targets()[1]),
    "mse_loss": lambda x: F.mse_loss(x, _targets()[2]),
    "copy_into_self": lambda x: _copy_own_result(x),
}


def _copy_own_result(x: cg.Tensor) -> cg.Tensor:
    """y.copy_(f(y)): y's new history leads back to the node that saved y."""
    y = x * 1.0
    y.copy_(y.log() * 2)
    return y


@pytest.fixture(autouse=True)
def _no_collector():
    """Graphs must be freed by reference counting alone: the cycle collector stays off."""
    enabled = gc.isenabled()
    gc.disable()
    yield
    if enabled:
        gc.enable()


@pytest.mark.parametrize("name", sorted(SAVING_OPS))
def test_graph_dropped_without_backward_is_freed(name: str):
    x, alive = _leaf()
    y = SAVING_OPS[name](x)
    assert y.requires_grad
    del x, y
    assert alive() is None, f"{name}: the graph outlived every reference to it"


@pytest.mark.parametrize("name", sorted(set(SAVING_OPS) - {"copy_into_self"}))  # that one cannot backward
def test_graph_freed_after_backward_with_retain_graph(name: str):
    x, alive = _leaf()
    y = SAVING_OPS[name](x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    del x, y
    assert alive() is None, f"{name}: a retained graph outlived every reference to it"


def test_graph_freed_after_exception_mid_step():
    x, alive = _leaf()
    try:
        h = (x @ x.t()).tanh()
        h.softmax(1) @ cg.ones(3, 3)  # a shape error between forward and backward
    except RuntimeError:
        pass
    del x, h
    assert alive() is None


def test_model_evaluated_outside_no_grad_is_freed():
    model = cg.nn.Sequential(cg.nn.Linear(5, 8), cg.nn.ReLU(), cg.nn.Linear(8, 3))
    x, alive = _leaf()
    for _ in range(3):
        out = F.cross_entropy(model(x), cg.tensor([0, 1, 2, 1]))
    del x, out
    assert alive() is None


def test_autograd_grad_without_retain_frees():
    x, alive = _leaf()
    y = (x.exp() * x).sum()
    (g,) = cg.autograd.grad(y, [x])
    del x, y, g
    assert alive() is None


def _rss_growth_mib(step: Callable[[], object], steps: int) -> float:
    for _ in range(steps // 10):
        step()
    start = rss_bytes()
    for _ in range(steps):
        step()
    return (rss_bytes() - start) / 2**20


def test_rss_flat_for_repeated_ops_on_a_leaf():
    skip_unless_rss_measures_leaks()
    w = cg.randn(256, 256, requires_grad=True)  # 256 KiB a result: 2,000 leaked results would be 500 MiB
    assert _rss_growth_mib(lambda: w.tanh(), 2000) < 32


def test_rss_flat_for_model_evaluation_outside_no_grad():
    skip_unless_rss_measures_leaks()
    model = cg.nn.Sequential(cg.nn.Linear(784, 256), cg.nn.ReLU(), cg.nn.Linear(256, 10))
    x = cg.randn(64, 784)
    target = cg.zeros(64, dtype=cg.int64)
    assert _rss_growth_mib(lambda: F.cross_entropy(model(x), target), 1000) < 32


# --- every demo over 10^4 steps ------------------------------------------------------------------

# Each demo's arguments and how many times it runs, so that every one trains about 10^4 steps (or
# more, for those whose own loop is longer) in a process of its own. A leak per step shows as RSS
# growth between the end of the first run (everything warm) and the end of the last.
DEMOS = {
    "moons": (["--steps", "1000", "--no-plot"], 10),
    "moons_tensor": (["--steps", "1000"], 10),
    "net2": ([], 100),
    "linear_model": ([], 100),
    "torchgd1": ([], 3),
    "torchgd2": ([], 3),
    "torchgd3": ([], 20),
    "regression1train": ([], 2),
    "torch_regression4nn": ([], 5),
    "torch_regression5optim": ([], 2),
    "torch_regression6custom": ([], 5),
    "torch_regression7cws": ([], 2),
}

_RUNNER = """
import contextlib, os, runpy, sys
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
after = []
with open(os.devnull, 'w') as quiet, contextlib.redirect_stdout(quiet):
    for _ in range({runs}):
        sys.argv = [{name!r}] + {args!r}
        runpy.run_module('chaingrad.demos.' + {name!r}, run_name='__main__')
        after.append(rss())
print('RSS', after[0], after[-1])
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DEMOS))
def test_demo_memory_flat_over_training(name: str, tmp_path):
    skip_unless_rss_measures_leaks()
    args, runs = DEMOS[name]
    code = _RUNNER.format(name=name, args=args, runs=runs)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-2000:]
    first, last = (int(v) for v in done.stdout.strip().splitlines()[-1].split()[1:])
    assert (last - first) / 2**20 < 8, f"{name}: RSS grew from {first / 2**20:.1f} to {last / 2**20:.1f} MiB"
