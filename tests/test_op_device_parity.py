"""Every op of the op database gives the same values (and gradients) on a CUDA device as on the CPU.
Skips, saying why, without a CUDA device."""

import numpy as np
import pytest

import chaingrad as cg
from op_db import OPS, as_dtype


@pytest.mark.parametrize("op,dtype", [pytest.param(op, d, id=f"{op.name}-{d}") for op in OPS for d in op.dtypes])
def test_cuda_matches_cpu(cuda_device, op, dtype):
    for k, arrays in enumerate(op.samples()):
        inputs = [as_dtype(a, dtype) for a in arrays]
        grad = op.differentiable and dtype in ("float32", "float64")
        results = []
        for dev in ("cpu", cuda_device):
            xs = [cg.tensor(a, device=dev, requires_grad=grad) for a in inputs]
            out = op.call(cg, *xs)
            grads = []
            if grad:
                weights = np.random.default_rng(k).standard_normal(tuple(out.shape))
                (out * cg.tensor(weights, dtype=out.dtype, device=dev)).sum().backward()
                grads = [None if x.grad is None else x.grad.cpu().numpy() for x in xs]
            results.append((out.detach().cpu().numpy(), grads))
        (cpu_out, cpu_grads), (gpu_out, gpu_grads) = results
        rtol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(gpu_out, cpu_out, rtol=rtol, atol=rtol, err_msg=op.name)
        for g, c in zip(gpu_grads, cpu_grads):
            assert (g is None) == (c is None)
            if g is not None:
                np.testing.assert_allclose(g, c, rtol=rtol, atol=rtol, err_msg=op.name)
