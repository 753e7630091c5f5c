"""Host-side tests of the CUDA kernels' index arithmetic and per-element rules, compiled with nvcc
and run on the CPU (no GPU needed); they skip where nvcc is not installed."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("program", ["strided_index_test", "element_rules_test"])
def test_cuda_host_program(tmp_path, program):
    """strided_index_test: StridedIndex walks every operand like a row-major loop;
    element_rules_test: the CUDA per-element rules equal the CPU's for every op and dtype."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not installed")
    exe = tmp_path / program
    build = subprocess.run([nvcc, "-std=c++17", "--expt-relaxed-constexpr", "-I", str(ROOT / "cpp"),
                            str(ROOT / "tests" / "cuda_host" / f"{program}.cu"), "-o", str(exe)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stdout
