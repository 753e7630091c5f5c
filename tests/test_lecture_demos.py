"""The nn-zero-to-hero demos: makemore's four models and the micrograd lecture's examples. Where
torch is installed, the makemore demo prints on chaingrad exactly what it prints on PyTorch."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from chaingrad.demos import makemore, micrograd_lecture


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[dict, str]:
    result = makemore.main(argv)
    return result, capsys.readouterr().out


@pytest.mark.parametrize("model", ["bigram", "mlp", "bn", "wavenet"])
def test_makemore_trains_and_samples(capsys: pytest.CaptureFixture[str], model: str) -> None:
    result, out = _run(capsys, ["--model", model, "--steps", "30"])
    assert re.search(r"^train loss \d+\.\d{4}$", out, re.M) and re.search(r"^dev loss   \d+\.\d{4}$", out, re.M)
    assert len(result["names"]) == 20
    assert all(re.fullmatch(r"[a-z]*\.", name) for name in result["names"])
    assert 1.5 < result["dev"] < 4.0 if model == "bigram" else result["dev"] > 0


@pytest.mark.parametrize("model", ["bigram", "mlp", "bn", "wavenet"])
def test_makemore_prints_what_torch_prints(capsys: pytest.CaptureFixture[str], model: str) -> None:
    """The same seeds give the same data, initial weights, batches and first loss as PyTorch. Training
    then drifts in the last bits (PyTorch's matmuls are MKL's, with another summation order), so
    after it the losses agree to a tolerance; the counting model has no such drift and agrees fully."""
    pytest.importorskip("torch")
    ours, ours_out = _run(capsys, ["--model", model, "--steps", "30"])
    theirs, theirs_out = _run(capsys, ["--model", model, "--steps", "30", "--backend", "torch"])
    if model == "bigram":
        assert ours_out.replace("chaingrad", "torch") == theirs_out
        return
    first = re.compile(r"^step +1/.*?loss (\S+)", re.M)
    assert first.search(ours_out).group(1) == first.search(theirs_out).group(1)
    assert ours["train"] == pytest.approx(theirs["train"], rel=0.02)
    assert ours["dev"] == pytest.approx(theirs["dev"], rel=0.02)


def test_makemore_bigram_names_are_the_lectures() -> None:
    # part 1 samples from counts over all 32,033 names with the generator seeded 2147483647
    import chaingrad as torch

    words = makemore.load_words()
    vocab = makemore.Vocab(words)
    P = makemore.bigram_probabilities(torch, words, vocab)
    names = makemore.sample_bigrams(torch, P, vocab, count=5)
    assert names == ["cexze.", "momasurailezitynn.", "konimittain.", "llayn.", "ka."]  # the lecture prints these


def test_makemore_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        makemore.main(["--model", "gpt"])
    with pytest.raises(SystemExit, match="no such file"):
        makemore.main([str(tmp_path / "missing.txt")])
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(SystemExit, match="no names"):
        makemore.main([str(tmp_path / "empty.txt")])
    with pytest.raises(SystemExit):
        makemore.main(["--steps", "-1"])


def test_makemore_runs_as_a_module_without_a_terminal() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chaingrad.demos.makemore", "--model", "mlp", "--steps", "20"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "\r" not in done.stdout and "step      20/     20" in done.stdout


def test_micrograd_lecture_demo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    micrograd_lecture.main(["--steps", "20", "--draw", str(tmp_path / "neuron.dot")])
    out = capsys.readouterr().out
    assert "L = -8.0; dL/da = 6.0, dL/db = -4.0, dL/dc = -2.0, dL/df = 4.0" in out
    assert "o = 0.7071; do/dx1 = -1.5000, do/dw1 = 1.0000, do/dx2 = 0.5000, do/dw2 = 0.0000" in out
    assert "o = 0.7071 again, through exp: do/dx1 = -1.5000, do/dw1 = 1.0000" in out
    losses = [float(x) for x in re.findall(r"^step +\d+ loss ([\d.]+)$", out, re.M)]
    assert len(losses) == 20 and losses[-1] < 0.1 * losses[0]
    assert "{ o | data 0.7071 | grad 1.0000 }" in (tmp_path / "neuron.dot").read_text()
