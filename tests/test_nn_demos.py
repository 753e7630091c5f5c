"""The notes' nn/optim programs on chaingrad converge as they do on PyTorch."""

from __future__ import annotations

import re

import pytest

import chaingrad as cg
from chaingrad.demos import (
    linear_model,
    moons_tensor,
    regression1train,
    regression2predict,
    torch_regression4nn,
    torch_regression5optim,
    torch_regression6custom,
)

COEFFS = re.compile(r"Result: y = (\S+) \+ (\S+) x \+ (\S+) x\^2 \+ (\S+) x\^3")


def _coefficients(line):
    return [float(v) for v in COEFFS.match(line).groups()]


def test_linear_model_loss_falls(capsys):
    cg.manual_seed(0)
    linear_model.main()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 100 and lines[0].startswith("Epoch [1/100], Loss: ")
    losses = [float(line.rsplit(" ", 1)[1]) for line in lines]
    assert losses[-1] < 0.5 * losses[0] and sorted(losses, reverse=True) == losses


@pytest.mark.parametrize("demo", [torch_regression4nn, torch_regression5optim, torch_regression6custom])
def test_regressions_recover_the_cubic(capsys, demo):
    cg.manual_seed(0)
    demo.main()
    result = capsys.readouterr().out.splitlines()[-1]
    b, c1, c2, c3 = _coefficients(result)
    assert abs(c1 - 1) < 0.05 and abs(c2 - 2) < 0.05 and abs(c3 - 3) < 0.05 and abs(b) < 0.1


def test_train_save_then_predict(capsys, tmp_path):
    cg.manual_seed(0)
    path = str(tmp_path / "model.ckpt")
    regression1train.main(path)
    regression2predict.main(path)
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith("Result: y = ")
    predicted = float(re.match(r"predict=tensor\(\[(\S+)\], grad_fn=<ViewBackward0>\)", out[-1]).group(1))
    assert abs(predicted - 34.0) < 0.1  # 2 + 2*4 + 3*8


def test_moons_tensor_reaches_100_percent():
    _, history = moons_tensor.train(report=None)
    assert history[-1][1] == 1.0


def test_digits_reaches_95_percent():
    pytest.importorskip("sklearn")
    from chaingrad.demos import digits
    _, losses, accuracy = digits.train(epochs=30, show_progress=False)
    assert accuracy >= 0.95 and losses[-1] < losses[0]
