"""The moons demo on tensors: MLP(2, [16, 16, 1]) with chaingrad.nn, the whole batch per step.

The same model and max-margin loss as the scalar demo, written with chaingrad.nn and a whole-batch
forward pass.

Run: python -m chaingrad.demos.moons_tensor [--steps 100] [--device cuda] [--plot moons_tensor.png]
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

import chaingrad as torch
from chaingrad import nn
from chaingrad.demos.moons import moons_data, save_decision_boundary

__all__ = ["MLP", "train", "main"]


class MLP(nn.Module):
    """Linear layers with ReLU between them (none after the last), as micrograd's MLP."""

    def __init__(self, nin: int, nouts: List[int]) -> None:
        super().__init__()
        sizes = [nin] + nouts
        layers: List[nn.Module] = []
        for i in range(len(nouts)):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i != len(nouts) - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def train(
    steps: int = 100, report: Optional[Callable[[str], None]] = print, device: str = "cpu"
) -> Tuple[MLP, List[Tuple[float, float]]]:
    """SGD with learning rate 1.0 - 0.9*k/steps on the max-margin loss, on device; returns the model
    and history."""
    X_np, y_np = moons_data()
    torch.manual_seed(1337)
    X = torch.tensor(X_np, dtype=torch.float32, device=device)
    y = torch.tensor(y_np, dtype=torch.float32, device=device)
    model = MLP(2, [16, 16, 1])
    model.to(device)  # in place, as PyTorch's
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    history: List[Tuple[float, float]] = []
    for k in range(steps):
        scores = model(X)
        loss = (1 - y * scores).relu().mean()
        accuracy = ((y > 0) == (scores > 0)).long().sum().item() / len(y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.param_groups[0]["lr"] = 1.0 - 0.9 * k / steps
        optimizer.step()
        history.append((loss.item(), accuracy))
        if report is not None:
            report(f"step {k} loss {loss.item()}, accuracy {accuracy * 100}%")
    return model, history


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Trains the tensor MLP on the moons and prints the loss and accuracy per step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    parser.add_argument("--plot", metavar="FILE", help="save the decision boundary there (needs matplotlib)")
    args = parser.parse_args(argv)
    model, _ = train(args.steps, device=args.device)
    print(model)
    print("number of parameters", sum(p.numel() for p in model.parameters()))
    if args.plot:
        X, y = moons_data()
        title = f"chaingrad.nn MLP(2, [16, 16, 1]), max-margin loss, {args.steps} steps of SGD"
        if save_decision_boundary(partial(_scores, model, args.device), X, y, args.plot, title):
            print(f"decision boundary saved to {args.plot}")
        else:
            print("matplotlib is not installed: no decision boundary picture (pip install 'chaingrad[demo]')")


def _scores(model: MLP, device: str, points: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor(points, dtype=torch.float32, device=device)).cpu().numpy()


if __name__ == "__main__":
    main()
