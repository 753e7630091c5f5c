"""chaingrad.save / load: round trips, safetensors compatibility, and hostile files."""

from __future__ import annotations

import io
import json
import pickle
import struct

import numpy as np
import pytest

import chaingrad as cg
from chaingrad import nn
from chaingrad.serialization import UnsafeCheckpointError


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(cg.tensor(1.5))

    def forward(self, x):
        return self.a * x


def roundtrip(obj, **kwargs):
    buf = io.BytesIO()
    cg.save(obj, buf)
    buf.seek(0)
    return cg.load(buf, **kwargs)


def test_tensors_and_containers():
    t = cg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=cg.float64)
    obj = {"t": t, "ints": cg.tensor([1, 2]), "mask": cg.tensor([True]), "n": 3, "x": float("nan"),
           "nested": [(1, "a"), {5: None}], "dtype": cg.float32, "grad": cg.ones(2, requires_grad=True)}
    back = roundtrip(obj)
    assert back["t"].dtype is cg.float64 and back["t"].tolist() == t.tolist()
    assert back["ints"].dtype is cg.int64 and back["mask"].tolist() == [True]
    assert back["n"] == 3 and np.isnan(back["x"]) and back["nested"] == [(1, "a"), {5: None}]
    assert back["dtype"] is cg.float32 and back["grad"].requires_grad


def test_non_contiguous_tensor_is_saved_by_value():
    t = cg.arange(6.0).reshape(2, 3).t()
    assert roundtrip(t).tolist() == t.tolist()


def test_builtin_model_round_trip_without_pickle(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.1), nn.Linear(4, 1), nn.Flatten(0, 1))
    model.eval()
    path = tmp_path / "m.ckpt"
    cg.save(model, str(path))
    assert b"$pickle" not in path.read_bytes()
    back = cg.load(str(path))
    x = cg.randn(5, 3)
    assert repr(back) == repr(model) and not back.training
    assert np.allclose(back(x).detach().numpy(), model(x).detach().numpy())
    assert all(isinstance(p, nn.Parameter) for p in back.parameters())


def test_state_dicts_and_optimizer_state():
    model = nn.Linear(2, 2)
    opt = cg.optim.Adam(model.parameters(), lr=0.1)
    model(cg.ones(1, 2)).sum().backward()
    opt.step()
    back = roundtrip({"model": model.state_dict(), "optimizer": opt.state_dict()})
    fresh = nn.Linear(2, 2)
    fresh.load_state_dict(back["model"])
    assert fresh.weight.tolist() == model.weight.tolist()
    opt2 = cg.optim.Adam(fresh.parameters(), lr=0.1)
    opt2.load_state_dict(back["optimizer"])
    assert opt2.state[fresh.weight]["step"] == 1


def test_user_classes_need_weights_only_false_by_name():
    buf = io.BytesIO()
    cg.save(Custom(), buf)
    buf.seek(0)
    with pytest.raises(UnsafeCheckpointError, match="test_serialization.Custom.*weights_only=False"):
        cg.load(buf)
    buf.seek(0)
    with pytest.warns(UserWarning, match="unpickling an object of class"):
        back = cg.load(buf, weights_only=False)
    assert back.a.item() == 1.5


def test_nothing_runs_when_loading_a_hostile_pickle():
    ran = []

    class Evil:
        def __reduce__(self):
            return (ran.append, ("code ran",))

    buf = io.BytesIO()
    cg.save({"payload": Evil()}, buf)
    buf.seek(0)
    with pytest.raises(UnsafeCheckpointError):
        cg.load(buf)
    assert ran == []


def _checkpoint(header: dict, data: bytes) -> io.BytesIO:
    head = json.dumps(header).encode()
    return io.BytesIO(struct.pack("<Q", len(head)) + head + data)


@pytest.mark.parametrize("payload,match", [
    (b"", "shorter than"),
    (struct.pack("<Q", 10**9) + b"{}", "corrupt checkpoint"),
    (struct.pack("<Q", 5) + b"{nope", "corrupt checkpoint header"),
    (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
])
def test_corrupt_headers(payload, match):
    with pytest.raises(ValueError, match=match):
        cg.load(io.BytesIO(payload))


def test_truncated_file():
    buf = io.BytesIO()
    cg.save(cg.ones(100), buf)
    data = buf.getvalue()
    with pytest.raises(ValueError, match="outside the file"):
        cg.load(io.BytesIO(data[:-10]))


@pytest.mark.parametrize("entry,match", [
    ({"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 2]}, "unsupported dtype"),
    ({"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}, "corrupt shape"),
    ({"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}, "has 4 bytes for shape"),
    ({"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}, "outside the file"),
])
def test_bad_tensor_entries(entry, match):
    header = {"__metadata__": {"format": "chaingrad", "version": "1",
                               "object": json.dumps({"$tensor": "t0"})}, "t0": entry}
    with pytest.raises(ValueError, match=match):
        cg.load(_checkpoint(header, b"\0" * 8))


@pytest.mark.parametrize("description,match", [
    ({"$module": "os.system", "config": {}}, "unknown module type"),
    ({"$module": "Linear", "config": {"in_features": "x"}}, "corrupt configuration|weight has shape"),
    ({"$module": "Linear", "config": {"bogus": 1}}, "corrupt configuration|weight has shape"),
    ({"$what": 1}, "corrupt checkpoint description"),
    ({"$dtype": "complex128"}, "corrupt checkpoint description"),
    ({"$list": {"a": 1}}, "corrupt checkpoint description"),
])
def test_bad_descriptions(description, match):
    header = {"__metadata__": {"format": "chaingrad", "version": "1", "object": json.dumps(description)}}
    with pytest.raises((ValueError, TypeError), match=match):
        cg.load(_checkpoint(header, b""))


def test_deep_nesting_is_refused():
    deep = '{"$list": [' * 5000 + "]}" * 5000  # built as text: json.dumps itself would recurse
    header = {"__metadata__": {"format": "chaingrad", "version": "1", "object": deep}}
    with pytest.raises(ValueError, match="nests too deeply|corrupt"):
        cg.load(_checkpoint(header, b""))


def test_safetensors_interop(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    path = str(tmp_path / "w.safetensors")
    st.save_file({"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, path)
    assert cg.load(path)["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    cg.save({"a": cg.ones(2)}, path)
    assert sorted(st.load_file(path)) == ["t0"]


def test_pickle_of_tensors_round_trips():
    t = cg.tensor([1.0, 2.0], requires_grad=True)
    back = pickle.loads(pickle.dumps(t))
    assert back.tolist() == [1.0, 2.0] and back.requires_grad
