"""python -m chaingrad.bench end to end: one real --quick run of the cheapest suite (scalar) into a
folder, its outputs, and the commands that read them back."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from chaingrad.bench.__main__ import main
from chaingrad.bench.charts import have_matplotlib
from chaingrad.bench.tables import readme_table


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaingrad.bench",
            "--quick",
            "--only",
            "scalar",
            "--out",
            str(out),
            "--json",
            str(out.parent / "copy.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(out.parent),
    )
    assert done.returncode == 0, done.stderr
    return out, done


def test_quick_run_writes_results_report_and_charts(quick_run):
    out, done = quick_run
    assert f"results go to {out}" in done.stdout and f"written to {out}" in done.stdout
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert json.loads((out.parent / "copy.json").read_text(encoding="utf-8")) == results
    names = [r["name"] for r in results["rows"]]
    assert names == [
        "moons demo: one training step",
        "build a graph from Python",
        "backward()",
        "graph memory (RSS growth)",
    ]
    moons = results["rows"][0]
    assert moons["chaingrad"]["repeats"] == 10 and moons["chaingrad"]["min"] <= moons["chaingrad"]["median"]
    assert results["quick"] is True and set(results["suite_seconds"]) == {"scalar"}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert readme_table(results) in report
    if have_matplotlib():
        assert (out / "ratios-scalar.png").stat().st_size > 0
    else:
        assert "matplotlib is not installed" in done.stdout and "No charts" in report
    table = done.stdout[done.stdout.index("benchmark") :]
    assert "ns/node" in table and "e+0" not in table and "e-0" not in table


def test_progress_goes_to_a_log_as_plain_lines(quick_run):
    _, done = quick_run
    assert "\r" not in done.stderr
    phases = [line for line in done.stderr.splitlines() if line.startswith("[1/1 scalar]")]
    assert len(phases) >= 3 and all("elapsed, about" in line for line in phases)


def test_markdown_table_and_compare_read_a_run_back(quick_run, capsys):
    out, _ = quick_run
    results_path = str(out / "results.json")
    main(["--markdown-table", results_path])
    printed = capsys.readouterr().out
    assert printed.startswith("Measured ") and "| moons demo: one training step |" in printed
    main(["--compare", results_path, results_path])
    printed = capsys.readouterr().out
    assert "0 of 4 rows changed beyond the noise" in printed and "+0.0%" in printed


def test_out_naming_a_file_is_refused_before_measuring(tmp_path, capsys):
    taken = tmp_path / "results"
    taken.write_text("a file")
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--only", "scalar", "--out", str(taken)])
    assert exit_info.value.code == 2 and "is a file" in capsys.readouterr().err
