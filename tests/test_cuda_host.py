"""Host-side tests of the CUDA kernels' index arithmetic and per-element rules, compiled with nvcc
and run on the CPU (no GPU needed); they skip where nvcc is not installed."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
# nvcc, the host compiler it runs and the programs it builds are not instrumented: under
# .ci/sanitize the sanitizer runtime preloaded into this interpreter must not follow them.
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


@pytest.mark.parametrize("program", ["strided_index_test", "element_rules_test"])
def test_cuda_host_program(tmp_path, program):
    """strided_index_test: StridedIndex walks every operand like a row-major loop;
    element_rules_test: the runtime-op rules the CUDA kernels call equal the CPU loops' compile-time ones
    for every op of the table, dtype and parameter (one shared header, compiled by nvcc)."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not installed")
    exe = tmp_path / program
    build = subprocess.run([nvcc, "-std=c++17", "--expt-relaxed-constexpr", "-I", str(ROOT / "cpp"),
                            str(ROOT / "tests" / "cuda_host" / f"{program}.cu"), "-o", str(exe)],
                           capture_output=True, text=True, timeout=300, env=TOOL_ENV)
    assert build.returncode == 0, build.stderr
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, env=TOOL_ENV)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stdout


def _cpu_optimizer_runs(dtype):
    """The CPU optimizers (cpp/kernels/cpu/optim.cpp) on optim_rules_test.cu's cases, by name."""
    import chaingrad as cg
    from chaingrad import _core

    n = 7
    def fresh():
        p = cg.tensor([(i - 3) * 0.25 + 0.125 for i in range(n)], dtype=dtype)
        g = cg.tensor([(i % 3 - 1) * 0.5 + i * 0.0625 for i in range(n)], dtype=dtype)
        return p, g, [cg.zeros(n, dtype=dtype) for _ in range(3)]

    runs = {}
    for name, (lr, momentum, dampening, wd, nesterov, maximize) in {
            "sgd0": (0.1, 0.9, 0.1, 0.01, True, False), "sgd1": (0.05, 0.0, 0.0, 0.0, False, True)}.items():
        p, g, s = fresh()
        for step in range(1, 4):
            _core.sgd_step([p], [g], [s[0]], lr, momentum, dampening, wd, nesterov, maximize, step == 1)
        runs[name] = p.tolist()
    for name, (lr, alpha, eps, wd, momentum, centered, maximize) in {
            "rmsprop0": (0.01, 0.99, 1e-8, 0.01, 0.5, True, False),
            "rmsprop1": (0.01, 0.9, 1e-6, 0.0, 0.0, False, True)}.items():
        p, g, s = fresh()
        for _ in range(3):
            _core.rmsprop_step([p], [g], [s[0]], [s[1]], [s[2]], lr, alpha, eps, wd, momentum, centered, maximize)
        runs[name] = p.tolist()
    for name, (lr, b1, b2, eps, wd, decoupled, amsgrad, maximize) in {
            "adam0": (0.001, 0.9, 0.999, 1e-8, 0.01, False, True, False),
            "adam1": (0.01, 0.8, 0.99, 1e-8, 0.1, True, False, True)}.items():
        p, g, s = fresh()
        for step in range(1, 4):
            _core.adam_step([p], [g], [s[0]], [s[1]], [s[2]], [float(step)], lr, b1, b2, eps, wd, decoupled,
                            amsgrad, maximize)
        runs[name] = p.tolist()
    return runs


def test_cuda_optimizer_updates_equal_the_cpu_optimizers_bit_for_bit(tmp_path):
    """optim_rules_test: SGD, RMSprop, Adam and AdamW through the shared rules of kernels/optim_rules.h
    with run-time flags, as the CUDA kernels call them, compiled by nvcc and run on the CPU."""
    import chaingrad as cg

    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not installed")
    exe = tmp_path / "optim_rules_test"
    build = subprocess.run([nvcc, "-std=c++17", "--expt-relaxed-constexpr", "-Xcompiler", "-ffp-contract=off",
                            "-I", str(ROOT / "cpp"), str(ROOT / "tests" / "cuda_host" / "optim_rules_test.cu"),
                            "-o", str(exe)], capture_output=True, text=True, timeout=300, env=TOOL_ENV)
    assert build.returncode == 0, build.stderr
    lines = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, check=True,
                           env=TOOL_ENV).stdout.splitlines()
    expected = {"float32": _cpu_optimizer_runs(cg.float32), "float64": _cpu_optimizer_runs(cg.float64)}
    assert len(lines) == 12
    for line in lines:
        name, dtype, *values = line.split()
        assert [float(v) for v in values] == expected[dtype][name], (name, dtype)
