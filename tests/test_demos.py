"""The demos print what the notes print."""

from __future__ import annotations

import subprocess
import sys

from chaingrad.demos import micrograd_ex1, moons


def test_micrograd_ex1(capsys):
    micrograd_ex1.main()
    assert capsys.readouterr().out == "24.7041\n138.8338\n645.5773\n"


def test_moons_demo_prints_the_notes_and_reaches_100_percent(capsys, tmp_path):
    moons.main(["--plot", str(tmp_path / "moons.png")])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2),")
    assert lines[0].endswith("Layer of [LinearNeuron(16)]]")
    assert lines[1] == "number of parameters 337"
    assert lines[2] == "Value(data=0.8862514464368222, grad=0) 0.5"
    assert lines[3] == "step 0 loss 0.8862514464368222, accuracy 50.0%"
    # Later losses agree with the notes to ~15 digits: micrograd's own runs differ in the last
    # digit, because it sums gradients in set-iteration order.
    assert lines[4].startswith("step 1 loss 1.71367906339500") and lines[4].endswith("accuracy 81.0%")
    assert lines[5].startswith("step 2 loss 0.73339612672869") and lines[5].endswith("accuracy 77.0%")
    assert lines[102] == "step 99 loss 0.0, accuracy 100.0%"


def test_moons_with_l2_matches_micrograds_notebook(capsys):
    moons.main(["--l2", "1e-4", "--steps", "1", "--no-plot"])
    out = capsys.readouterr().out
    assert "step 0 loss 0.8958441028683222, accuracy 50.0%" in out


def test_moons_demo_same_as_micrograd_under_same_seed(micrograd_nn):
    from micrograd.engine import Value as MValue

    X, y = moons.moons_data()
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    X, y = moons.moons_data()
    from chaingrad.micrograd.nn import MLP

    ours = MLP(2, [16, 16, 1])
    h_ours = moons.train(ours, X, y, steps=3, report=None)
    h_theirs = moons.train(theirs, X, y, steps=3, value=MValue, report=None)
    assert h_ours[0] == h_theirs[0]
    for (lo, ao), (lt, at) in zip(h_ours, h_theirs):
        assert ao == at and abs(lo - lt) < 1e-12


def test_demos_run_as_modules():
    for name, expect in [("net1", "net.forward()= 10"), ("micrograd_ex1", "24.7041")]:
        done = subprocess.run([sys.executable, "-m", f"chaingrad.demos.{name}"],
                              capture_output=True, text=True, check=True)
        assert expect in done.stdout
