"""numpy arrays in and out: shared when they can be, refused clearly when sharing is impossible,
and never read in a way the kernels cannot (byte order, alignment, raw-byte bools)."""

from __future__ import annotations

import numpy as np
import pytest

import chaingrad as cg


def test_bools_from_raw_bytes_are_normalised(torch):
    raw = np.array([2, 1, 0, 255], np.uint8).view(bool)
    for make in (cg.from_numpy, cg.tensor, cg.as_tensor):
        t = make(raw)
        assert t.sum().item() == 3 and t.tolist() == [True, True, False, True]
        assert t.to(cg.int64).tolist() == [1, 1, 0, 1]
    assert cg.from_numpy(raw).sum().item() == torch.from_numpy(raw).sum().item()


def test_clean_bool_arrays_stay_shared():
    a = np.array([True, False])
    cg.from_numpy(a)[1] = True
    assert a.tolist() == [True, True]


def test_big_endian_arrays_convert_in_tensor_and_refuse_to_share():
    a = np.array([1.5, -2.0], dtype=">f8")
    assert cg.tensor(a).tolist() == [1.5, -2.0]
    with pytest.raises(ValueError, match="byte order"):
        cg.from_numpy(a)


def test_misaligned_arrays_are_copied_by_tensor_and_refused_by_from_numpy():
    raw = np.frombuffer(bytes(range(1, 18)), dtype=np.uint8)[1:].view(np.float64)
    assert not raw.flags.aligned
    assert cg.tensor(raw).tolist() == raw.tolist()
    with pytest.raises(ValueError, match="not aligned"):
        cg.from_numpy(raw)
    field = np.zeros(3, dtype=[("a", np.int8), ("b", np.float64)])["b"]  # a 9-byte stride
    field[:] = [1.0, 2.0, 3.0]
    assert cg.tensor(field).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="not aligned"):
        cg.from_numpy(field)


def test_numpy_views_of_tensors_that_require_grad_are_refused():
    x = cg.ones(3, requires_grad=True)
    for convert in (np.asarray, np.array, lambda t: t.numpy()):
        with pytest.raises(RuntimeError, match="requires grad"):
            convert(x)
    assert np.asarray(x.detach()).tolist() == [1.0, 1.0, 1.0]


def test_numpy_views_of_empty_and_huge_tensors():
    assert cg.zeros(3, 0, 5).numpy().shape == (3, 0, 5)
    for shape in [(0, 2**62), (2**62, 0), (2**40, 2**40, 0)]:  # numpy refuses such shapes, even empty
        with pytest.raises(ValueError):
            cg.zeros(*shape).numpy()
    wide = cg.ones(1).expand(2**40)  # stride 0: representable, nothing copied
    assert np.asarray(wide).shape == (2**40,)
