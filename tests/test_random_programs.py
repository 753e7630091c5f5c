"""Random scalar programs: values and gradients agree with PyTorch (float64) op for op."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaingrad import Value

torch = pytest.importorskip("torch")

# Each op maps (a, b) -> result for both engines and stays inside every op's domain.
OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
    "rdiv": lambda a, b: 1.5 / (a * a + 1),
    "neg": lambda a, b: -a,
    "square": lambda a, b: a ** 2,
    "cube": lambda a, b: a ** 3,
    "sqrt": lambda a, b: (a * a + 1) ** 0.5,
    "inverse": lambda a, b: (a * a + 1) ** -1,
    "relu": lambda a, b: a.relu(),
    "tanh": lambda a, b: a.tanh(),
    "exp": lambda a, b: a.tanh().exp(),
    "log": lambda a, b: (a * a + 0.25).log(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "const": lambda a, b: 2.5 * a - 0.75,
}

programs = st.lists(
    st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 1000), st.integers(0, 1000)),
    min_size=1, max_size=25)
starts = st.lists(st.floats(-2, 2, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
                  min_size=1, max_size=4)


def _run(program, leaves):
    pool = list(leaves)
    for name, i, j in program:
        pool.append(OPS[name](pool[i % len(pool)], pool[j % len(pool)]))
    total = pool[0]
    for v in pool[1:]:
        total = total + v
    return total


@settings(max_examples=150, deadline=None)
@given(programs, starts)
def test_random_program_matches_torch(program, start):
    ours = [Value(v) for v in start]
    out = _run(program, ours)
    out.backward()
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in start]
    tout = _run(program, theirs)
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=1e-12)
    for v, t in zip(ours, theirs):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(expected, rel=1e-9, abs=1e-9)
