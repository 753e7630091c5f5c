"""Every op chaingrad exports has an entry in the op database (tests/op_db.py), or is on its
commented list of names that are not ops (NOT_OPS), so no op can miss the tests the database drives."""

import inspect

import chaingrad as cg
import chaingrad.nn.functional as F
from op_db import BY_NAME, NOT_OPS, OPS

OPERATOR_SLOTS = {"__add__", "__radd__", "__mod__", "__rmod__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                  "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__",
                  "__pos__",
                  "__abs__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__getitem__",
                  "__setitem__", "__delitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__"}


def exported_ops():
    """The public Tensor methods and properties, the arithmetic operators, and the functions of
    chaingrad and chaingrad.nn.functional."""
    names = {n for n in dir(cg.Tensor) if not n.startswith("_")} | OPERATOR_SLOTS
    names |= {n for n in cg.__all__ if inspect.isfunction(getattr(cg, n))}
    names |= set(F.__all__)
    return names


def test_every_exported_op_has_an_entry_or_a_reason():
    covered = {name for op in OPS for name in op.names()}
    missing = sorted(exported_ops() - covered - NOT_OPS)
    assert missing == [], f"ops with no entry in tests/op_db.py and not in its NOT_OPS list: {missing}"


def test_the_lists_name_only_real_exports():
    stale = sorted((NOT_OPS | {n for op in OPS for n in op.names()}) - exported_ops())
    assert stale == [], f"tests/op_db.py names what chaingrad does not export: {stale}"


def test_entries_are_complete():
    for op in OPS:
        assert op.shapes and all(len(s) == op.arity for s in op.shapes), op.name
        assert op.dtypes, op.name
        assert BY_NAME[op.name] is op
