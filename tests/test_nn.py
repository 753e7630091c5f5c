"""chaingrad.nn: modules, parameters, state dicts, losses and init, against PyTorch where installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chaingrad as cg
from chaingrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.scale = nn.Parameter(cg.ones(()))
        self.register_buffer("offset", cg.zeros(2))
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale + self.offset


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert [type(m).__name__ for m in net.children()] == ["Linear", "Tanh", "Linear"]
    assert len(list(net.modules())) == 4 and net.note == "plain attribute"
    assert list(net.state_dict()) == ["scale", "offset", "fc1.weight", "fc1.bias", "fc2.weight"]  # as torch
    assert net.fc2.bias is None and all(p.requires_grad for p in net.parameters())
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        net.missing


def test_forward_backward_zero_grad():
    net = Net()
    net(cg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad.abs().sum().item() == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    x = cg.randn(2, 3)
    assert np.allclose(a(x).detach().numpy(), b(x).detach().numpy())
    state = a.state_dict()
    del state["fc1.bias"]
    state["extra"] = cg.zeros(1)
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "fc1.bias"'):
        b.load_state_dict(state)
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "extra"'):
        b.load_state_dict(state)
    result = b.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc1.bias"] and result.unexpected_keys == ["extra"]
    bad = a.state_dict()
    bad["fc1.weight"] = cg.zeros(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):
        b.load_state_dict(bad)


def test_train_eval_dropout_and_to():
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = cg.ones(1000, 4)
    out = net(x)
    assert (out == 0).long().sum().item() > 500
    net.eval()
    assert not net[1].training and (net(x) == 0).long().sum().item() < 100
    net.to(cg.float64)
    assert all(p.dtype is cg.float64 for p in net.parameters())
    assert net(cg.ones(2, 4, dtype=cg.float64)).dtype is cg.float64


def test_sequential_indexing_and_repr(torch):
    ours = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1), nn.ReLU(), nn.Dropout(0.2), nn.Softmax(dim=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1), torch.nn.ReLU(),
                                 torch.nn.Dropout(0.2), torch.nn.Softmax(dim=1))
    assert repr(ours) == repr(theirs)
    assert isinstance(ours[0], nn.Linear) and len(ours) == 5 and len(ours[1:3]) == 2


def test_linear_init_follows_pytorch():
    cg.manual_seed(0)
    layer = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound and abs(w.std() - bound / math.sqrt(3)) < 0.01
    assert repr(nn.Parameter(cg.tensor([1.0]))) == "Parameter containing:\ntensor([1.], requires_grad=True)"


def test_linear_matches_torch_given_the_same_weights(torch):
    ours = nn.Linear(3, 2)
    theirs = torch.nn.Linear(3, 2)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(cg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)


LOSSES = [
    ("MSELoss", lambda lib: lib.nn.MSELoss(), (4, 3), "same"),
    ("MSELoss_sum", lambda lib: lib.nn.MSELoss(reduction="sum"), (4, 3), "same"),
    ("L1Loss_none", lambda lib: lib.nn.L1Loss(reduction="none"), (4, 3), "same"),
    ("CrossEntropy", lambda lib: lib.nn.CrossEntropyLoss(), (5, 4), "index"),
    ("CrossEntropy_sum", lambda lib: lib.nn.CrossEntropyLoss(reduction="sum"), (5, 4), "index"),
    ("CrossEntropy_probs", lambda lib: lib.nn.CrossEntropyLoss(), (5, 4), "probs"),
    ("NLLLoss", lambda lib: lib.nn.NLLLoss(), (5, 4), "index"),
    ("BCEWithLogits", lambda lib: lib.nn.BCEWithLogitsLoss(), (6,), "binary"),
    ("BCEWithLogits_none", lambda lib: lib.nn.BCEWithLogitsLoss(reduction="none"), (3, 2), "binary"),
]


@pytest.mark.parametrize("name,make,shape,kind", LOSSES, ids=[case[0] for case in LOSSES])
def test_losses_match_torch(torch, name, make, shape, kind):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3
    if kind == "same":
        t = rng.standard_normal(shape)
    elif kind == "index":
        t = rng.integers(0, shape[1], shape[0])
    elif kind == "probs":
        t = rng.random(shape)
        t = t / t.sum(1, keepdims=True)
    else:
        t = rng.integers(0, 2, shape).astype(np.float64)
    ours_x = cg.tensor(x, dtype=cg.float64, requires_grad=True)
    their_x = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    if name == "NLLLoss":
        ours_in, their_in = ours_x.log_softmax(1), their_x.log_softmax(1)
    else:
        ours_in, their_in = ours_x, their_x
    ours = make(cg)(ours_in, cg.tensor(t))
    theirs = make(torch)(their_in, torch.tensor(t))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), their_x.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_loss_errors():
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="target size"):
        nn.MSELoss()(cg.ones(3), cg.ones(3, 1))
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        nn.CrossEntropyLoss()(cg.ones(2, 3), cg.tensor([0, 5]))
    with pytest.raises(RuntimeError, match="expected input with last dimension 3"):
        nn.Linear(3, 1)(cg.ones(2, 4))


def test_clip_grad_norm_matches_torch(torch):
    ours = [cg.tensor([3.0, 4.0], requires_grad=True), cg.tensor([[1.0, 2.0]], requires_grad=True)]
    theirs = [torch.tensor([3.0, 4.0], requires_grad=True), torch.tensor([[1.0, 2.0]], requires_grad=True)]
    for ps in (ours, theirs):
        (ps[0] * ps[0]).sum().backward()
        (ps[1] * 3).sum().backward()
    n1 = nn.utils.clip_grad_norm_(ours, max_norm=1.0)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.0)
    assert n1.item() == pytest.approx(n2.item(), rel=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5)


def test_init_functions():
    cg.manual_seed(3)
    w = cg.empty(200, 300)
    nn.init.xavier_uniform_(w)
    bound = math.sqrt(6 / 500)
    assert abs(w).max().item() <= bound and abs(w.numpy().std() - bound / math.sqrt(3)) < 0.003
    nn.init.normal_(w, 2.0, 0.5)
    assert abs(w.mean().item() - 2.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    nn.init.zeros_(w)
    assert w.abs().sum().item() == 0
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert abs(w).max().item() <= math.sqrt(2) * math.sqrt(3 / 300)


def test_linear_with_no_input_features_as_pytorch(torch):
    ours = cg.nn.Linear(0, 3)
    assert ours.weight.shape == (3, 0)
    out = ours(cg.zeros(2, 0))
    assert out.shape == (2, 3)
    theirs = torch.nn.Linear(0, 3)
    with torch.no_grad():
        theirs.bias.copy_(torch.tensor(ours.bias.tolist()))
    np.testing.assert_allclose(out.detach().numpy(), theirs(torch.zeros(2, 0)).detach().numpy())
    out.sum().backward()
    assert ours.weight.grad.shape == (3, 0) and ours.bias.grad.tolist() == [2.0, 2.0, 2.0]
