"""The README says what the code does today.

- Every ```python block runs, in a fresh interpreter in an empty folder, and each `print(...)` whose
  line ends in a comment prints that comment (`...` stands for any text).
- Every ```bash block names modules, files and extras that exist, and the test command is the one
  `.ci/run` runs.
- Every row of the demo table runs its commands, and each quoted snippet of its "what it prints"
  column appears in their output; a paragraph after `<!-- output of: CMD -->` likewise.
- A block after `<!-- not run: REASON -->` is skipped (say why: a GPU, a download).
"""

from __future__ import annotations

import io
import json
import re
import shlex
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

import chaingrad

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->")
OUTPUT_OF = re.compile(r"<!-- output of: (.+?) -->")


@dataclass
class Block:
    """A fenced code block: its language, first line number in the README, source and the marker
    line (an HTML comment) that precedes it, if any."""

    lang: str
    line: int
    source: str
    marker: str

    @property
    def id(self) -> str:
        return f"{self.lang}-line{self.line}"


def readme_blocks() -> List[Block]:
    """The README's fenced blocks, list items' indented ones included."""
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        indent, lang, start = fence.group(1), fence.group(2), i
        body: List[str] = []
        i += 1
        while not re.match(r"^\s*```\s*$", lines[i]):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        before = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
        blocks.append(Block(lang, start + 1, "\n".join(body) + "\n", before.strip()))
        i += 1
    return blocks


def wildcard_match(expected: str, actual: str) -> bool:
    """Whether actual is expected with each `...` standing for any text."""
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, flags=re.DOTALL) is not None


def wildcard_search(expected: str, text: str) -> bool:
    """Whether expected (`...` for any text within a line) occurs in text."""
    pattern = "[^\n]*?".join(re.escape(part) for part in expected.split("..."))
    return re.search(pattern, text) is not None


def expected_prints(source: str) -> Dict[int, str]:
    """Line number -> the comment ending that line, for lines that call print."""
    expected = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            line = tok.line
            if re.match(r"\s*(\w+\s*=\s*)?print\(", line):
                expected[tok.start[0]] = tok.string[1:].strip()
    return expected


# Runs one block with print() recording the line that called it; writes [(line, text)] as JSON.
RUNNER = """
import builtins, io, json, sys
source = open(sys.argv[1], encoding="utf-8").read()
calls = []
real_print = builtins.print

def recording_print(*args, sep=" ", end="\\n", file=None, flush=False):
    if file is None:
        text = io.StringIO()
        real_print(*args, sep=sep, end="", file=text)
        calls.append((sys._getframe(1).f_lineno, text.getvalue()))
    real_print(*args, sep=sep, end=end, file=file, flush=flush)

builtins.print = recording_print
exec(compile(source, "README-block", "exec"), {"__name__": "__main__"})
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(calls, f)
"""


def python_blocks() -> List[Block]:
    return [b for b in readme_blocks() if b.lang == "python"]


