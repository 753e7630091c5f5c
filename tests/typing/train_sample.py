"""A PyTorch-style training script, written as a user would with `import chaingrad as torch`.

tests/test_typing.py runs mypy on it (no error allowed) and runs it (it must train), so the stubs
and the runtime cannot drift apart.
"""

import os
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

import chaingrad as torch
import chaingrad.nn as nn
import chaingrad.nn.functional as F
from chaingrad.autograd.function import FunctionCtx
from chaingrad.micrograd.engine import Value
from chaingrad.micrograd.nn import MLP
from chaingrad.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    """Two Linear layers with a tanh between them."""

    def __init__(self, nin: int, hidden: int, nout: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(nin, hidden)
        self.fc2 = nn.Linear(hidden, nout)
        self.drop = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.fc1(x))
        return self.fc2(self.drop(h))


class ScaledSquare(torch.autograd.Function):
    """scale * x**2 with a hand-written gradient."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x * x

    @staticmethod
    def backward(ctx: FunctionCtx, grad: torch.Tensor) -> Tuple[torch.Tensor, None]:
        (x,) = ctx.saved_tensors
        return 2 * ctx.scale * x * grad, None


def make_data(n: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Points in the plane, labelled by the side of a line they lie on."""
    x = torch.randn(n, 2)
    y = (x[:, 0] + 2 * x[:, 1] > 0).long()
    return x, y


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of points the model labels right."""
    model.eval()
    with torch.no_grad():
        pred = F.softmax(model(x), dim=1).argmax(dim=1)
        correct = (pred == y).float().mean()
    model.train()
    return float(correct.item())


def train(steps: int) -> List[float]:
    """Trains the classifier for `steps` batches; the losses, one per batch."""
    torch.manual_seed(0)
    x, y = make_data(256)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    model = Classifier(2, 16, 2).to("cpu").train()
    assert model.fc1.weight.size()[1] == x.size(1) == 2
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    losses: List[float] = []
    while len(losses) < steps:
        for xb, yb in loader:
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb) + 1e-4 * sum((p**2).sum() for p in model.parameters())
            loss.backward()
            grad: Optional[torch.Tensor] = model.fc1.weight.grad
            assert grad is not None and grad.shape == model.fc1.weight.shape
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    print(f"accuracy {accuracy(model, x, y):.3f}, loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    return losses


def tensor_arithmetic() -> torch.Tensor:
    """The operators, in-place updates, indexing and .grad on a plain leaf tensor."""
    w = torch.zeros(3, requires_grad=True)
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    target = torch.ones(2)
    for _ in range(5):
        pred = x @ w + 0.5
        loss = F.mse_loss(pred, target) + (w * w).sum() / 10 - (-w).mean() ** 2
        loss.backward()
        with torch.no_grad():
            assert w.grad is not None
            w -= 0.01 * w.grad
            w.grad.zero_()
    leaf = torch.tensor([1.0, -2.0], requires_grad=True)
    out: torch.Tensor = ScaledSquare.apply(leaf, 3.0)
    out.sum().backward()
    assert leaf.grad is not None and leaf.grad.tolist() == [6.0, -12.0]
    mask = x > 2.5
    x[mask] = 0.0
    x[0, 1] = 7.0
    first_row: torch.Tensor = x[0]
    scaled = 2 * first_row - 1 / (x.abs() + 1)
    size: torch.Size = scaled.shape
    assert size == (2, 3) and scaled.size(0) == 2
    total: float = scaled.sum().item()
    running: torch.Tensor = torch.cumsum(scaled.flatten(), 0) + scaled.flatten().cumsum(0)
    halves = torch.chunk(running, 2)
    assert halves[0].shape == (3,) and running.prod(0).ndim == 0
    print(f"total {total:.3f}, w {w.detach().numpy().round(4)}")
    return w.data


def save_and_load(model: nn.Module) -> None:
    """A state_dict saved to a file and loaded into a fresh model."""
    state: Dict[str, torch.Tensor] = model.state_dict()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.pt")
        torch.save(state, path)
        fresh = Classifier(2, 16, 2)
        fresh.load_state_dict(torch.load(path))
    for name, p in fresh.named_parameters():
        assert torch.equal(p, state[name]), name


def micrograd() -> float:
    """micrograd's Value and MLP: a few steps of gradient descent on four points."""
    a = Value(2.0)
    b = Value(-3.0)
    c = (a * b + 1).tanh() ** 2 - a.exp() / 4 + a.relu()
    c.backward()
    grads: List[float] = [a.grad, b.grad]
    net = MLP(3, [4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    loss = Value(0.0)
    for _ in range(3):
        outs = [net(x) for x in xs]
        loss = sum(((out - y) ** 2 for out, y in zip(outs, ys) if isinstance(out, Value)), Value(0.0))
        net.zero_grad()
        loss.backward()
        for p in net.parameters():
            p.data -= 0.05 * p.grad
    print(f"micrograd grads {grads}, loss {loss.data:.4f}")
    return float(loss.data)


def main(argv: List[str]) -> int:
    """Trains for argv[0] steps (20 by default) and runs the other snippets."""
    steps = int(argv[0]) if argv else 20
    losses = train(steps)
    tensor_arithmetic()
    save_and_load(Classifier(2, 16, 2))
    micrograd()
    return 0 if losses[-1] < losses[0] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
