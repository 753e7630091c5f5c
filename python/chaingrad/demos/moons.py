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

__all__ = ["moons_data", "moons_loss", "train", "mlp_scores", "save_decision_boundary", "main"]


def moons_data() -> Tuple[np.ndarray, np.ndarray]:
    """The demo's 100 points with noise 0.1 under seed 1337, labels in {-1, 1}; seeds Python's random too."""
    np.random.seed(1337)
    random.seed(1337)
    X, y = make_moons(n_samples=100, noise=0.1)
    return X, y * 2 - 1


def moons_loss(
    model: Any, X: np.ndarray, y: np.ndarray, value: Callable[[Any], Any] = Value, alpha: float = 0.0
) -> Tuple[Any, float]:
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


def train(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    steps: int = 100,
    value: Callable[[Any], Any] = Value,
    alpha: float = 0.0,
    report: Optional[Callable[[str], None]] = print,
) -> List[Tuple[float, float]]:
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
            report(f"step {k} loss {total_loss.data}, accuracy {acc * 100}%")
    return history


def mlp_scores(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The scalar MLP as a numpy function of an (N, 2) array, for scoring a dense grid at once."""
    layers = [
        (
            np.array([[w.data for w in n.w] for n in layer.neurons]),
            np.array([n.b.data for n in layer.neurons]),
            layer.neurons[0].nonlin,
        )
        for layer in model.layers
    ]

    def scores(points: np.ndarray) -> np.ndarray:
        h = points
        for weight, bias, relu in layers:
            h = h @ weight.T + bias
            if relu:
                h = np.maximum(h, 0.0)
        return h[:, 0]

    return scores


def save_decision_boundary(
    scores: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray, path: str, title: str, step: float = 0.02
) -> bool:
    """Plots a model's score over a step-spaced grid around the data, its zero level (the decision
    boundary) and the points by class, titled with title and the training accuracy; False when
    matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import TwoSlopeNorm
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return False
    x_min, x_max = X[:, 0].min() - 0.5, X[:, 0].max() + 0.5
    y_min, y_max = X[:, 1].min() - 0.5, X[:, 1].max() + 0.5
    xx, yy = np.meshgrid(np.arange(x_min, x_max + step, step), np.arange(y_min, y_max + step, step))
    Z = np.asarray(scores(np.c_[xx.ravel(), yy.ravel()]), dtype=np.float64).reshape(xx.shape)
    accuracy = float(np.mean((np.asarray(scores(X)) > 0) == (y > 0)))
    # a diverging map centred on 0, saturating at the largest score the data reach, so the margin
    # band shows and far-away extremes do not wash it out
    reach = max(float(np.abs(np.asarray(scores(X))).max()), 1e-9)
    fig, ax = plt.subplots(figsize=(7, 5))
    filled = ax.contourf(
        xx,
        yy,
        np.clip(Z, -reach, reach),
        levels=np.linspace(-reach, reach, 41),
        cmap="RdBu",
        norm=TwoSlopeNorm(0.0, -reach, reach),
        alpha=0.8,
    )
    ax.contour(xx, yy, Z, levels=[0.0], colors="k", linewidths=1.5)
    for label, colour in ((-1, "tab:red"), (1, "tab:blue")):
        mine = y == label
        ax.scatter(X[mine, 0], X[mine, 1], c=colour, s=36, edgecolors="k", linewidths=0.8, label=f"class {label:+d}")
    fig.colorbar(filled, ax=ax, label="model score (boundary at 0)", ticks=MaxNLocator(7, symmetric=True))
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(f"{title}\ntraining accuracy {accuracy * 100:.1f}%")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Trains the demo model and prints what micrograd's demo prints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    parser.add_argument(
        "--l2",
        type=float,
        default=0.0,
        help="weight of the L2 penalty (0 as in the notes; micrograd's notebook uses 1e-4)",
    )
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
        title = f"micrograd MLP(2, [16, 16, 1]), max-margin loss, {args.steps} steps of SGD"
        if save_decision_boundary(mlp_scores(model), X, y, args.plot, title):
            print(f"decision boundary saved to {args.plot}")
        else:
            print("matplotlib is not installed: no decision boundary picture (pip install 'chaingrad[demo]')")


if __name__ == "__main__":
    main()
