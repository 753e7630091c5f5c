"""Every op of the op database against its numpy reference, for each input dtype it accepts."""

import numpy as np
import pytest

import chaingrad as cg
from op_db import OPS, as_dtype


@pytest.mark.parametrize("op,dtype", [pytest.param(op, d, id=f"{op.name}-{d}") for op in OPS for d in op.dtypes])
def test_forward_matches_numpy(op, dtype):
    for arrays in op.samples():
        inputs = [as_dtype(a, dtype) for a in arrays]
        out = op.call(cg, *[cg.tensor(a) for a in inputs])
        expected = np.asarray(op.ref(*inputs))
        assert tuple(out.shape) == expected.shape, (op.name, [a.shape for a in inputs])
        rtol = op.rtol if dtype != "float32" else 1e-4
        np.testing.assert_allclose(out.numpy().astype(np.float64), expected.astype(np.float64), rtol=rtol,
                                   atol=rtol * 1e-2, err_msg=f"{op.name} on {[a.shape for a in inputs]}")
