"""The result dtype of every op of the op database equals PyTorch's, for each input dtype (pair) it
accepts (and where PyTorch refuses a mix of dtypes, chaingrad refuses it too)."""

import itertools

import pytest

import chaingrad as cg
from op_db import OPS, as_dtype


def _cases():
    for op in OPS:
        combos = itertools.product(op.dtypes, repeat=2) if op.arity == 2 else ((d,) * op.arity for d in op.dtypes)
        for dtypes in combos:
            yield pytest.param(op, dtypes, id=f"{op.name}-{'-'.join(dtypes)}")


@pytest.mark.parametrize("op,dtypes", list(_cases()))
def test_result_dtype_matches_torch(torch, op, dtypes):
    arrays = op.samples()[0]
    inputs = [as_dtype(a, d) for a, d in zip(arrays, dtypes)]
    try:
        theirs = op.call(torch, *[torch.tensor(a) for a in inputs])
    except RuntimeError:  # PyTorch refuses the mix (matmul of float32 and float64): so must we
        with pytest.raises(RuntimeError):
            op.call(cg, *[cg.tensor(a) for a in inputs])
        return
    ours = op.call(cg, *[cg.tensor(a) for a in inputs])
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
