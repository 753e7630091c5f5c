"""Writes the typed stubs of the op table's Python ops (python/chaingrad/_ops.pyi and
python/chaingrad/nn/_ops.pyi) from the built extension's `_core.op_table()`.

Run it after adding a row to cpp/kernels/op_table.h:  python tools/gen_op_stubs.py
With --check it writes nothing and exits 1 when a stub is stale (the test suite checks the same).
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    from chaingrad import _ops

    stale = []
    for rel, text in _ops.stub_sources().items():
        path = ROOT / rel
        if path.exists() and path.read_text() == text:
            continue
        stale.append(rel)
        if "--check" not in sys.argv:
            path.write_text(text)
    verb = "stale" if "--check" in sys.argv else "written"
    for rel in stale:
        print(f"{rel}: {verb}")
    return 1 if stale and "--check" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
