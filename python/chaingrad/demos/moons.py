"""micrograd's moons demo on chaingrad: an MLP(2, [16, 16, 1]) trained with a max-margin loss.

Run: python -m chaingrad.demos.moons [--steps 100] [--l2 0] [--plot moons.png | --no-plot]

The notes' printout (step 0 loss 0.8862514464368222, ..., step 99 loss 0.0) is the max-margin loss
alone, which is the default; `--l2 1e-4` adds micrograd's notebook's L2 term (step 0 loss
0.8958441028683222).
"""

from __future__ import annotations

import argparse
import random
from typing import Any, Callable, List, Optional, Sequence, Tuple

import numpy as np

from chaingrad.datasets import make_moons
from chaingrad.micrograd.engine import Value
from chaingrad.micrograd.nn import MLP

__all__ = ["moons_data", "moons_loss", "train", "main"]


def moons_data() -> Tuple[np.ndarray, np.ndarray]:
    """The demo's 100 points with noise 0.1 under seed 1337, labels in {-1, 1}; seeds Python's random too."""
    np.random.seed(1337)
    random.seed(1337)
    X, y = make_moons(n_samples=100, noise=0.1)
    return X, y * 2 - 1


def moons_loss(model: Any, X: np.ndarray, y: np.ndarray, value: Callable[[Any], Any] = Value,
               alpha: float = 0.0) -> Tuple[Any, float]:
    """Max-margin loss plus alpha * L2 over the whole set, and the accuracy, written as micrograd's demo writes them."""
    inputs = [list(map(value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    total_loss = data_loss
    if alpha:
        total_loss = data_loss + alpha * sum(p * p for p in model.parameters())
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def train(model: Any, X: np.ndarray, y: np.ndarray, steps: int = 100,
          value: Callable[[Any], Any] = Value, alpha: float = 0.0,
          report: Optional[Callable[[str], None]] = print) -> List[Tuple[float, float]]:
    """SGD with learning rate 1.0 - 0.9*k/steps; returns (loss, accuracy) per step."""
    history = []
    for k in range(steps):
        total_loss, acc = moons_loss(model, X, y, value, alpha)
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / steps
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((total_loss.data, acc))
        if report is not None:
            report(f"step {k} loss {total_loss.data}, accuracy {acc*100}%")
    return history


def save_decision_boundary(model: Any, X: np.ndarray, y: np.ndarray, path: str) -> bool:
    """Plots the model's decision regions and the data to path; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    h = 0.25
    x_min, x_max = X[:, 0].min() - 1, X[:, 0].max() + 1
    y_min, y_max = X[:, 1].min() - 1, X[:, 1].max() + 1
    xx, yy = np.meshgrid(np.arange(x_min, x_max, h), np.arange(y_min, y_max, h))
    grid = np.c_[xx.ravel(), yy.ravel()]
    scores = [model(list(map(Value, row))) for row in grid]
    Z = np.array([s.data > 0 for s in scores]).reshape(xx.shape)
    fig = plt.figure()
    plt.contourf(xx, yy, Z, cmap=plt.cm.Spectral, alpha=0.8)
    plt.scatter(X[:, 0], X[:, 1], c=y, s=40, cmap=plt.cm.Spectral)
    plt.xlim(xx.min(), xx.max())
    plt.ylim(yy.min(), yy.max())
    fig.savefig(path)
    plt.close(fig)
    return True


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Trains the demo model and prints what micrograd's demo prints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    parser.add_argument("--l2", type=float, default=0.0,
                        help="weight of the L2 penalty (0 as in the notes; micrograd's notebook uses 1e-4)")
    parser.add_argument("--plot", default="moons.png", help="where to save the decision boundary")
    parser.add_argument("--no-plot", action="store_true", help="do not draw the decision boundary")
    args = parser.parse_args(argv)

    X, y = moons_data()
    model = MLP(2, [16, 16, 1])
    print(model)
    print("number of parameters", len(model.parameters()))
    total_loss, acc = moons_loss(model, X, y, alpha=args.l2)
    print(total_loss, acc)
    train(model, X, y, steps=args.steps, alpha=args.l2)
    if not args.no_plot:
        if save_decision_boundary(model, X, y, args.plot):
            print(f"decision boundary saved to {args.plot}")
        else:
            print("matplotlib is not installed: no decision boundary picture "
                  "(pip install 'chaingrad[demo]')")


if __name__ == "__main__":
    main()
