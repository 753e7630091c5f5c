"""The fuzz harnesses in tests/fuzz/ run on fixed inputs, so that they cannot rot unnoticed.

Each harness's one-input function runs on 200 pseudo-random byte strings (the same ones every
time), twice each (the load harness on the checkpoints it seeds itself with and damaged copies of
them): a disagreement that the harness's KNOWN list does not explain fails the test
with the program or capsule that shows it, and both runs must end the same way (the harnesses are
deterministic given their input). Skips when atheris (or, for the ops harness, torch) is missing.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

import chaingrad  # imported before the harnesses, so their atheris import hook leaves it uninstrumented

FUZZ_DIR = Path(__file__).parent / "fuzz"
CASES = 200


def _load(name: str) -> ModuleType:
    """tests/fuzz/<name>.py as a module (registered first: its dataclasses look themselves up)."""
    spec = importlib.util.spec_from_file_location(name, FUZZ_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harnesses():
    """name -> loaded harness; thread counts the ops harness pins to 1 are restored afterwards."""
    pytest.importorskip("atheris")
    threads = chaingrad.get_num_threads()
    loaded = {"fuzz_dlpack": _load("fuzz_dlpack"), "fuzz_load": _load("fuzz_load")}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch_threads = torch.get_num_threads()
        loaded["fuzz_ops"] = _load("fuzz_ops")
    yield loaded
    chaingrad.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(torch_threads)


def _inputs(seed: int):
    rng = random.Random(seed)
    return [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 400))) for _ in range(CASES)]


@pytest.mark.parametrize("name", ["fuzz_ops", "fuzz_dlpack"])
def test_harness_runs_fixed_inputs(harnesses, name):
    if name not in harnesses:
        pytest.skip("torch is not installed")
    harness = harnesses[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overflow warnings are part of what the programs do
        for data in _inputs(seed=len(name)):
            harness.TestOneInput(data)  # raises the harness's Finding (an AssertionError) on a disagreement
            assert harness.check(data) == harness.check(data), f"not deterministic on {data!r}"


def test_load_harness_runs_its_seeds_and_damaged_copies(harnesses, tmp_path):
    harness = harnesses["fuzz_load"]
    harness.make_seeds(str(tmp_path))
    seeds = sorted(tmp_path.iterdir())
    assert seeds
    rng = random.Random(0)
    for seed in seeds:
        data = seed.read_bytes()
        harness.TestOneInput(data)  # a finding (crash, unexpected error, unbounded load) raises
        for _ in range(30):  # (its structure-aware mutator needs a running fuzzer: flipped bytes here)
            damaged = bytearray(data[:rng.randint(0, len(data))] if rng.random() < 0.2 else data)
            for _ in range(rng.randint(1, 4)):
                if damaged:
                    damaged[rng.randrange(len(damaged))] = rng.getrandbits(8)
            harness.TestOneInput(bytes(damaged))
