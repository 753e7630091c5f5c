"""The demos print what the notes print."""

from __future__ import annotations

import ast
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chaingrad._progress import ProgressLine
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
        done = subprocess.run(
            [sys.executable, "-m", f"chaingrad.demos.{name}"], capture_output=True, text=True, check=True
        )
        assert expect in done.stdout


def _demo_files():
    import chaingrad.demos

    folder = Path(chaingrad.demos.__file__).parent
    return {p.stem: p for p in folder.glob("*.py") if not p.stem.startswith("_")}


def test_listing_names_every_demo_with_its_summary_line():
    done = subprocess.run([sys.executable, "-m", "chaingrad.demos"], capture_output=True, text=True, check=True)
    listed = {}
    for line in done.stdout.splitlines():
        if line.startswith("  "):
            name, summary = line.strip().split(None, 1)
            listed[name] = summary
    files = _demo_files()
    assert "python -m chaingrad.demos.NAME" in done.stdout
    assert set(listed) == set(files) and len(files) >= 20
    for name, path in files.items():
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc, f"{name} has no docstring"
        lines = doc.splitlines()
        # a summary line of its own (PEP 257), so the listing never cuts a sentence
        assert len(lines) == 1 or lines[1] == "", name
        assert listed[name] == lines[0]


def test_listing_imports_no_demo():
    # the notes' scripts run when imported: listing them must only read their source
    code = (
        "import sys; from chaingrad.demos import summaries; summaries(); "
        "print(sorted(m for m in sys.modules if m.startswith('chaingrad.demos.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_listing_rejects_arguments():
    done = subprocess.run([sys.executable, "-m", "chaingrad.demos", "moons"], capture_output=True, text=True)
    assert done.returncode == 2 and "unrecognized arguments: moons" in done.stderr


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_redraws_only_on_a_terminal():
    log = io.StringIO()
    p = ProgressLine(log)
    p.draw("step 1")
    p.line("epoch 1 done")
    p.draw("step 2")
    assert not p.tty and log.getvalue() == "epoch 1 done\n"

    screen = _Terminal()
    p = ProgressLine(screen)
    p.draw("step 10 of 20")
    p.draw("step 20")  # shorter: blanks what the longer line left
    p.line("done")
    assert p.tty and screen.getvalue() == "\rstep 10 of 20\rstep 20      \rdone   \n"
    assert p.rate(10) > 0


def test_digits_progress_into_a_log_is_one_plain_line_per_epoch(capsys):
    pytest.importorskip("sklearn")
    from chaingrad.demos import digits

    _, losses, _ = digits.train(epochs=2)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert len(lines) == 2 and len(losses) == 2
    assert lines[0].startswith("epoch 1/2 [####################] 23/23 loss ") and lines[0].endswith(" it/s")
    assert lines[1].startswith("epoch 2/2 ")


def test_makemore_progress_into_a_log_has_no_carriage_returns(capsys):
    from chaingrad.demos import makemore

    makemore.main(["--model", "mlp", "--steps", "3"])
    out = capsys.readouterr().out
    assert "\r" not in out
    steps = [line for line in out.splitlines() if line.startswith("step")]
    assert [s.split()[1] for s in steps] == ["1/", "3/"]


def test_moons_picture_has_title_axes_accuracy_and_a_fine_grid(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    from chaingrad.micrograd.engine import Value
    from chaingrad.micrograd.nn import MLP

    X, y = moons.moons_data()
    model = MLP(2, [16, 16, 1])
    moons.train(model, X, y, steps=100, report=None)
    scores = moons.mlp_scores(model)
    for row in X[:10]:  # the vectorised picture scores what the Values compute
        assert abs(scores(row[None])[0] - model(list(map(Value, row))).data) < 1e-12
    asked = []

    def recording(points):
        asked.append(len(points))
        return scores(points)

    path = tmp_path / "moons.svg"
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # keeps the text searchable
        assert moons.save_decision_boundary(recording, X, y, str(path), "the title")
    span = (np.ptp(X[:, 0]) + 1) * (np.ptp(X[:, 1]) + 1)
    assert max(asked) >= span / 0.02**2  # a grid at least as fine as 0.02
    text = path.read_text()
    for words in ("the title", "training accuracy 100.0%", "class -1", "class +1", "model score"):
        assert words in text, words


def test_moons_tensor_plot_is_optional(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    from chaingrad.demos import moons_tensor

    moons_tensor.main(["--steps", "5"])
    plain = capsys.readouterr().out
    assert "saved" not in plain and plain.rstrip().endswith("number of parameters 337")
    moons_tensor.main(["--steps", "5", "--plot", str(tmp_path / "b.png")])
    out = capsys.readouterr().out
    assert out == plain + f"decision boundary saved to {tmp_path / 'b.png'}\n"
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
