"""The notes' PyTorch scripts, run on chaingrad, print what the notes print."""

from __future__ import annotations

import re

import chaingrad as cg
from chaingrad.demos import autograd0, autograd1, autograd2, backprop_notebook, torchgd1, torchgd2, torchgd3


def test_autograd0_and_1(capsys):
    for demo in (autograd0, autograd1):
        demo.main()
        assert capsys.readouterr().out == "tensor(2.)\ntensor(6.)\n10.0\n"


def test_autograd2(capsys):
    autograd2.main()
    assert capsys.readouterr().out == "f= 10.0\nx.grad= tensor([2., 6.])\n"


def test_torchgd3(capsys):
    torchgd3.main()
    assert capsys.readouterr().out == "x= tensor([-0.0018, -0.0035], requires_grad=True)\n"


def test_backprop_notebook(capsys):
    backprop_notebook.main()
    out = capsys.readouterr().out.splitlines()
    assert out == ["tensor(1., grad_fn=<PowBackward0>)", "loss w.r.t. w: tensor(-2.)", "tensor(0.)"]


def test_torchgd1_converges_to_2(capsys):
    cg.manual_seed(1)  # the script starts from randn(); any start converges, this one prints fixed lines
    torchgd1.main()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 51 and lines[0].startswith("99 x= ")
    x = float(re.match(r"Result: x = (\S+) loss=", lines[-1]).group(1))
    assert abs(x - 2) < 1e-3
    assert lines[-1].endswith(" loss=0.0")  # f"{loss}" formats a 0-d tensor as its number, as PyTorch


def test_torchgd2_converges_to_2(capsys):
    cg.manual_seed(1)
    torchgd2.main()
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"4999 parameters= \[tensor\(1\.9999, requires_grad=True\)\] loss= 0\.0", lines[-2])
    assert lines[-1] == "Result: parameters = [tensor(1.9999, requires_grad=True)] loss=0.0"
