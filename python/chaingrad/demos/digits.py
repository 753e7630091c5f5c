"""An MLP 64-128-64-10 on scikit-learn's 8x8 handwritten digits, trained with Adam.

The digits ship inside the scikit-learn package (no download); the model trains with
CrossEntropyLoss and Adam.

Run: python -m chaingrad.demos.digits [--epochs 30] [--plot digits_loss.png | --no-plot]
Needs scikit-learn (pip install scikit-learn); draws the loss curve when matplotlib is installed.
"""

from __future__ import annotations

import argparse
from typing import List, Optional, Sequence, Tuple

import numpy as np

import chaingrad as torch
from chaingrad import nn
from chaingrad._progress import ProgressLine

__all__ = ["load_split", "train", "main"]


def load_split(seed: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 1797 digits scaled to [0, 1], split 80/20 into train and test with a fixed shuffle."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit("the digits demo needs scikit-learn: pip install scikit-learn") from None
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.RandomState(seed).permutation(len(X))
    cut = int(0.8 * len(X))
    return X[order[:cut]], y[order[:cut]], X[order[cut:]], y[order[cut:]]


def _progress_text(epoch: int, epochs: int, batch: int, batches: int, loss: float, rate: float) -> str:
    done = int(20 * batch / batches)
    return (f"epoch {epoch + 1}/{epochs} [{'#' * done}{'.' * (20 - done)}] "
            f"{batch}/{batches} loss {loss:.4f} {rate:.0f} it/s")


def train(epochs: int = 30, batch_size: int = 64, seed: int = 0,
          show_progress: bool = True) -> Tuple[nn.Module, List[float], float]:
    """Trains the MLP; returns it, the mean training loss per epoch and the test accuracy.

    With show_progress, a bar is redrawn after every batch on a terminal, and each epoch ends with
    one plain line (the only lines written into a log file or pipe)."""
    Xtr, ytr, Xte, yte = load_split(seed)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.RandomState(seed)
    losses = []
    batches = (len(Xtr) + batch_size - 1) // batch_size
    progress = ProgressLine()
    for epoch in range(epochs):
        order = rng.permutation(len(Xtr))
        total = 0.0
        progress.restart()
        for b in range(batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            loss = loss_fn(model(torch.from_numpy(Xtr[idx])), torch.from_numpy(ytr[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            if show_progress:
                text = _progress_text(epoch, epochs, b + 1, batches, total / (b + 1), progress.rate(b + 1))
                if b + 1 < batches:
                    progress.draw(text)
                else:
                    progress.line(text)
        losses.append(total / batches)
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(Xte)).argmax(1).numpy()
    return model, losses, float((predicted == yte).mean())


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Trains, prints a progress line per epoch and the test accuracy, and plots the loss curve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--plot", default="digits_loss.png", help="where to save the loss curve")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    _, losses, accuracy = train(args.epochs)
    print(f"test accuracy {accuracy * 100:.1f}%")
    if args.no_plot:
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no loss curve (pip install 'chaingrad[demo]')")
        return
    fig = plt.figure()
    plt.plot(range(1, len(losses) + 1), losses)
    plt.xlabel("epoch")
    plt.ylabel("training loss")
    plt.title("digits: MLP 64-128-64-10, Adam")
    fig.savefig(args.plot)
    plt.close(fig)
    print(f"loss curve saved to {args.plot}")


if __name__ == "__main__":
    main()
