"""Mistakes a type checker must catch in a PyTorch-style script (tests/test_typing.py): each line
marked `# error: CODE` is one mypy must report with that code; the file is never run."""

import chaingrad as torch
import chaingrad.nn as nn
import chaingrad.nn.functional as F
from chaingrad.micrograd.engine import Value


class Net(nn.Module):
    """One Linear layer."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def misspelt() -> None:
    """Wrong attribute names."""
    model = Net()
    optimizer = torch.optim.SGD(model.paramters(), lr=0.1)  # error: operator
    x = torch.randn(4, 2)
    print(x.shap)  # error: attr-defined
    loss = F.mse_loss(model(x), torch.zeros(4, 1))
    loss.bakward()  # error: attr-defined
    optimizer.zero_grads()  # error: attr-defined
    print(model.fc.weight.gard)  # error: attr-defined
    nn.Linaer(2, 3)  # error: attr-defined
    x.sum().bakward()  # error: attr-defined
    nn.MSELoss()(x, x).itme()  # error: attr-defined
    model.fc(x).detatch()  # error: attr-defined
    torch.cumsum(x, 0).bakward()  # error: attr-defined


def wrong_types() -> None:
    """Values of the wrong type where a tensor or a number is expected."""
    x = torch.randn(4, 2)
    F.mse_loss("x", x)  # error: arg-type
    torch.tanh("x")  # error: arg-type
    print(x + "2")  # error: operator
    print(x @ 3)  # error: operator
    x += [1.0, 2.0]  # error: arg-type
    n: int = x.item()  # error: assignment
    g: torch.Tensor = x.grad  # error: assignment
    s: str = x.shape  # error: assignment
    v = Value(1.0)
    v.backward(retain_graph=True)  # error: call-arg
    w: str = v.grad  # error: assignment
    print(n, g, s, w)