@pytest.mark.parametrize("block", python_blocks(), ids=lambda b: b.id)
def test_python_block_prints_what_its_comments_say(block: Block, tmp_path: Path) -> None:
    skip = NOT_RUN.search(block.marker)
    if skip and not ("GPU" in skip.group(1) and chaingrad.cuda.is_available()):
        pytest.skip(skip.group(1))
    (tmp_path / "block.py").write_text(block.source, encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "runner.py", "block.py", "calls.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"README block at line {block.line} failed:\n{done.stderr[-3000:]}"
    printed: Dict[int, str] = {}
    for line, text in json.loads((tmp_path / "calls.json").read_text(encoding="utf-8")):
        printed.setdefault(line, text)
    for line, expected in expected_prints(block.source).items():
        readme_line = block.line + line
        assert line in printed, f"README line {readme_line}: this print never ran"
        assert wildcard_match(expected, printed[line]), (
            f"README line {readme_line} says it prints {expected!r}; it printed {printed[line]!r}"
        )


def pyproject_extras() -> List[str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    table = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return re.findall(r"^(\w+)\s*=", table, flags=re.MULTILINE)


def shell_commands(source: str) -> List[List[str]]:
    """The block's commands as argument lists (comments dropped, `&&`/`;` split)."""
    commands = []
    for line in source.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"&&|;", line):
            if part.strip():
                commands.append(shlex.split(part))
    return commands


def check_command(argv: List[str]) -> Optional[str]:
    """Why a README shell command would fail here, or None."""
    if argv[0] in ("python", "python3") and len(argv) > 2 and argv[1] == "-m":
        module = argv[2]
        if module.startswith("chaingrad"):
            found = subprocess.run(
                [sys.executable, "-c", f"import importlib.util as u; assert u.find_spec({module!r})"],
                capture_output=True,
            )
            return None if found.returncode == 0 else f"no module {module}"
        return None
    if argv[0] in ("python", "python3") and len(argv) > 1 and argv[1].endswith(".py"):
        path = argv[1]
        if path.startswith(("nn-zero-to-hero", "$")):
            return None
        return None if (ROOT / path).is_file() else f"no file {path}"
    if argv[0] == "pip" and "install" in argv:
        for arg in argv:
            extras = re.fullmatch(r"\.\[([\w,]+)\]", arg)
            if extras:
                missing = set(extras.group(1).split(",")) - set(pyproject_extras())
                if missing:
                    return f"pyproject.toml has no extra {sorted(missing)}"
        return None
    if argv[0].startswith(("tools/", ".ci/")):
        return None if (ROOT / argv[0]).is_file() else f"no file {argv[0]}"
    return None


@pytest.mark.parametrize("block", [b for b in readme_blocks() if b.lang == "bash"], ids=lambda b: b.id)
def test_shell_block_names_what_exists(block: Block) -> None:
    problems = [f"{' '.join(argv)}: {why}" for argv in shell_commands(block.source) if (why := check_command(argv))]
    assert not problems, f"README block at line {block.line}: " + "; ".join(problems)


def test_readme_test_command_is_what_ci_runs() -> None:
    setup = README.read_text(encoding="utf-8").split("## Set-up", 1)[1].split("\n## ", 1)[0]
    tests = [
        line.strip()
        for line in setup.splitlines()
        if "pytest" in line and not line.startswith("#") and "pip install" in line
    ]
    assert len(tests) == 1, "the Set-up section should give one test command"
    assert tests[0] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_points_inside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    assert "../" not in text, "the README points outside the repository"


def quoted(cell: str) -> List[str]:
    """The cell's quoted text, less command-line options (`--steps N`), which are not output."""
    return [q for q in re.findall(r"`([^`]+)`", cell.replace("\\|", "|")) if not q.startswith("--")]


def demo_rows() -> List[Tuple[int, List[str], List[str]]]:
    """(README line, commands, quoted output) for each row of the demo table."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| command | what it prints"))
    rows = []
    for i in range(start + 2, len(lines)):
        if not lines[i].startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", lines[i])[1:-1]]
        rows.append((i + 1, quoted(cells[0]), quoted(cells[1])))
    return rows


def run_commands(commands: List[str], cwd: Path) -> str:
    out = []
    for command in commands:
        argv = shlex.split(command)
        if argv[0] != "python":
            raise AssertionError(f"a demo command should start with python: {command}")
        done = subprocess.run([sys.executable, *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{command} failed:\n{done.stderr[-3000:]}"
        out.append(done.stdout)
    return "\n".join(out)


NEEDS = {"chaingrad.demos.digits": "sklearn"}


@pytest.mark.parametrize("row", demo_rows(), ids=lambda r: f"line{r[0]}")
def test_demo_table_row(row: Tuple[int, List[str], List[str]], tmp_path: Path) -> None:
    line, commands, claims = row
    assert commands and claims, f"README line {line}: a demo row needs a command and quoted output"
    for command in commands:
        for module, package in NEEDS.items():
            if module in command:
                pytest.importorskip(package)
    output = run_commands(commands, tmp_path)
    missing = [c for c in claims if not wildcard_search(c, output)]
    assert not missing, f"README line {line}: {commands} did not print {missing}"


def output_claims() -> List[Tuple[int, str, List[str]]]:
    """(README line, command, quoted text) for each paragraph after an `output of` marker."""
    lines = README.read_text(encoding="utf-8").splitlines()
    found = []
    for i, ln in enumerate(lines):
        marker = OUTPUT_OF.search(ln)
        if marker:
            paragraph = []
            for following in lines[i + 1 :]:
                if not following.strip():
                    break
                paragraph.append(following)
            found.append((i + 1, marker.group(1), quoted(" ".join(paragraph))))
    return found


@pytest.mark.parametrize("claim", output_claims(), ids=lambda c: f"line{c[0]}")
def test_paragraph_quotes_what_its_command_prints(claim: Tuple[int, str, List[str]], tmp_path: Path) -> None:
    line, command, snippets = claim
    assert snippets, f"README line {line}: nothing quoted after the marker"
    output = run_commands([command], tmp_path)
    missing = [s for s in snippets if not wildcard_search(s, output)]
    assert not missing, f"README line {line}: {command} did not print {missing}"


BENCH_TABLE = re.compile(r"<!-- bench table: (\S+) -->\n(.*?)\n<!-- end of bench table -->", re.DOTALL)


def test_bench_table_is_the_recorded_runs() -> None:
    from chaingrad.bench.results import load_results
    from chaingrad.bench.tables import readme_table

    found = BENCH_TABLE.search(README.read_text(encoding="utf-8"))
    assert found, "the README's Benchmarks section should hold a table between bench-table markers"
    results = ROOT / found.group(1)
    assert found.group(2).strip() == readme_table(load_results(str(results))).strip(), (
        f"the README's bench table is not what `python -m chaingrad.bench --markdown-table {found.group(1)}` prints"
    )
