"""What the bench writes, on synthetic rows: the terminal tables, results.json, report.md and the charts."""

from __future__ import annotations

import json
import os

import pytest

from chaingrad.bench.charts import write_charts
from chaingrad.bench.common import Row, Spread
from chaingrad.bench.report import markdown_report
from chaingrad.bench.results import SCHEMA, build_results, environment, load_results, write_results
from chaingrad.bench.tables import readme_table, suite_table


def synthetic_results(scale: float = 1.0) -> dict:
    """Three rows in two suites: a cost, a rate, and a row whose peer is missing (scale: chaingrad's times)."""
    rows = [
        Row(
            "moons step",
            "s/step",
            Spread(6e-4 * scale, 5.8e-4 * scale, 6.5e-4 * scale, 5),
            "micrograd",
            Spread(0.62, 0.6, 0.7, 3),
            threads=1,
        ),
        Row(
            "MLP step",
            "samples/s",
            Spread(24740.0 / scale, 24000.0 / scale, 25000.0 / scale, 5),
            "torch",
            Spread(8000.0, 7900.0, 8100.0, 5),
            higher_is_better=True,
            threads=2,
        ),
        Row("calls per step", "calls", Spread.single(36), "torch", None, threads=2),
    ]
    for row, suite in zip(rows, ["scalar", "nn", "nn"]):
        row.suite = suite
    env = environment(["--quick"], [1, 2])
    env.update(
        started_utc="2026-11-30T12:00:00+00:00",
        finished_utc="2026-11-30T12:07:00+00:00",
        load_average_before=[0.5, 0.4, 0.3],
        load_average_after=[1.5, 0.9, 0.5],
    )
    return build_results(rows, env, {"scalar": 12.0, "nn": 30.0}, quick=False)


def test_suite_table_columns_line_up():
    results = synthetic_results()
    lines = suite_table(results["rows"]).splitlines()
    assert len({len(line) for line in lines}) == 1  # every line as wide as the header
    header = lines[0]
    for column in ("chaingrad", "peer"):  # right-aligned: each figure ends where its header ends
        end = header.index(column) + len(column)
        for line in lines[2:]:
            assert line[end - 1] != " " and (end == len(line) or line[end] == " ")
    assert "600 µs/step" in lines[2] and "620 ms/step" in lines[2] and "1,033x (923–1,207)" in lines[2]
    assert "24.7 k samples/s" in lines[3] and "3.09x (2.96–3.16)" in lines[3]
    assert "(peer missing)" in lines[4] and "e+" not in "".join(lines)


def test_results_json_schema(tmp_path):
    path = str(tmp_path / "sub" / "results.json")
    write_results(synthetic_results(), path)
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    assert data["schema"] == SCHEMA and data["suite_seconds"] == {"scalar": 12.0, "nn": 30.0}
    env = data["environment"]
    assert set(env["versions"]) == {"chaingrad", "numpy", "torch", "micrograd", "python"}
    for key in (
        "platform",
        "cpu",
        "logical_cores",
        "threads",
        "command",
        "started_utc",
        "finished_utc",
        "load_average_before",
        "load_average_after",
    ):
        assert env[key] not in (None, "")
    assert env["threads"]["used"] == [1, 2] and env["command"] == "python -m chaingrad.bench --quick"
    moons, mlp, calls = data["rows"]
    assert moons["chaingrad"] == {"median": 6e-4, "min": 5.8e-4, "max": 6.5e-4, "repeats": 5}
    assert moons["ratio"]["median"] == pytest.approx(0.62 / 6e-4)
    # the ratio's range pairs the two sides' extremes: worst peer-fast/chaingrad-slow, best the other way
    assert moons["ratio"]["min"] == pytest.approx(0.6 / 6.5e-4) and moons["ratio"]["max"] == pytest.approx(0.7 / 5.8e-4)
    assert mlp["ratio"]["min"] == pytest.approx(24000 / 8100) and mlp["threads"] == 2 and mlp["suite"] == "nn"
    assert calls["peer"] is None and calls["ratio"] is None
    assert load_results(path)["rows"] == data["rows"]


def test_report_md_has_the_dated_readme_table_and_the_environment():
    results = synthetic_results()
    report = markdown_report(results, {"scalar": "ratios-scalar.png"})
    assert report.startswith("# chaingrad benchmarks\n")
    assert readme_table(results) in report
    line = readme_table(results).splitlines()[0]
    assert "2026-11-30" in line and results["environment"]["cpu"] in line and "1 and 2 threads" in line
    assert "| moons step | 1 | 600 µs/step | micrograd 620 ms/step | 1,033x (923–1,207) |" in report
    assert "| calls per step | 2 | 36 calls | torch (peer missing) | - |" in report
    assert "## Environment" in report and "[0.5, 0.4, 0.3] / [1.5, 0.9, 0.5]" in report
    assert "![scalar: ratio to the peer](ratios-scalar.png)" in report
    assert "580 µs/step – 650 µs/step (5 repeats)" in report and "| 36 calls | 1 repeat |" in report


def test_charts_are_written_per_suite(tmp_path):
    pytest.importorskip("matplotlib")
    charts = write_charts(synthetic_results(), str(tmp_path))
    assert charts == {"scalar": "ratios-scalar.png", "nn": "ratios-nn.png"}
    for name in charts.values():
        with open(os.path.join(tmp_path, name), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_second_run_keeps_the_first_as_results_previous(tmp_path):
    from chaingrad.bench.__main__ import _write_outputs

    first, second = synthetic_results(), synthetic_results(scale=2.0)
    _write_outputs(first, str(tmp_path), None)
    written = _write_outputs(second, str(tmp_path), str(tmp_path / "copy.json"))
    assert written[:3] == ["results.previous.json (the run before)", "results.json", "report.md"]
    assert load_results(str(tmp_path / "results.previous.json"))["rows"] == first["rows"]
    assert load_results(str(tmp_path / "results.json"))["rows"] == second["rows"]
    assert load_results(str(tmp_path / "copy.json"))["rows"] == second["rows"]
    assert (tmp_path / "report.md").read_text(encoding="utf-8").startswith("# chaingrad benchmarks")
