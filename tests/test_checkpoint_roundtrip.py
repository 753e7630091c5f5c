"""Whole-model checkpoints: extra parameters, buffers, plain attributes and shared tensors survive
save + load, and identity is kept as PyTorch keeps it."""

from __future__ import annotations

import io

import numpy as np
import pytest

import chaingrad as cg
from chaingrad import nn
from chaingrad.serialization import UnsafeCheckpointError


def roundtrip(obj, **kwargs):
    buf = io.BytesIO()
    cg.save(obj, buf)
    buf.seek(0)
    return cg.load(buf, **kwargs)


def _address(t):
    return t.detach().numpy().__array_interface__["data"][0]


def test_extra_parameter_and_buffer_on_a_builtin_module():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seq.scale = nn.Parameter(cg.tensor([2.0]))
    seq[0].register_buffer("running", cg.tensor([1.0, 2.0, 3.0]))
    seq[0].register_buffer("unused", None)
    back = roundtrip(seq)
    assert isinstance(back.scale, nn.Parameter) and back.scale.tolist() == [2.0]
    assert back[0].running.tolist() == [1.0, 2.0, 3.0] and "unused" in back[0]._buffers
    assert list(back.state_dict()) == list(seq.state_dict())
    x = cg.randn(4, 2)
    assert np.allclose(back(x).detach().numpy(), seq(x).detach().numpy())


def test_plain_attributes_are_kept():
    lin = nn.Linear(2, 2)
    lin.epochs, lin.lr, lin.name, lin.frozen, lin.note = 3, 0.5, "head", True, None
    lin.history = [1, (2.5, "x"), {"k": [None, False]}]
    lin.seed = 2**80  # beyond int64
    lin.mask = cg.tensor([True, False])  # a tensor that is not a buffer
    back = roundtrip(lin)
    assert (back.epochs, back.lr, back.name, back.frozen, back.note) == (3, 0.5, "head", True, None)
    assert back.history == [1, (2.5, "x"), {"k": [None, False]}] and back.seed == 2**80
    assert back.mask.tolist() == [True, False] and "mask" not in back.state_dict()


class Opaque:
    def __init__(self, value):
        self.value = value


def test_attributes_needing_pickle_need_weights_only_false():
    lin = nn.Linear(2, 2)
    lin.extra = Opaque(7)
    buf = io.BytesIO()
    cg.save(lin, buf)
    buf.seek(0)
    with pytest.raises(UnsafeCheckpointError, match="Opaque.*weights_only=False"):
        cg.load(buf)
    buf.seek(0)
    with pytest.warns(UserWarning, match="unpickling"):
        assert cg.load(buf, weights_only=False).extra.value == 7


def test_tied_modules_and_parameters_stay_tied():
    lin = nn.Linear(3, 3)
    model = nn.Sequential(lin, nn.ReLU(), lin)
    back = roundtrip(model)
    assert back[0] is back[2]
    assert len(list(back.parameters())) == len(list(model.parameters())) == 2
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight
    back = roundtrip(nn.Sequential(a, b))
    assert back[0].weight is back[1].weight and back[0].bias is not back[1].bias
    assert len(list(back.parameters())) == 3


def test_the_same_tensor_in_containers_loads_as_one_object():
    t = cg.ones(3)
    back = roundtrip({"a": t, "b": [t, (t,)], "c": {"x": t}, "d": cg.ones(3)})
    assert back["a"] is back["b"][0] is back["b"][1][0] is back["c"]["x"]
    assert back["d"] is not back["a"]


def test_views_share_memory_after_load():
    t = cg.arange(12.0).reshape(3, 4)
    back = roundtrip({"t": t, "row": t[1], "cols": t.t(), "other": cg.arange(3.0)})
    assert back["row"].tolist() == [4.0, 5.0, 6.0, 7.0] and back["cols"].tolist() == t.t().tolist()
    back["t"].fill_(1.0)
    assert back["row"].tolist() == [1.0] * 4 and back["cols"].tolist() == [[1.0] * 3] * 4
    assert back["other"].tolist() == [0.0, 1.0, 2.0]


def test_expanded_tensors_are_saved_by_value_next_to_their_base():
    b = cg.tensor([1.0, 2.0])
    back = roundtrip({"b": b, "e": b.expand(3, 2)})
    assert back["e"].tolist() == [[1.0, 2.0]] * 3 and back["b"].tolist() == [1.0, 2.0]


def test_a_model_and_its_state_dict_share_memory_after_load():
    model = nn.Linear(2, 2)
    back = roundtrip({"model": model, "state": model.state_dict()})
    assert isinstance(back["model"].weight, nn.Parameter) and not isinstance(back["state"]["weight"], nn.Parameter)
    assert _address(back["model"].weight) == _address(back["state"]["weight"])


def test_each_module_keeps_its_own_training_flag():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model[1].eval()
    back = roundtrip(model)
    assert back.training and back[0].training and not back[1].training


def test_model_and_optimizer_state_with_map_location():
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    opt = cg.optim.Adam(model.parameters(), lr=0.1)
    model(cg.ones(3, 2)).sum().backward()
    opt.step()
    back = roundtrip({"model": model, "optimizer": opt.state_dict()}, map_location="cpu")
    opt2 = cg.optim.Adam(back["model"].parameters(), lr=0.1)
    opt2.load_state_dict(back["optimizer"])
    for p, q in zip(model.parameters(), back["model"].parameters()):
        assert np.array_equal(opt.state[p]["exp_avg"].numpy(), opt2.state[q]["exp_avg"].numpy())


def test_cycles_are_refused_on_save():
    seq = nn.Sequential(nn.ReLU())
    seq.me = seq
    with pytest.raises(ValueError, match="contains itself"):
        cg.save(seq, io.BytesIO())


def test_views_and_ties_on_a_device(cuda_device):
    t = cg.arange(6.0).reshape(2, 3)
    lin = nn.Linear(2, 2)
    back = roundtrip({"t": t, "tt": t.t(), "model": nn.Sequential(lin, lin)}, map_location=cuda_device)
    assert back["t"].is_cuda and back["tt"].cpu().tolist() == t.t().tolist()
    assert back["model"][0] is back["model"][1] and back["model"][0].weight.is_cuda
