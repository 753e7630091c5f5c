"""--compare: changes beyond the measured noise are flagged, changes within it are not, and a file that
is not a results.json gets a clear error."""

from __future__ import annotations

import copy
import json

import pytest

from chaingrad.bench.__main__ import main
from chaingrad.bench.compare import compare_results, comparison_table
from chaingrad.bench.results import BenchResultsError, load_results, write_results
from test_bench_output import synthetic_results


def test_a_2x_slowdown_is_flagged_and_noise_is_not():
    old = synthetic_results()
    new = synthetic_results(scale=2.0)  # chaingrad twice as slow on every timed row
    changes = {c.name: c for c in compare_results(old, new)}
    moons, mlp, calls = changes["moons step"], changes["MLP step"], changes["calls per step"]
    assert moons.percent == pytest.approx(100.0) and moons.beyond_noise and moons.better is False
    assert mlp.percent == pytest.approx(-50.0) and mlp.beyond_noise and mlp.better is False
    assert calls.percent == 0 and not calls.beyond_noise
    # within the range the repeats spanned: +5% on a row whose repeats spread -3%..+8%
    within = synthetic_results(scale=1.05)
    assert not any(c.beyond_noise for c in compare_results(old, within))
    table = comparison_table(compare_results(old, new))
    assert "WORSE" in table and "+100.0%" in table and "2 of 3 rows changed beyond the noise" in table


def test_a_speedup_reads_better_and_one_sided_rows_are_listed():
    old, new = synthetic_results(), synthetic_results(scale=0.5)
    new["rows"].append(dict(copy.deepcopy(new["rows"][0]), name="new row"))
    old["rows"].append(dict(copy.deepcopy(old["rows"][0]), name="gone row"))
    changes = {c.name: c for c in compare_results(old, new)}
    assert changes["moons step"].better is True and changes["moons step"].beyond_noise
    table = comparison_table(list(changes.values()))
    assert "BETTER" in table and "only in the new run" in table and "only in the old run" in table


def test_compare_two_files_from_the_command_line(tmp_path, capsys):
    write_results(synthetic_results(), str(tmp_path / "old.json"))
    write_results(synthetic_results(scale=2.0), str(tmp_path / "new.json"))
    main(["--compare", str(tmp_path / "old.json"), str(tmp_path / "new.json")])
    out = capsys.readouterr().out
    assert "moons step" in out and "WORSE" in out and "→" in out and "--quick" not in out
    quick = synthetic_results()
    quick["quick"] = True
    write_results(quick, str(tmp_path / "quick.json"))
    main(["--compare", str(tmp_path / "old.json"), str(tmp_path / "quick.json")])
    assert "one run is --quick and the other is not" in capsys.readouterr().out


def test_files_that_are_not_results_get_a_clear_error(tmp_path, capsys):
    cases = {
        "garbage.json": "not json at all",
        "other.json": json.dumps({"hello": 1}),
        "latest.json": json.dumps({"environment": {}, "rows": []}),  # the old bench/results/latest.json
        "broken.json": json.dumps({"schema": "chaingrad-bench/1", "rows": [{"name": "x"}]}),
    }
    messages = {}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(BenchResultsError) as e:
            load_results(str(tmp_path / name))
        messages[name] = str(e.value)
    assert "is not JSON" in messages["garbage.json"]
    assert "not a chaingrad bench results file" in messages["other.json"]
    assert "older bench" in messages["latest.json"]
    assert "'rows' must be" in messages["broken.json"]
    with pytest.raises(BenchResultsError, match="cannot read"):
        load_results(str(tmp_path / "missing.json"))
    with pytest.raises(SystemExit) as exit_info:
        main(["--compare", str(tmp_path / "other.json")])
    assert exit_info.value.code == 2 and "not a chaingrad bench results file" in capsys.readouterr().err
