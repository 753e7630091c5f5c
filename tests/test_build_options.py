"""The build's CUDA switch: the CUDA kernels are built only with CHAINGRAD_CUDA=ON, so the default build
is the same whether or not nvcc is installed. Each test configures the project with CMake (no
compiling) and skips where cmake or the build requirements (pybind11, scipy-openblas32) are missing."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _configure(build_dir: pathlib.Path, *defines: str, path: str | None = None) -> subprocess.CompletedProcess:
    """Runs CMake's configure step of the project into build_dir, as scikit-build-core would."""
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not installed")
    pybind11 = pytest.importorskip("pybind11")
    pytest.importorskip("scipy_openblas32")
    # no LD_PRELOAD: under .ci/sanitize the sanitizer runtime must not follow CMake and the compiler
    env = {k: v for k, v in os.environ.items() if k not in ("CUDACXX", "LD_PRELOAD")}
    if path is not None:
        env["PATH"] = path
    command = [
        cmake,
        "-S",
        str(ROOT),
        "-B",
        str(build_dir),
        "-DSKBUILD_PROJECT_NAME=chaingrad",
        "-DSKBUILD_PROJECT_VERSION=0.1.0",
        f"-DPython_EXECUTABLE={sys.executable}",
        f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
        *defines,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


def test_default_build_leaves_cuda_off_with_nvcc_installed(tmp_path):
    """With nvcc on the PATH, a build that does not ask for CUDA neither looks for nor enables it."""
    if shutil.which("nvcc") is None:
        pytest.skip("nvcc is not installed, so nothing could switch CUDA on")
    result = _configure(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "chaingrad: building without CUDA (CHAINGRAD_CUDA=OFF)" in result.stdout
    assert "CMAKE_CUDA_COMPILER" not in (tmp_path / "CMakeCache.txt").read_text()


def test_auto_is_refused(tmp_path):
    """CHAINGRAD_CUDA=AUTO, the old default that depended on what was installed, fails naming the choices."""
    result = _configure(tmp_path, "-DCHAINGRAD_CUDA=AUTO")
    assert result.returncode != 0
    assert "CHAINGRAD_CUDA=AUTO is no longer supported" in result.stderr
    assert "CHAINGRAD_CUDA=ON" in result.stderr


def test_cuda_on_without_nvcc_fails_clearly(tmp_path):
    """CHAINGRAD_CUDA=ON with no CUDA compiler to be found stops the configure and says what to do."""
    path = os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (pathlib.Path(d) / "nvcc").exists()
    )
    result = _configure(tmp_path, "-DCHAINGRAD_CUDA=ON", path=path)
    if result.returncode == 0:
        pytest.skip("CMake found a CUDA compiler outside the PATH (a CUDA toolkit in its default place)")
    assert "CHAINGRAD_CUDA=ON needs a CUDA compiler, and none was found" in result.stderr
