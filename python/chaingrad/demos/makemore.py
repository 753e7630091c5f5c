"""makemore: the character-level name models of Karpathy's makemore lectures (parts 1-5).

They train on the 32,032 names of names.txt, with the lectures' seeds, sizes and learning rates.

Run: python -m chaingrad.demos.makemore [names.txt] [--model bigram|mlp|bn|wavenet] [--steps N]
     [--backend chaingrad|torch]

bigram counts character pairs (part 1); mlp is the embedding + tanh MLP of part 2; bn adds batch
norm to a deeper MLP (part 3); wavenet is part 5's hierarchical model. Each prints a progress
line while it trains, the train and dev loss, and 20 sampled names. With `--backend torch` the
same code runs on PyTorch, which prints the same numbers for the same seeds.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from chaingrad._progress import ProgressLine

__all__ = [
    "load_words",
    "Vocab",
    "build_dataset",
    "Model",
    "build_model",
    "train",
    "split_loss",
    "sample",
    "count_bigrams",
    "bigram",
    "main",
]

MODELS = ("bigram", "mlp", "bn", "wavenet")
# context length, embedding size, hidden size and training steps of each lecture's final model
_CONFIG: Dict[str, Dict[str, int]] = {
    "bigram": {"block_size": 1, "steps": 0},
    "mlp": {"block_size": 3, "n_embd": 10, "n_hidden": 200, "steps": 200000},
    "bn": {"block_size": 3, "n_embd": 10, "n_hidden": 100, "steps": 200000},
    "wavenet": {"block_size": 8, "n_embd": 24, "n_hidden": 128, "steps": 200000},
}
_SEED = 2147483647  # the lectures' generator seed


def load_words(path: Optional[str] = None) -> List[str]:
    """The names, one per line: from path, or the copy of makemore's names.txt shipped with chaingrad."""
    file = Path(path) if path else Path(__file__).resolve().parent.parent / "data" / "names.txt"
    if not file.is_file():
        raise SystemExit(f"makemore: no such file: {file}")
    words = file.read_text().splitlines()
    if not words:
        raise SystemExit(f"makemore: {file} holds no names")
    return words


class Vocab:
    """The characters of the names plus '.', which marks a name's start and end (index 0)."""

    def __init__(self, words: Sequence[str]) -> None:
        chars = sorted(set("".join(words)))
        self.stoi = {s: i + 1 for i, s in enumerate(chars)}
        self.stoi["."] = 0
        self.itos = {i: s for s, i in self.stoi.items()}

    def __len__(self) -> int:
        return len(self.itos)


def build_dataset(T: ModuleType, words: Sequence[str], vocab: Vocab, block_size: int) -> Tuple[Any, Any]:
    """Every (context, next character) pair of the words, as index tensors X (N, block_size), Y (N,)."""
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = vocab.stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return T.tensor(X), T.tensor(Y)


# --- the lectures' layers, written as parts 3 and 5 write them ---------------------------------


class Linear:
    """x @ weight (+ bias), with weight drawn from randn and scaled by 1/sqrt(fan_in)."""

    def __init__(self, T: ModuleType, fan_in: int, fan_out: int, bias: bool = True, generator: Any = None) -> None:
        self.weight = T.randn((fan_in, fan_out), generator=generator) / fan_in**0.5
        self.bias = T.zeros(fan_out) if bias else None

    @classmethod
    def of(cls, weight: Any, bias: Any) -> "Linear":
        """A layer holding the given weight and bias (part 2 draws them itself)."""
        layer = cls.__new__(cls)
        layer.weight, layer.bias = weight, bias
        return layer

    def __call__(self, x: Any) -> Any:
        self.out = x @ self.weight
        if self.bias is not None:
            self.out = self.out + self.bias
        return self.out

    def parameters(self) -> List[Any]:
        """The weight and the bias, if any."""
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    """Batch normalisation over the batch (and, for 3-d input, the time) dims, with running stats."""

    def __init__(self, T: ModuleType, dim: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        self.T, self.eps, self.momentum, self.training = T, eps, momentum, True
        self.gamma, self.beta = T.ones(dim), T.zeros(dim)
        self.running_mean, self.running_var = T.zeros(dim), T.ones(dim)

    def __call__(self, x: Any) -> Any:
        if self.training:
            dims = 0 if x.ndim == 2 else (0, 1)
            xmean = x.mean(dims, keepdim=True)
            xvar = x.var(dims, keepdim=True)
        else:
            xmean, xvar = self.running_mean, self.running_var
        self.out = self.gamma * ((x - xmean) / self.T.sqrt(xvar + self.eps)) + self.beta
        if self.training:
            with self.T.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self) -> List[Any]:
        """The gain and the shift."""
        return [self.gamma, self.beta]


class Tanh:
    """tanh, elementwise."""

    def __init__(self, T: ModuleType) -> None:
        self.T = T

    def __call__(self, x: Any) -> Any:
        self.out = self.T.tanh(x)
        return self.out

    def parameters(self) -> List[Any]:
        """None."""
        return []


