"""tools/lecture_notebooks.py: cells run as Jupyter runs them, imports swapped, outputs compared."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_TOOL = Path(__file__).resolve().parent.parent / "tools" / "lecture_notebooks.py"


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("lecture_notebooks", _TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook(folder: Path, cells: list[str]) -> None:
    code = [{"cell_type": "code", "source": c.splitlines(keepends=True)} for c in cells]
    (folder / "demo.ipynb").write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": []}, *code]}))


CELLS = [
    "import torch\nimport torch.nn.functional as F\n%matplotlib inline",
    "words = open('names.txt').read().splitlines()\nlen(words)",
    "x = torch.tensor([1.0, 2.0])\nx.sum()",
    "F.softmax(x, 0);",
    "class Value:\n  def __init__(self, data, label=''):\n    self.data = data\nv = Value(3.0, label='v')\nv.label",
    "for i in range(200000):\n  pass\nprint(i)",
    "1 / 0",
]


def test_run_swaps_imports_and_records_outputs(tmp_path: Path) -> None:
    tool = _tool()
    _notebook(tmp_path, CELLS)
    (tmp_path / "names.txt").write_text("ada\nbo\n")
    out = tmp_path / "ours.json"
    tool.run([tmp_path], "chaingrad", out, steps=5, timeout=60)
    cells = json.loads(out.read_text())["demo.ipynb"]
    assert [c["status"] for c in cells] == ["ok"] * 6 + ["error"]
    assert cells[1]["output"] == "2\n"  # run from the notebook's own folder
    assert cells[2]["output"] == "tensor(3.)\n"
    assert cells[3]["output"] == ""  # a trailing ';' shows nothing
    assert cells[4]["output"] == "'v'\n"  # chaingrad's Value, which takes label=
    assert cells[5]["output"] == "4\n"  # the long loop cut to --steps
    assert "ZeroDivisionError" in cells[6]["output"]


def test_compare_against_torch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    tool = _tool()
    _notebook(tmp_path, CELLS[:4] + ["x.dtype"])
    (tmp_path / "names.txt").write_text("ada\n")
    tool.run([tmp_path], "torch", tmp_path / "torch.json", steps=5, timeout=60)
    tool.run([tmp_path], "chaingrad", tmp_path / "ours.json", steps=5, timeout=60)
    tool.compare(tmp_path / "torch.json", tmp_path / "ours.json", verbose=False)
    last = capsys.readouterr().out.strip().splitlines()[-1].split()
    # cells 5, run 5, same 4 (x.dtype prints chaingrad.float32), same but the name 5
    assert last[1:] == ["cells", "5", "run", "5", "same", "4", "same", "but", "the", "name", "5"]
