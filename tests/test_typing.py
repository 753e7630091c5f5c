"""The typed API (_core.pyi, the Python layer's hints, py.typed) under mypy: a PyTorch-style
training script (tests/typing/train_sample.py) checks clean with strict-lite flags and trains when
run, and the mistakes in tests/typing/mistakes_sample.py are each reported on their line."""

import ast
import os
import pathlib
import re
import subprocess
import sys
import time
from typing import List, Set, Tuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "typing"
# "strict-lite": --strict's checks that apply to a user script (its own defs typed, no Any
# leaking out of a return, no implicit Optional, no always-false comparison); not its
# --warn-unused-ignores or --disallow-subclassing-any, which judge the package, not the script.
STRICT_LITE = [
    "--check-untyped-defs",
    "--disallow-untyped-defs",
    "--disallow-incomplete-defs",
    "--warn-return-any",
    "--no-implicit-optional",
    "--strict-equality",
    "--warn-redundant-casts",
    "--disallow-untyped-calls",
    "--no-implicit-reexport",
    "--extra-checks",
]


def _mypy(sample: pathlib.Path, cache: pathlib.Path, *flags: str) -> Tuple[int, str]:
    """mypy's exit status and report on one sample, reading chaingrad from the source tree."""
    # --follow-imports=silent: the package's own modules are checked but, as for an installed package,
    # their internal errors are not the sample's (tests/test_typing.py judges only the sample's lines)
    cmd = [
        sys.executable,
        "-m",
        "mypy",
        *flags,
        "--follow-imports=silent",
        "--cache-dir",
        str(cache),
        "--no-error-summary",
        "--show-error-codes",
        str(sample),
    ]
    # the package from the source tree (an installed copy or an editable hook may be another version)
    env = dict(os.environ, MYPYPATH=str(ROOT / "python"))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    return out.returncode, out.stdout + out.stderr


def _expected_errors(sample: pathlib.Path) -> Set[Tuple[int, str]]:
    """(line, code) for every line marked `# error: CODE`."""
    marks = (re.search(r"# error: ([a-z-]+)$", line) for line in sample.read_text().splitlines())
    return {(n, m.group(1)) for n, m in enumerate(marks, 1) if m}


def _reported_errors(report: str, sample: pathlib.Path) -> Set[Tuple[int, str]]:
    found = re.findall(re.escape(sample.name) + r":(\d+): error: .*\[([a-z-]+)\]$", report, re.MULTILINE)
    return {(int(n), code) for n, code in found}


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """One cache for the module's runs: the package is analysed once, later runs reuse it."""
    pytest.importorskip("mypy")
    return tmp_path_factory.mktemp("mypy-cache")


def test_training_script_passes_strict_lite(mypy_cache: pathlib.Path) -> None:
    start = time.perf_counter()
    status, report = _mypy(SAMPLES / "train_sample.py", mypy_cache, *STRICT_LITE)
    assert status == 0, report
    print(f"mypy on train_sample.py: {time.perf_counter() - start:.1f} s")


def test_training_script_passes_strict(mypy_cache: pathlib.Path) -> None:
    status, report = _mypy(SAMPLES / "train_sample.py", mypy_cache, "--strict")
    assert status == 0, report


def test_mistakes_are_each_caught_on_their_line(mypy_cache: pathlib.Path) -> None:
    sample = SAMPLES / "mistakes_sample.py"
    expected = _expected_errors(sample)
    assert len(expected) >= 10  # the marks were read
    _, report = _mypy(sample, mypy_cache, *STRICT_LITE)
    reported = _reported_errors(report, sample)
    assert sorted(expected - reported) == [], "mistakes mypy missed:\n" + report
    assert sorted(reported - expected) == [], "errors on lines without a mistake:\n" + report


def test_training_script_trains() -> None:
    sys.path.insert(0, str(SAMPLES))
    try:
        import train_sample
    finally:
        sys.path.remove(str(SAMPLES))
    losses: List[float] = train_sample.train(30)
    assert len(losses) == 30 and all(isinstance(v, float) for v in losses)
    assert sum(losses[-5:]) < sum(losses[:5])
    assert train_sample.main(["12"]) == 0


def test_functional_spells_out_every_sequence_function_for_type_checkers() -> None:
    """functional.py's `if TYPE_CHECKING:` block names the same functions the runtime adds from a dict."""
    from chaingrad._sequence_ops import functions

    tree = ast.parse((ROOT / "python" / "chaingrad" / "functional.py").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    spelled = {t.id for n in block.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    assert spelled == set(functions)