class Embedding:
    """A lookup table of randn vectors, one row per character."""

    def __init__(self, T: ModuleType, num: int, dim: int, generator: Any = None) -> None:
        self.weight = T.randn((num, dim), generator=generator)

    def __call__(self, ix: Any) -> Any:
        self.out = self.weight[ix]
        return self.out

    def parameters(self) -> List[Any]:
        """The table."""
        return [self.weight]


class FlattenConsecutive:
    """(B, T, C) -> (B, T/n, C*n): n neighbouring characters side by side (dropping a time dim of 1)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, x: Any) -> Any:
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        self.out = x
        return self.out

    def parameters(self) -> List[Any]:
        """None."""
        return []


class Model:
    """A stack of the layers above; the mlp and bn models embed the context first and concatenate it."""

    def __init__(self, T: ModuleType, layers: List[Any], table: Any = None) -> None:
        self.T, self.layers, self.table = T, layers, table

    def __call__(self, X: Any) -> Any:
        x = X
        if self.table is not None:
            emb = self.table[X]
            x = emb.view(emb.shape[0], -1)
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> List[Any]:
        """Every trained tensor: the table (if any), then each layer's."""
        head = [] if self.table is None else [self.table]
        return head + [p for layer in self.layers for p in layer.parameters()]

    def train(self, mode: bool = True) -> None:
        """Switches batch norm between batch statistics (training) and running statistics."""
        for layer in self.layers:
            if isinstance(layer, BatchNorm1d):
                layer.training = mode


def build_model(T: ModuleType, name: str, vocab_size: int) -> Tuple[Model, Any]:
    """The lecture's model and the generator its training draws batches from (None: the global one)."""
    cfg = _CONFIG[name]
    block, n_embd, n_hidden = cfg["block_size"], cfg["n_embd"], cfg["n_hidden"]
    if name == "mlp":  # part 2: C, W1, b1, W2, b2, all randn from one generator
        g = T.Generator().manual_seed(_SEED)
        C = T.randn((vocab_size, n_embd), generator=g)
        W1 = T.randn((n_embd * block, n_hidden), generator=g)
        b1 = T.randn(n_hidden, generator=g)
        W2 = T.randn((n_hidden, vocab_size), generator=g)
        b2 = T.randn(vocab_size, generator=g)
        model = Model(T, [Linear.of(W1, b1), Tanh(T), Linear.of(W2, b2)], table=C)
    elif name == "bn":  # part 3: five tanh layers with batch norm, the last gain shrunk
        g = T.Generator().manual_seed(_SEED)
        C = T.randn((vocab_size, n_embd), generator=g)
        layers: List[Any] = []
        fan_in = n_embd * block
        for _ in range(5):
            layers += [Linear(T, fan_in, n_hidden, bias=False, generator=g), BatchNorm1d(T, n_hidden), Tanh(T)]
            fan_in = n_hidden
        layers += [Linear(T, n_hidden, vocab_size, bias=False, generator=g), BatchNorm1d(T, vocab_size)]
        with T.no_grad():
            layers[-1].gamma *= 0.1
        model = Model(T, layers, table=C)
    else:  # part 5: the hierarchical (WaveNet-like) model, drawn from the global generator
        T.manual_seed(42)
        g = None
        layers = [Embedding(T, vocab_size, n_embd)]
        width = n_embd
        for _ in range(3):
            layers += [
                FlattenConsecutive(2),
                Linear(T, width * 2, n_hidden, bias=False),
                BatchNorm1d(T, n_hidden),
                Tanh(T),
            ]
            width = n_hidden
        layers.append(Linear(T, n_hidden, vocab_size))
        with T.no_grad():
            layers[-1].weight *= 0.1
        model = Model(T, layers)
    for p in model.parameters():
        p.requires_grad = True
    return model, g


def _progress_text(i: int, steps: int, loss: float, rate: float) -> str:
    eta = (steps - i - 1) / rate
    return f"step {i + 1:7d}/{steps:7d}  loss {loss:.4f}  {rate:7.0f} steps/s  eta {eta:5.0f} s"


def train(
    T: ModuleType,
    F: ModuleType,
    model: Model,
    g: Any,
    Xtr: Any,
    Ytr: Any,
    steps: int,
    batch_size: int = 32,
    decay_at: int = 100000,
    quiet: bool = False,
) -> List[float]:
    """Minibatch SGD as in the lectures (lr 0.1, then 0.01 from step decay_at); returns the losses."""
    parameters = model.parameters()
    losses = []
    progress = ProgressLine()
    # redrawn often on a terminal; into a log, a plain line now and then
    every = 1000 if progress.tty else 10000
    for i in range(steps):
        ix = T.randint(0, Xtr.shape[0], (batch_size,), generator=g)
        loss = F.cross_entropy(model(Xtr[ix]), Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < decay_at else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())
        if not quiet and (i % every == 0 or i == steps - 1):
            text = _progress_text(i, steps, losses[-1], progress.rate(i + 1))
            if progress.tty and i < steps - 1:
                progress.draw(text)
            else:
                progress.line(text)
    return losses


