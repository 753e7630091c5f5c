"""The PyTorch-style surface: creation, dtypes, printing, numpy and DLPack interop, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chaingrad as cg


def test_dtype_inference_like_pytorch():
    assert cg.tensor(1.0).dtype is cg.float32
    assert cg.tensor([1, 2]).dtype is cg.int64
    assert cg.tensor([True, False]).dtype is cg.bool
    assert cg.tensor([1, 2.5]).dtype is cg.float32
    assert cg.tensor(np.array([1.0])).dtype is cg.float64
    assert cg.tensor(2, dtype=cg.float32).dtype is cg.float32
    assert cg.float is cg.float32 and cg.double is cg.float64 and cg.long is cg.int64


def test_type_promotion_with_scalars_and_zero_dim():
    f32 = cg.ones(2)
    assert (f32 * 2).dtype is cg.float32
    assert (f32 * 2.5).dtype is cg.float32
    assert (cg.tensor([1, 2]) * 2.5).dtype is cg.float32
    assert (cg.tensor([1, 2]) * 2).dtype is cg.int64
    assert (cg.tensor([1, 2]) / 2).dtype is cg.float32
    assert (f32 + cg.tensor(1.0, dtype=cg.float64)).dtype is cg.float32
    assert (cg.tensor([1, 2]) + cg.tensor(1.0, dtype=cg.float64)).dtype is cg.float64
    assert (f32 + cg.ones(2, dtype=cg.float64)).dtype is cg.float64
    assert (cg.tensor([True]) + 1).dtype is cg.int64


def test_repr_like_pytorch():
    assert repr(cg.tensor(2.0)) == "tensor(2.)"
    assert repr(cg.tensor([2.0, 6.0])) == "tensor([2., 6.])"
    assert repr(cg.tensor(0.39262, requires_grad=True)) == "tensor(0.3926, requires_grad=True)"
    assert repr(cg.tensor([-0.00176, -0.00352], requires_grad=True)) == \
        "tensor([-0.0018, -0.0035], requires_grad=True)"
    w = cg.tensor(1.0, requires_grad=True)
    assert repr((w * 2 - 3) ** 2) == "tensor(1., grad_fn=<PowBackward0>)"
    assert repr(cg.tensor([1, 2, 3])) == "tensor([1, 2, 3])"
    assert repr(cg.tensor([1.5], dtype=cg.float64)) == "tensor([1.5000], dtype=chaingrad.float64)"
    assert repr(cg.tensor([1e-6, 1.0])) == "tensor([1.0000e-06, 1.0000e+00])"
    assert repr(cg.tensor([True, False])) == "tensor([ True, False])"
    assert repr(cg.tensor([math.inf, 1.0])) == "tensor([inf, 1.])"
    assert repr(cg.zeros(0)) == "tensor([])"


def test_repr_of_the_notes_regression_inputs():
    x = cg.linspace(-math.pi, math.pi, 2000)
    assert repr(x) == "tensor([-3.1416, -3.1384, -3.1353,  ...,  3.1353,  3.1384,  3.1416])"
    xx = x.unsqueeze(-1).pow(cg.tensor([1, 2, 3]))
    assert repr(xx) == (
        "tensor([[ -3.1416,   9.8696, -31.0063],\n"
        "        [ -3.1384,   9.8499, -30.9133],\n"
        "        [ -3.1353,   9.8301, -30.8205],\n"
        "        ...,\n"
        "        [  3.1353,   9.8301,  30.8205],\n"
        "        [  3.1384,   9.8499,  30.9133],\n"
        "        [  3.1416,   9.8696,  31.0063]])")
    assert repr(x.unsqueeze(-1)).startswith("tensor([[-3.1416],\n        [-3.1384],")


def test_repr_matches_torch_on_assorted_tensors(torch):
    cases = [[[1.0, -2.5], [3.25, 100.0]], [0.0, 0.0], [1e9, 1.0], [[1, -20], [300, 4]],
             np.arange(12.0).reshape(3, 4) / 7, np.linspace(-5, 5, 1500)]
    for data in cases:
        ours = repr(cg.tensor(np.asarray(data, dtype=np.float32)))
        theirs = repr(torch.tensor(np.asarray(data, dtype=np.float32)))
        assert ours == theirs


def test_factories():
    assert cg.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert cg.ones((2,)).tolist() == [1.0, 1.0]
    assert cg.full((2,), 7).dtype is cg.int64 and cg.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert cg.zeros_like(cg.tensor([1, 2])).dtype is cg.int64
    cg.manual_seed(0)
    a = cg.randn(3, 4)
    cg.manual_seed(0)
    b = cg.randn(3, 4)
    assert a.tolist() == b.tolist() and a.shape == (3, 4)
    r = cg.rand(1000)
    assert 0 <= r.min().item() and r.max().item() < 1
    n = cg.randn(20000, dtype=cg.float64).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    ri = cg.randint(0, 5, (100,))
    assert ri.dtype is cg.int64 and 0 <= ri.min().item() and ri.max().item() < 5
    assert cg.randn((), requires_grad=True).shape == ()


def test_numpy_interop_shares_memory():
    a = np.zeros(3, dtype=np.float32)
    t = cg.from_numpy(a)
    t += 1
    assert a.tolist() == [1.0, 1.0, 1.0]
    back = t.numpy()
    back[0] = 5
    assert t[0].item() == 5.0
    assert np.asarray(t).tolist() == [5.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="requires grad"):
        cg.ones(2, requires_grad=True).numpy()
    strided = np.arange(10.0)[::-2]
    assert cg.from_numpy(strided).tolist() == strided.tolist()


def test_dlpack_round_trip():
    t = cg.arange(6.0).reshape(2, 3)
    a = np.from_dlpack(t)
    assert a.tolist() == t.tolist()
    back = cg.from_dlpack(a)
    assert back.tolist() == t.tolist()


def test_dlpack_with_torch(torch):
    t = cg.arange(4.0)
    tt = torch.from_dlpack(t)
    assert tt.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert cg.from_dlpack(torch.ones(2)).tolist() == [1.0, 1.0]


def test_item_tolist_len_iter_size():
    t = cg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == cg.Size([2, 2]) and t.size() == (2, 2) and t.size(1) == 2
    assert repr(t.shape) == "chaingrad.Size([2, 2])"
    assert len(t) == 2 and [r.tolist() for r in t] == [[1.0, 2.0], [3.0, 4.0]]
    assert t[1, 0].item() == 3.0 and isinstance(cg.tensor(3).item(), int)
    assert t.ndim == 2 and t.dim() == 2 and t.numel() == 4 and t.T.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert float(cg.tensor(2.5)) == 2.5 and int(cg.tensor(2.5)) == 2 and bool(cg.tensor(1))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(cg.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(cg.tensor(1.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(cg.ones(2))
    assert f"{cg.tensor(2.0):.3f}" == "2.000"


def test_dtype_conversions():
    t = cg.tensor([1.7, -2.2])
    assert t.double().dtype is cg.float64 and t.long().tolist() == [1, -2]
    assert t.to(cg.float64).dtype is cg.float64 and t.to("cpu") is t
    assert t.bool().tolist() == [True, True]


def test_errors_name_shapes_and_ops():
    with pytest.raises(RuntimeError, match="add: shapes \\[2, 3\\] and \\[4\\] cannot be broadcast"):
        cg.ones(2, 3) + cg.ones(4)
    with pytest.raises(RuntimeError, match="cannot be multiplied \\(2x3 and 4x5\\)"):
        cg.ones(2, 3) @ cg.ones(4, 5)
    with pytest.raises(RuntimeError, match="shape '\\[4, 4\\]' is invalid for input of size 6"):
        cg.ones(2, 3).reshape(4, 4)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        cg.ones(2, 3).t().view(6)
    with pytest.raises(IndexError, match="out of bounds"):
        cg.ones(2, 3)[5]
    with pytest.raises(IndexError, match="too many indices"):
        cg.ones(2)[0, 0]
    with pytest.raises(IndexError, match="Dimension out of range"):
        cg.ones(2).sum(3)
    with pytest.raises(TypeError, match="unsupported operand"):
        cg.ones(2) + "a"
    with pytest.raises(TypeError):
        cg.tensor("abc")
    with pytest.raises(TypeError):
        cg.tensor([1.0]) @ 2
    with pytest.raises(RuntimeError, match="same dtype"):
        cg.ones(2, 2) @ cg.ones(2, 2, dtype=cg.float64)
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        cg.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="integers to negative integer powers"):
        cg.tensor([2]) ** cg.tensor([-1])
    with pytest.raises(IndexError, match="valid indices"):
        cg.ones(3)[1.5]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        cg.ones(3)[::-1]
    with pytest.raises(TypeError, match="create tensors with"):
        cg._core.TensorBase()
    assert cg.Tensor([1, 2]).dtype is cg.float32 and cg.Tensor(2, 3).shape == (2, 3)  # legacy constructor
    with pytest.raises(OverflowError):
        cg.ones(2) * 10**30


def test_numpy_scalars_and_arrays_mix():
    t = cg.ones(2)
    assert (np.float64(2.0) * t).tolist() == [2.0, 2.0]
    assert (t * np.int64(3)).dtype is cg.float32
    out = np.ones(2) * t
    assert isinstance(out, cg.Tensor) and out.dtype is cg.float64 and out.tolist() == [1.0, 1.0]
    assert (t + np.array([1, 2])).tolist() == [2.0, 3.0]


def test_hostile_sizes_raise_cleanly():
    with pytest.raises(OverflowError, match="more elements than fit"):
        cg.zeros(2**40, 2**40)
    with pytest.raises(MemoryError):
        cg.zeros(2**46)
    with pytest.raises(RuntimeError, match="negative dimension"):
        cg.zeros(-1)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        cg.ones(4).reshape(-1, -1)
    with pytest.raises(ValueError):
        cg.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError):
        cg.tensor(np.array([object()]))
    with pytest.raises(OverflowError):
        cg.ones(1).expand(2**32, 2**32).contiguous()
