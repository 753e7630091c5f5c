"""Every differentiable tensor op: gradients against finite differences and PyTorch (float64)."""

from __future__ import annotations

import pytest

import chaingrad as cg
from tensor_helpers import check_against_torch, check_gradients

# name -> (fn, input shapes, (low, high) of the inputs); fn uses only what both libraries share
OPS = {
    "add_broadcast": (lambda a, b: a + b, [(2, 3), (3,)], (-1, 1)),
    "sub_broadcast": (lambda a, b: a - b, [(2, 1), (1, 3)], (-1, 1)),
    "mul_broadcast": (lambda a, b: a * b, [(4, 1, 3), (2, 1)], (-1, 1)),
    "div": (lambda a, b: a / b, [(2, 3), (2, 3)], (0.5, 2)),
    "scalar_ops": (lambda a: 3 * a - a / 2 + 1 - 2.5 / (a + 3), [(3,)], (-1, 1)),
    "pow_scalar": (lambda a: a ** 3 + a ** 2, [(2, 2)], (-1, 1)),
    "pow_fractional": (lambda a: a ** 0.5, [(3,)], (0.5, 2)),
    "pow_tensor": (lambda a, b: a ** b, [(2, 3), (3,)], (0.5, 2)),
    "rpow": (lambda a: 2 ** a, [(3,)], (-1, 1)),
    "neg_abs": (lambda a: (-a).abs(), [(5,)], (-1, 1)),
    "exp": (lambda a: a.exp(), [(2, 2)], (-1, 1)),
    "log": (lambda a: a.log(), [(2, 2)], (0.5, 2)),
    "sqrt": (lambda a: a.sqrt(), [(2, 2)], (0.5, 2)),
    "tanh": (lambda a: a.tanh(), [(2, 2)], (-1, 1)),
    "sigmoid": (lambda a: a.sigmoid(), [(2, 2)], (-1, 1)),
    "sin_cos": (lambda a: a.sin() * a.cos() + a.cos(), [(2, 3)], (-3, 3)),
    "relu": (lambda a: a.relu(), [(3, 3)], (-1, 1)),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), [(3, 3)], (-1, 1)),
    "clamp_min": (lambda a: a.clamp(min=0.1), [(4,)], (-1, 1)),
    "maximum": (lambda a, b: a.maximum(b), [(2, 3), (3,)], (-1, 1)),
    "minimum": (lambda a, b: a.minimum(b), [(2, 3), (2, 3)], (-1, 1)),
    "sum_all": (lambda a: a.sum(), [(2, 3)], (-1, 1)),
    "sum_dim": (lambda a: a.sum(1), [(2, 3, 4)], (-1, 1)),
    "sum_dims_keepdim": (lambda a: a.sum((0, 2), keepdim=True), [(2, 3, 4)], (-1, 1)),
    "mean_all": (lambda a: a.mean(), [(2, 3)], (-1, 1)),
    "mean_dim": (lambda a: a.mean(-1, keepdim=True), [(2, 3)], (-1, 1)),
    "max_all": (lambda a: a.max(), [(2, 3)], (-1, 1)),
    "max_dim": (lambda a: a.max(1).values, [(3, 4)], (-1, 1)),
    "min_dim_keepdim": (lambda a: a.min(0, keepdim=True).values, [(3, 4)], (-1, 1)),
    "norm": (lambda a: a.norm(), [(2, 3)], (-1, 1)),
    "norm_dim": (lambda a: a.norm(dim=1), [(2, 3)], (-1, 1)),
    "var": (lambda a: a.var(), [(2, 3)], (-1, 1)),
    "var_dim_biased": (lambda a: a.var(1, unbiased=False), [(2, 3)], (-1, 1)),
    "softmax": (lambda a: a.softmax(-1), [(2, 4)], (-2, 2)),
    "log_softmax": (lambda a: a.log_softmax(0), [(3, 2)], (-2, 2)),
    "matmul_2d": (lambda a, b: a @ b, [(2, 3), (3, 4)], (-1, 1)),
    "matmul_batched_broadcast": (lambda a, b: a @ b, [(2, 1, 2, 3), (3, 3, 2)], (-1, 1)),
    "matmul_vec_mat": (lambda a, b: a @ b, [(3,), (3, 2)], (-1, 1)),
    "matmul_mat_vec": (lambda a, b: a @ b, [(2, 3), (3,)], (-1, 1)),
    "matmul_dot": (lambda a, b: a @ b, [(4,), (4,)], (-1, 1)),
    "matmul_transposed": (lambda a, b: a.t() @ b.t(), [(3, 2), (4, 3)], (-1, 1)),
    "reshape_view": (lambda a: a.reshape(3, 2).view(-1) * 2, [(2, 3)], (-1, 1)),
    "permute": (lambda a: a.permute(2, 0, 1) * 1.5, [(2, 3, 4)], (-1, 1)),
    "transpose_T": (lambda a: a.transpose(0, 1) + a.T, [(3, 3)], (-1, 1)),
    "unsqueeze_squeeze": (lambda a: a.unsqueeze(1).squeeze() * a.unsqueeze(-1).squeeze(-1), [(3,)], (-1, 1)),
    "expand": (lambda a: a.expand(2, 3, 4) * 1.0, [(3, 1)], (-1, 1)),
    "flatten": (lambda a: a.flatten(1), [(2, 3, 2)], (-1, 1)),
    "index_slice": (lambda a: a[:, 1:3] * 2, [(3, 4)], (-1, 1)),
    "index_int_step": (lambda a: a[1, ::2] + a[-1, 0], [(3, 4)], (-1, 1)),
    "index_none_ellipsis": (lambda a: a[None, ..., 0], [(2, 3)], (-1, 1)),
    "cat": (lambda a, b: cg_or_torch(a).cat([a, b * 2], dim=1), [(2, 3), (2, 1)], (-1, 1)),
    "stack": (lambda a, b: cg_or_torch(a).stack([a, b], dim=1), [(2, 3), (2, 3)], (-1, 1)),
    "where": (lambda a, b: cg_or_torch(a).where(a > 0, a, b), [(3, 3), (3, 3)], (-1, 1)),
    "contiguous_of_view": (lambda a: a.t().contiguous() * 3, [(2, 3)], (-1, 1)),
    "clone": (lambda a: a.clone() * a, [(3,)], (-1, 1)),
    "composite_mlp": (lambda x, w, b: ((x @ w + b).tanh() ** 2).mean(), [(4, 3), (3, 2), (2,)], (-1, 1)),
}


def cg_or_torch(t):
    """The library a tensor belongs to, so one lambda serves both."""
    if isinstance(t, cg.Tensor):
        return cg
    import torch
    return torch


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradient_matches_finite_differences(name):
    fn, shapes, (low, high) = OPS[name]
    check_gradients(fn, shapes, low, high)


@pytest.mark.parametrize("name", sorted(OPS))
def test_value_and_gradient_match_torch(torch, name):
    fn, shapes, (low, high) = OPS[name]
    check_against_torch(torch, fn, shapes, low, high)