def split_loss(T: ModuleType, F: ModuleType, model: Model, X: Any, Y: Any) -> float:
    """The mean cross-entropy of the model on a whole split, with batch norm on its running stats."""
    model.train(False)
    with T.no_grad():
        loss = F.cross_entropy(model(X), Y).item()
    model.train(True)
    return loss


def sample(
    T: ModuleType, F: ModuleType, model: Model, vocab: Vocab, block_size: int, count: int = 20, seed: int = _SEED + 10
) -> List[str]:
    """count names drawn from the model, one character at a time, with the lectures' sampling seed."""
    g = T.Generator().manual_seed(seed)
    model.train(False)
    names = []
    with T.no_grad():
        for _ in range(count):
            out, context = [], [0] * block_size
            while True:
                probs = F.softmax(model(T.tensor([context])), dim=1)
                ix = T.multinomial(probs, num_samples=1, generator=g).item()
                context = context[1:] + [ix]
                out.append(ix)
                if ix == 0:
                    break
            names.append("".join(vocab.itos[i] for i in out))
    model.train(True)
    return names


def _pairs(words: Sequence[str], vocab: Vocab) -> Iterator[Tuple[int, int]]:
    """Every (character, next character) index pair of the words, '.' around each."""
    for w in words:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            yield vocab.stoi[ch1], vocab.stoi[ch2]


def count_bigrams(T: ModuleType, words: Sequence[str], vocab: Vocab) -> Any:
    """N[i, j]: how often character j follows character i, counted one pair at a time (int32)."""
    n = len(vocab)
    N = T.zeros((n, n), dtype=T.int32)
    for ix1, ix2 in _pairs(words, vocab):
        N[ix1, ix2] += 1
    return N


def bigram_probabilities(T: ModuleType, words: Sequence[str], vocab: Vocab) -> Any:
    """P[i, j]: the counted bigrams smoothed by one, each row normalised (part 1's model)."""
    P = (count_bigrams(T, words, vocab) + 1).float()
    P /= P.sum(1, keepdims=True)
    return P


def sample_bigrams(T: ModuleType, P: Any, vocab: Vocab, count: int = 20, seed: int = _SEED) -> List[str]:
    """count names drawn from P one character at a time, with the lecture's generator seed."""
    g = T.Generator().manual_seed(seed)
    names = []
    for _ in range(count):
        out, ix = [], 0
        while True:
            ix = T.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            out.append(vocab.itos[ix])
            if ix == 0:
                break
        names.append("".join(out))
    return names


def bigram(
    T: ModuleType, vocab: Vocab, train_words: Sequence[str], dev_words: Sequence[str], count: int = 20
) -> Tuple[float, float, List[str]]:
    """Part 1's model trained on train_words; returns train loss, dev loss and count sampled names."""
    P = bigram_probabilities(T, train_words, vocab)

    def nll(ws: Sequence[str]) -> float:
        xs, ys = zip(*_pairs(ws, vocab))
        return -P[T.tensor(xs), T.tensor(ys)].log().mean().item()

    return nll(train_words), nll(dev_words), sample_bigrams(T, P, vocab, count)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Trains the chosen model, prints progress, the train and dev loss and 20 names; returns them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="?", default=None, help="the names file (default: the bundled names.txt)")
    parser.add_argument("--model", choices=MODELS, default="mlp")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the lecture's 200000)")
    parser.add_argument(
        "--backend", choices=("chaingrad", "torch"), default="chaingrad", help="run the same code on PyTorch to compare"
    )
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 0:
        parser.error("--steps must be >= 0")
    if args.backend == "torch":
        import torch as T
        import torch.nn.functional as F
    else:
        import chaingrad as T
        import chaingrad.nn.functional as F
    words = load_words(args.names)
    vocab = Vocab(words)
    words = list(words)
    random.Random(42).shuffle(words)  # the lectures' split: random.seed(42); random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    print(f"{len(words)} names, {len(vocab)} characters, model {args.model} on {args.backend}")
    if args.model == "bigram":
        train_loss, dev_loss, names = bigram(T, vocab, words[:n1], words[n1:n2])
    else:
        cfg = _CONFIG[args.model]
        block = cfg["block_size"]
        Xtr, Ytr = build_dataset(T, words[:n1], vocab, block)
        Xdev, Ydev = build_dataset(T, words[n1:n2], vocab, block)
        model, g = build_model(T, args.model, len(vocab))
        steps = cfg["steps"] if args.steps is None else args.steps
        print(f"{sum(p.nelement() for p in model.parameters())} parameters, {steps} steps")
        train(T, F, model, g, Xtr, Ytr, steps, decay_at=100000 if args.model == "mlp" else 150000)
        train_loss, dev_loss = split_loss(T, F, model, Xtr, Ytr), split_loss(T, F, model, Xdev, Ydev)
        names = sample(T, F, model, vocab, block)
    print(f"train loss {train_loss:.4f}")
    print(f"dev loss   {dev_loss:.4f}")
    for name in names:
        print(name)
    return {"train": train_loss, "dev": dev_loss, "names": names}


if __name__ == "__main__":
    main()
