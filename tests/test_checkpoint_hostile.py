"""chaingrad.load on hostile files: no file may make load allocate beyond its own size, compute for
longer than its size warrants, or misreport what went wrong."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc

import pytest

import chaingrad as cg

CHAINGRAD = os.path.dirname(os.path.dirname(cg.__file__))  # the chaingrad under test, for subprocesses


def _file(header: dict, data: bytes) -> io.BytesIO:
    head = json.dumps(header).encode()
    return io.BytesIO(struct.pack("<Q", len(head)) + head + data)


def _described(description: object, entries: dict) -> dict:
    return {"__metadata__": {"format": "chaingrad", "version": "1", "object": json.dumps(description)}, **entries}


def test_duplicate_byte_ranges_are_refused():
    # the same 64 KiB range named 100 times: loading it would allocate 100 copies
    blob = b"\0" * 2**16
    header = {f"t{i}": {"dtype": "U8", "shape": [len(blob)], "data_offsets": [0, len(blob)]} for i in range(100)}
    with pytest.raises(ValueError, match="overlap or leave gaps"):
        cg.load(_file(header, blob))


@pytest.mark.parametrize("ranges,match", [
    ([[0, 8], [4, 12]], "overlap or leave gaps"),   # overlapping
    ([[8, 16]], "overlap or leave gaps"),           # a gap before the first tensor
    ([[0, 8]], "bytes after the last tensor"),       # bytes no tensor claims
])
def test_byte_ranges_must_tile_the_data(ranges, match):
    header = {f"t{i}": {"dtype": "F32", "shape": [2], "data_offsets": r} for i, r in enumerate(ranges)}
    with pytest.raises(ValueError, match=match):
        cg.load(_file(header, b"\0" * 16))


def test_one_blob_named_by_many_nodes_is_read_once():
    # a chaingrad description may name one blob many times (a tensor and its aliases): they share it
    n = 2**20
    description = {"$list": [{"$tensor": "t0"} for _ in range(200)]}
    f = _file(_described(description, {"t0": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}), b"\0" * n)
    with pytest.raises(ValueError, match="byte blob is not a tensor"):
        cg.load(f)
    f = _file(_described(description, {"t0": {"dtype": "F32", "shape": [n // 4], "data_offsets": [0, n]}}), b"\0" * n)
    tracemalloc.start()
    try:
        back = cg.load(f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(back) == 200 and back[0].shape == (n // 4,)
    assert peak < 4 * n, f"load of a {n}-byte blob named 200 times allocated {peak} bytes"


def test_huge_integers_in_the_header_are_refused_before_any_arithmetic():
    # products of hundreds of 4000-digit dimensions cost seconds to minutes
    header = {"t0": {"dtype": "F32", "shape": [int("9" * 4000)] * 400, "data_offsets": [0, 4]}}
    start = time.perf_counter()
    with pytest.raises(ValueError, match="integer of 4000 digits"):
        cg.load(_file(header, b"\0" * 4))
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("shape", [[1] * 65, [True], [2**63], [1.0], "4"])
def test_shapes_are_bounded(shape):
    header = {"t0": {"dtype": "F32", "shape": shape, "data_offsets": [0, 4]}}
    with pytest.raises(ValueError, match="corrupt shape|integer of"):
        cg.load(_file(header, b"\0" * 4))


def test_element_count_must_match_the_bytes_before_allocating():
    # 2**62 elements in 8 bytes: refused from the header alone
    header = {"t0": {"dtype": "F64", "shape": [2**31, 2**31], "data_offsets": [0, 8]}}
    with pytest.raises(ValueError, match="has 8 bytes for shape"):
        cg.load(_file(header, b"\0" * 8))


@pytest.mark.parametrize("view,match", [
    ({"offset": 0, "shape": [3], "stride": [1]}, "does not fit"),          # past the end of the storage
    ({"offset": 1, "shape": [2], "stride": [1]}, "does not fit"),
    ({"offset": 0, "shape": [2**40, 2**40], "stride": [0, 0]}, "does not fit"),  # 2**80 elements
    ({"offset": 0, "shape": [1], "stride": [2**62]}, "does not fit"),
    ({"offset": 0, "shape": [2], "stride": [1, 1]}, "does not fit"),
    ({"offset": -1, "shape": [], "stride": []}, "does not fit"),
    ({"offset": True, "shape": [], "stride": []}, "corrupt checkpoint description"),
])
def test_views_must_lie_within_their_storage(view, match):
    description = {"$tensor": "t0", "view": view}
    f = _file(_described(description, {"t0": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}), b"\0" * 8)
    with pytest.raises(ValueError, match=match):
        cg.load(f)


@pytest.mark.parametrize("description,match", [
    ({"$ref": 0}, "not defined before it"),
    ({"$list": [{"$tensor": "t0", "id": 0}, {"$tensor": "t0", "id": 0}]}, "repeated or invalid"),
    ({"$module": "Sequential", "id": 0, "children": [["0", {"$ref": 0}]]}, "not defined before it"),
    ({"$int": "1" * 5000}, "corrupt checkpoint description"),
    ({"$module": "Sequential", "attributes": {"__class__": 1}}, "invalid name"),
    ({"$module": "Sequential", "attributes": {"_modules": 1}}, "invalid name"),
    ({"$module": "Sequential", "buffers": {"a": 1}}, "should be a tensor"),
    ({"$module": "ReLU", "attributes": {"a": 1}, "buffers": {"a": None}}, "ambiguously"),
    ({"$module": "Sequential", "children": [[{}, None]]}, "corrupt checkpoint description"),
    ({"$module": ["Linear"]}, "unknown module type"),
    ({"$dict": [[True, 1]]}, "corrupt checkpoint description"),  # save() never writes bool keys
    ({"$dtype": {}}, "corrupt checkpoint description"),
])
def test_bad_references_and_module_parts(description, match):
    f = _file(_described(description, {"t0": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}), b"\0" * 8)
    with pytest.raises(ValueError, match=match):
        cg.load(f)


def test_many_layers_sharing_one_stored_weight_load_quickly():
    # 1000 Linear layers tied to one 512x512 weight: load must not build and initialise 1000 weights
    n = 512
    weight = {"$tensor": "t0", "parameter": True, "requires_grad": True, "id": 0}
    layer = {"$module": "Linear", "config": {"in_features": n, "out_features": n, "bias": False}}
    layers = [["0", {**layer, "tensors": {"weight": weight}}]]
    layers += [[str(i), {**layer, "tensors": {"weight": {"$ref": 0}}}] for i in range(1, 1000)]
    nbytes = 4 * n * n
    f = _file(_described({"$module": "Sequential", "children": layers},
                         {"t0": {"dtype": "F32", "shape": [n, n], "data_offsets": [0, nbytes]}}), b"\0" * nbytes)
    start = time.perf_counter()
    model = cg.load(f)
    assert time.perf_counter() - start < 1.0
    assert len(model) == 1000 and len(list(model.parameters())) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_memory_error_names_the_size(tmp_path):
    # a real allocation failure, under an address-space limit, is not a "corrupt checkpoint"
    path = tmp_path / "big.ckpt"
    script = textwrap.dedent(f"""
        import resource, sys
        import numpy as np
        import chaingrad as cg
        cg.save({{"w": cg.from_numpy(np.zeros(2**24))}}, {str(path)!r})  # 128 MiB
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (vm + 2**26, resource.RLIM_INFINITY))
        try:
            cg.load({str(path)!r})
        except MemoryError as err:
            print("MemoryError:", err)
        except Exception as err:
            print(type(err).__name__ + ":", err)
    """)
    env = dict(os.environ, PYTHONPATH=CHAINGRAD, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert "MemoryError: load: not enough memory" in out.stdout, out.stdout + out.stderr
    assert str(2**27) in out.stdout


def test_bool_bytes_other_than_0_and_1_load_as_true():
    header = {"t": {"dtype": "BOOL", "shape": [4], "data_offsets": [0, 4]}}
    loaded = cg.load(_file(header, bytes([2, 0, 1, 255])))
    assert loaded["t"].tolist() == [True, False, True, True] and loaded["t"].sum().item() == 3
