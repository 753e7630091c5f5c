"""Coverage-guided fuzzing of chaingrad.load with atheris.

Each input is a checkpoint file. The custom mutator parses it (length prefix, JSON header, data)
and mutates the structure: entries' dtypes, shapes and byte ranges, duplicated or deleted entries,
and the object description in the metadata (references, views, modules, nesting); otherwise it
mutates raw bytes. An input passes when load returns or raises ValueError, UnsafeCheckpointError,
or a MemoryError whose message starts with "load:". Anything else is a finding: another exception,
a crash, a load that takes over 1 s, one that allocates far more than the file's size, or a loaded
object that cannot be saved and loaded again.

Run from the repository root (the corpus folder collects new inputs; keep it out of git):

    PYTHONPATH=python python tests/fuzz/fuzz_load.py --make-seeds /tmp/fuzz_load_corpus
    PYTHONPATH=python python tests/fuzz/fuzz_load.py /tmp/fuzz_load_corpus -max_total_time=60 -rss_limit_mb=4096

Replay one failing input (libFuzzer writes it as crash-<sha1> in the working folder):

    PYTHONPATH=python python tests/fuzz/fuzz_load.py CRASHFILE
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import sys
import time
import tracemalloc
from typing import Any, Callable, Dict, List, Optional, Tuple

import atheris

with atheris.instrument_imports(include=["chaingrad"]):
    import chaingrad as cg
    from chaingrad import nn
    from chaingrad.serialization import UnsafeCheckpointError

TIME_LIMIT_S = 1.0
# what load may allocate beyond the file: its own bookkeeping (numpy arrays, tensors, modules)
MEMORY_SLACK = 8 * 2**20
MEMORY_FACTOR = 4


class Finding(Exception):
    """load misbehaved on an input: too slow, too greedy, or not reloadable."""


def check_one(data: bytes) -> None:
    """Loads data as a checkpoint; raises Finding (or the unexpected exception) when load misbehaves."""
    tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        obj = cg.load(io.BytesIO(data))
    except (ValueError, UnsafeCheckpointError):
        obj = None
    except MemoryError as err:
        if not str(err).startswith("load:"):
            raise
        obj = None
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    if elapsed > TIME_LIMIT_S:
        raise Finding(f"load took {elapsed:.2f} s on {len(data)} bytes")
    if peak > MEMORY_FACTOR * len(data) + MEMORY_SLACK:
        raise Finding(f"load allocated {peak} bytes for a file of {len(data)}")
    if obj is not None:
        buf = io.BytesIO()
        cg.save(obj, buf)  # what load returns must save and load again
        buf.seek(0)
        cg.load(buf)


def TestOneInput(data: bytes) -> None:
    check_one(data)


# --- the structure-aware mutator ---

DTYPES = ["F32", "F64", "I64", "BOOL", "U8", "F16", "BF16", "I32", "", None, 7]
MODULES = ["Linear", "Sequential", "ReLU", "Dropout", "Flatten", "Softmax", "MSELoss", "os.system", None]


def split(data: bytes) -> Optional[Tuple[Dict[str, Any], bytes]]:
    """(header, data section) of a checkpoint, or None when it does not parse."""
    if len(data) < 8:
        return None
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        return None
    try:
        header = json.loads(data[8:8 + size])
    except (ValueError, RecursionError):
        return None
    return (header, data[8 + size:]) if isinstance(header, dict) else None


def join(header: Dict[str, Any], blob: bytes) -> bytes:
    """A checkpoint file from its header and data section."""
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + blob


def some_int(rng: random.Random) -> Any:
    """An integer a header might hold, from ordinary to hostile."""
    return rng.choice([0, 1, 2, 3, 4, 8, -1, 2**31, 2**62, 2**63 - 1, 2**63, 2**64, 10**40,
                       rng.randrange(-4, 4096), True, 1.5, "3", None])


def some_shape(rng: random.Random) -> Any:
    if rng.random() < 0.1:
        return rng.choice([None, 4, "x", {}, [[]], [1] * 70])
    return [some_int(rng) if rng.random() < 0.3 else rng.randrange(0, 9) for _ in range(rng.randrange(0, 5))]


def mutate_entry(entry: Dict[str, Any], names: List[str], header: Dict[str, Any], rng: random.Random) -> None:
    """Changes one field of a tensor entry."""
    what = rng.randrange(6)
    if what == 0:
        entry["dtype"] = rng.choice(DTYPES)
    elif what == 1:
        entry["shape"] = some_shape(rng)
    elif what == 2 and isinstance(entry.get("data_offsets"), list) and len(entry["data_offsets"]) == 2:
        i, offsets = rng.randrange(2), entry["data_offsets"]
        nudge = type(offsets[i]) is int and rng.random() < 0.7
        offsets[i] = offsets[i] + rng.randrange(-8, 9) if nudge else some_int(rng)
    elif what == 3 and names:
        other = header.get(rng.choice(names))
        if isinstance(other, dict):
            entry["data_offsets"] = other.get("data_offsets")  # overlapping or duplicate ranges
    elif what == 4:
        entry["data_offsets"] = [some_int(rng), some_int(rng)]
    else:
        entry.pop(rng.choice(["dtype", "shape", "data_offsets"]), None)


def nodes(tree: Any, out: List[Tuple[Any, Any]], parent: Any = None, key: Any = None) -> None:
    """Every (container, key) in a JSON tree, to pick a node to replace."""
    out.append((parent, key))
    if len(out) > 2000:
        return
    if isinstance(tree, dict):
        for k, v in tree.items():
            nodes(v, out, tree, k)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            nodes(v, out, tree, i)


def some_node(rng: random.Random, names: List[str], near: Any) -> Any:
    """A description node: plausible (tensors, references, views, modules) or plain odd."""
    name = rng.choice(names) if names and rng.random() < 0.9 else rng.choice(["t0", "t99", "__metadata__", 0])
    options: List[Callable[[], Any]] = [
        lambda: {"$tensor": name, "parameter": rng.random() < 0.5, "requires_grad": rng.random() < 0.5},
        lambda: {"$tensor": name, "view": {"offset": rng.randrange(-1, 8), "shape": some_shape(rng),
                                           "stride": some_shape(rng)}},
        lambda: {"$ref": some_int(rng) if rng.random() < 0.3 else rng.randrange(4)},
        lambda: {"$list": [near, near]},
        lambda: {"$dict": [[rng.choice(["a", "0", 1]), near]]},
        lambda: {"$tuple": [near] * rng.randrange(0, 100)},
        lambda: {"$module": rng.choice(MODULES),
                 "config": {"in_features": some_int(rng), "out_features": some_int(rng)},
                 "tensors": {"weight": near}, "buffers": {}, "attributes": {}, "children": []},
        lambda: {"$int": rng.choice(["1" * 30, "-5", "", "x", "9" * 5000])},
        lambda: {"$float": rng.choice(["nan", "inf", "1e999", 1])},
        lambda: {"$pickle": name, "class": "evil.Thing"},
        lambda: some_int(rng),
        lambda: json.loads("[" * 50 + "]" * 50),
    ]
    node = rng.choice(options)()
    if isinstance(node, dict) and rng.random() < 0.2:
        node["id"] = rng.randrange(4)
    return node


def mutate_description(text: str, names: List[str], rng: random.Random) -> str:
    """The object description with one node replaced, duplicated or re-identified."""
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError):
        return text
    found: List[Tuple[Any, Any]] = []
    nodes(tree, found)
    parent, key = rng.choice(found)
    current = tree if parent is None else parent[key]
    if isinstance(current, dict) and rng.random() < 0.3:
        field = rng.choice(list(current) or ["id"])
        current[field] = rng.choice([some_int(rng), None, [], {}, "t0", current.get(field)])
    else:
        replacement = some_node(rng, names, current)
        if parent is None:
            tree = replacement
        else:
            parent[key] = replacement
    return json.dumps(tree)


def mutate_structure(data: bytes, rng: random.Random) -> Optional[bytes]:
    """data with its header or data section changed, or None when it does not parse."""
    parts = split(data)
    if parts is None:
        return None
    header, blob = parts
    names = [n for n in header if n != "__metadata__"]
    meta = header.get("__metadata__")
    what = rng.randrange(8)
    if what <= 2 and isinstance(meta, dict) and isinstance(meta.get("object"), str):
        meta["object"] = mutate_description(meta["object"], names, rng)
    elif what == 3 and names:
        entry = header[rng.choice(names)]
        if isinstance(entry, dict):
            mutate_entry(entry, names, header, rng)
    elif what == 4 and names:
        header[f"t{rng.randrange(100)}"] = json.loads(json.dumps(header[rng.choice(names)]))  # duplicate
    elif what == 5 and names:
        del header[rng.choice(names)]
    elif what == 6:
        cut = rng.randrange(len(blob) + 1)
        blob = blob[:cut] if rng.random() < 0.5 else blob + bytes(rng.randrange(1, 64))
    else:
        out = join(header, blob)
        size = struct.unpack("<Q", out[:8])[0] + rng.choice([-8, -1, 1, 8, 2**40])
        return struct.pack("<Q", max(size, 0)) + out[8:]
    return join(header, blob)


def CustomMutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if rng.random() < 0.7:
        mutated = mutate_structure(data, rng)
        if mutated is not None and len(mutated) <= max_size:
            return mutated
    return atheris.Mutate(data, max_size)


# --- seeds ---

def seed_objects() -> Dict[str, Any]:
    """Objects whose checkpoints start the corpus: every kind of node save() writes."""
    cg.manual_seed(0)
    lin = nn.Linear(3, 2)
    tied = nn.Sequential(lin, nn.ReLU(), lin)
    extra = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1), nn.Flatten(0, 1))
    extra.scale = nn.Parameter(cg.ones(1))
    extra.register_buffer("running", cg.zeros(2))
    extra.note, extra.big = {"epochs": [1, 2.5, None, "x", True]}, 2**70
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    opt = cg.optim.Adam(model.parameters(), lr=0.1)
    model(cg.ones(1, 2)).sum().backward()
    opt.step()
    base = cg.arange(12.0).reshape(3, 4)
    return {
        "tensor": cg.ones(2, 3),
        "dtypes": {"f32": cg.ones(2), "f64": cg.ones(2, dtype=cg.float64), "i64": cg.tensor([1, 2]),
                   "bool": cg.tensor([True]), "empty": cg.ones(0, 3), "scalar": cg.tensor(2.0)},
        "containers": {"list": [1, "a", None], "tuple": (1.5, float("inf")), "odict": model.state_dict(),
                       "dtype": cg.float32, "size": cg.ones(2, 3).shape},
        "tied": tied,
        "extra": extra,
        "checkpoint": {"model": model, "optimizer": opt.state_dict(), "state": model.state_dict()},
        "views": {"base": base, "row": base[1], "t": base.t(), "again": base},
        "pickle": {"payload": Finding("not a tensor")},
    }


def make_seeds(folder: str) -> None:
    """Writes one checkpoint per seed object into folder (and a plain safetensors file if it can)."""
    os.makedirs(folder, exist_ok=True)
    for name, obj in seed_objects().items():
        cg.save(obj, os.path.join(folder, f"seed-{name}.ckpt"))
    try:
        import numpy as np
        from safetensors.numpy import save_file
    except ImportError:
        return
    save_file({"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(2, np.int64)},
              os.path.join(folder, "seed-plain.safetensors"))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--make-seeds":
        make_seeds(sys.argv[2])
        return
    tracemalloc.start()
    atheris.Setup(sys.argv, TestOneInput, custom_mutator=CustomMutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
