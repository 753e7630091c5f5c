"""The course's gate Net: net1 and net2 print exactly what the notes print."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaingrad.demos import net1, net2
from chaingrad.net import Net

NET1_EXPECTED = """net.forward()= 10
net.backwward()
x= v:1 g:2 y= v:3 g:6 o= v:10 g:1
gfx = x.g/o.g =  2.0 gfy = y.g/o.g= 6.0
"""


def test_net1_output(capsys):
    net1.main()
    assert capsys.readouterr().out == NET1_EXPECTED


def test_net2_output_every_digit(capsys):
    net2.main()
    expected = (Path(__file__).parent / "data" / "net2_expected.txt").read_text()
    assert capsys.readouterr().out == expected


def test_adjust_moves_a_twice_read_input_twice():
    net = Net()
    x = net.variable(1)
    net.mul(x, x)
    net.forward()
    net.backward()
    assert x.g == 2
    net.adjust(0.01)
    assert x.v == pytest.approx(0.96) and x.g == 0


def test_net_errors():
    net = Net()
    with pytest.raises(RuntimeError, match="no gates"):
        net.forward()
    with pytest.raises(TypeError, match="must be an int or float"):
        net.variable("1")
    with pytest.raises(TypeError, match="must be a Node"):
        net.add(net.variable(1), 2)
