"""The distribution's metadata and licences: in pyproject.toml, in the installed package, in a built wheel."""

from __future__ import annotations

import importlib.metadata as md
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List

import pytest

ROOT = Path(__file__).resolve().parent.parent
# licence texts every wheel carries in its .dist-info/licenses/, as PEP 639 License-File entries
LICENCE_FILES = ["LICENSE", "licenses/OpenBLAS.txt", "licenses/pybind11.txt", "python/chaingrad/data/names.txt.LICENSE"]
NATIVE_SUFFIXES = (".so", ".dylib", ".dll", ".pyd")


def installed() -> md.Distribution:
    """The installed chaingrad distribution (skip when it is importable only from a source tree)."""
    try:
        return md.distribution("chaingrad")
    except md.PackageNotFoundError:
        pytest.skip("chaingrad is not installed as a distribution")


def pyproject() -> dict:
    """pyproject.toml, parsed (skip without a TOML parser or outside a source checkout)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli")
    path = ROOT / "pyproject.toml"
    if not path.is_file():
        pytest.skip("no pyproject.toml beside the tests")
    return tomllib.loads(path.read_text())


def library_stem(name: str) -> str:
    """A shared library's name without folder, auditwheel's hash and version: libscipy_openblas, libgomp."""
    base = name.rsplit("/", 1)[-1]
    return re.split(r"[-.]", base, maxsplit=1)[0]


def unlicensed_libraries(files: Iterable[str], licence_texts: Iterable[str]) -> List[str]:
    """The bundled native libraries (all but chaingrad's own _core) that no licence text names."""
    texts = "\n".join(licence_texts)
    libs = [f for f in files if f.endswith(NATIVE_SUFFIXES) or ".so." in f.rsplit("/", 1)[-1]]
    return [f for f in libs if not library_stem(f).startswith("_core") and library_stem(f) not in texts]


def check_wheel_metadata(meta: md.PackageMetadata) -> None:
    """What a user sees on the package index: licence, licence files, URLs, classifiers, keywords."""
    assert meta["License-Expression"] == "MIT"
    assert sorted(meta.get_all("License-File") or []) == sorted(LICENCE_FILES)
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert set(urls) >= {"Homepage", "Source", "Issues", "Documentation"}
    assert all(u.startswith("https://") for u in urls.values())
    classifiers = meta.get_all("Classifier") or []
    assert "Topic :: Scientific/Engineering :: Artificial Intelligence" in classifiers
    assert "Programming Language :: C++" in classifiers
    # PEP 639: the licence is said once, by the expression, never again by a classifier
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert "autograd" in (meta["Keywords"] or "")


def test_installed_metadata_declares_licence_urls_and_this_python():
    meta = installed().metadata
    check_wheel_metadata(meta)
    this_python = f"Programming Language :: Python :: {sys.version_info[0]}.{sys.version_info[1]}"
    assert this_python in meta.get_all("Classifier"), "the running Python is not declared as supported"


def test_installed_licences_cover_every_bundled_library():
    dist = installed()
    files = [f for f in dist.files or [] if "chaingrad" in str(f).split("/", 1)[0]]
    licences = [f for f in files if ".dist-info/licenses/" in str(f)]
    found = sorted(str(f).split(".dist-info/licenses/", 1)[1] for f in licences)
    assert found == sorted(LICENCE_FILES)
    texts = {str(f): Path(dist.locate_file(f)).read_text(encoding="utf-8") for f in licences}
    own = next(t for name, t in texts.items() if name.endswith("licenses/LICENSE"))
    assert own.startswith("MIT License") and "Copyright (c) 2026 The chaingrad authors" in own
    assert unlicensed_libraries([str(f) for f in files], texts.values()) == []


def test_unlicensed_libraries_names_a_bundled_library_without_its_licence():
    files = [
        "chaingrad/_core.cpython-311-x86_64-linux-gnu.so",
        "chaingrad/libscipy_openblas.so",
        "chaingrad.libs/libgomp-a34b3233.so.1.0.0",
        "chaingrad/__init__.py",
    ]
    assert unlicensed_libraries(files, ["Files: lib/libscipy_openblas*.so"]) == [
        "chaingrad.libs/libgomp-a34b3233.so.1.0.0"
    ]
    assert unlicensed_libraries(files, ["libscipy_openblas", "libgomp, GCC runtime library exception"]) == []


def test_pyproject_python_versions_agree():
    config = pyproject()
    project = config["project"]
    minors = sorted(
        int(m.group(1))
        for c in project["classifiers"]
        if (m := re.fullmatch(r"Programming Language :: Python :: 3\.(\d+)", c))
    )
    assert minors == list(range(minors[0], minors[-1] + 1)), "a gap in the supported Pythons"
    assert project["requires-python"] == f">=3.{minors[0]}"
    wheels = config["tool"]["cibuildwheel"]["build"].split()
    assert wheels == [f"cp3{m}-*" for m in minors], "cibuildwheel builds other Pythons than the classifiers list"


def test_pyproject_cibuildwheel_builds_cpu_only_for_every_platform():
    cibw = pyproject()["tool"]["cibuildwheel"]
    assert cibw["environment"]["CHAINGRAD_CUDA"] == "OFF"
    assert set(cibw["linux"]["archs"]) == {"x86_64", "aarch64"}
    assert cibw["linux"]["manylinux-x86_64-image"] == cibw["linux"]["manylinux-aarch64-image"] == "manylinux_2_28"
    assert set(cibw["macos"]["archs"]) == {"x86_64", "arm64"}
    assert cibw["windows"]["archs"] == ["AMD64"]
    tested = " ".join(cibw["test-command"])
    for path in re.findall(r"\{project\}/(\S+)", tested):
        assert (ROOT / path).is_file(), f"cibuildwheel's test-command runs {path}, which does not exist"


def test_pyproject_licence_files_are_exactly_the_shipped_texts():
    project = pyproject()["project"]
    assert project["license"] == "MIT"
    matched = sorted(p.relative_to(ROOT).as_posix() for g in project["license-files"] for p in ROOT.glob(g))
    assert matched == sorted(LICENCE_FILES)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def _dist_licence(name: str, version: str = "") -> str:
    """The licence text a build requirement's own wheel ships (skip when it, or that version, is absent)."""
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        pytest.skip(f"{name} is not installed")
    if version and dist.version != version:
        pytest.skip(f"{name} {dist.version} is installed, the build pins {version}")
    texts = [f for f in dist.files or [] if re.search(r"\.dist-info/licenses/LICEN[CS]E", str(f))]
    if not texts:
        pytest.skip(f"{name}'s wheel ships no licence file")
    return Path(dist.locate_file(texts[0])).read_text(encoding="utf-8")


def test_vendored_openblas_licence_is_the_pinned_builds_own():
    (pin,) = [r for r in pyproject()["build-system"]["requires"] if r.startswith("scipy-openblas32")]
    text = _dist_licence("scipy-openblas32", pin.split("==", 1)[1])
    assert (ROOT / "licenses" / "OpenBLAS.txt").read_text(encoding="utf-8") == text


def test_pybind11_licence_is_pybind11s_own():
    assert (ROOT / "licenses" / "pybind11.txt").read_text(encoding="utf-8") == _dist_licence("pybind11")


@pytest.mark.slow
def test_built_wheel_ships_licences_and_metadata(tmp_path):
    """Build a wheel offline, with this environment's build requirements, and read what it holds."""
    for module in ("scikit_build_core", "pybind11", "scipy_openblas32"):
        pytest.importorskip(module, reason=f"building offline needs the build requirement {module}")
    # no LD_PRELOAD: under .ci/sanitize the sanitizer runtime must not follow pip into CMake, make
    # and the compiler (it reports their own bugs, such as make's strndup overflow)
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env["CHAINGRAD_CUDA"] = "OFF"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            f"--config-settings=build-dir={tmp_path / 'build'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = tmp_path.glob("chaingrad-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (dist_info,) = {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
        licences = {
            n[len(dist_info) + len("/licenses/") :]: zf.read(n).decode()
            for n in names
            if n.startswith(dist_info + "/licenses/")
        }
        metadata = zf.read(f"{dist_info}/METADATA").decode()
    assert sorted(licences) == sorted(LICENCE_FILES)
    assert "chaingrad/data/names.txt.LICENSE" in names
    assert [n for n in names if library_stem(n).startswith("_core")], "the wheel has no compiled module"
    assert unlicensed_libraries(names, licences.values()) == []
    check_wheel_metadata(md.PathDistribution(_unpacked_metadata(tmp_path, metadata)).metadata)


def _unpacked_metadata(where: Path, metadata: str) -> Path:
    """A .dist-info folder holding only METADATA, so importlib.metadata can parse a wheel's copy."""
    folder = where / "unpacked.dist-info"
    folder.mkdir()
    (folder / "METADATA").write_text(metadata)
    return folder
