"""makemore benchmarks beside PyTorch in one run: the lecture's MLP training step, the bigram
counting loop and sampling 20 names, each timed with the code of chaingrad.demos.makemore."""

from __future__ import annotations

import random
from types import ModuleType
from typing import Callable, List, Tuple

from chaingrad.bench.common import Row, Spread, median_time
from chaingrad.demos import makemore

__all__ = ["makemore_rows"]


def _libraries(torch_wanted: bool) -> List[Tuple[ModuleType, ModuleType]]:
    """(T, F) for chaingrad and, when installed, torch."""
    import chaingrad
    import chaingrad.nn.functional as cF

    libs: List[Tuple[ModuleType, ModuleType]] = [(chaingrad, cF)]
    if torch_wanted:
        try:
            import torch
            import torch.nn.functional as tF
        except ImportError:
            return libs
        libs.append((torch, tF))
    return libs


def _mlp_step(T: ModuleType, F: ModuleType, words: List[str], vocab: makemore.Vocab) -> Callable[[], None]:
    """One training step of part 2's MLP (batch 32, embedding 10, hidden 200), as the demo runs it."""
    Xtr, Ytr = makemore.build_dataset(T, words, vocab, 3)
    model, g = makemore.build_model(T, "mlp", len(vocab))

    def step() -> None:
        makemore.train(T, F, model, g, Xtr, Ytr, 1, quiet=True)

    return step


def _sampler(T: ModuleType, F: ModuleType, vocab: makemore.Vocab) -> Callable[[], object]:
    model, _ = makemore.build_model(T, "mlp", len(vocab))
    return lambda: makemore.sample(T, F, model, vocab, 3)


def _set_threads(libs: List[Tuple[ModuleType, ModuleType]], n: int) -> None:
    for T, _ in libs:
        T.set_num_threads(n)


def makemore_rows(quick: bool = False, report: Callable[[str], None] = print) -> List[Row]:
    """The three makemore rows at 1 thread and at the default thread count."""
    import chaingrad

    libs = _libraries(True)
    words = makemore.load_words()
    vocab = makemore.Vocab(words)
    words = list(words)
    random.Random(42).shuffle(words)
    train_words = words[: int(0.8 * len(words))]
    default = chaingrad.get_num_threads()
    steps, reps = (50, 3) if quick else (500, 5)
    rows = []
    for n in sorted({1, default}):
        _set_threads(libs, n)
        report(f"makemore at {n} thread(s) ...")
        rates: List[Spread] = []
        count_times: List[Spread] = []
        sample_times: List[Spread] = []
        for T, F in libs:
            step = _mlp_step(T, F, train_words, vocab)
            step()

            def run(step: Callable[[], None] = step) -> None:
                for _ in range(steps):
                    step()

            rates.append(steps / median_time(run, reps))
            few = train_words[:2000] if quick else train_words
            count = lambda T=T, few=few: makemore.count_bigrams(T, few, vocab)  # noqa: E731
            count_times.append(median_time(count, 1 if quick else 3))
            sample_times.append(median_time(_sampler(T, F, vocab), reps))
        peer = lambda values: values[1] if len(values) > 1 else None  # noqa: E731
        rows.append(
            Row(
                f"makemore MLP step (batch 32, emb 10, hidden 200), {n} thread(s)",
                "steps/s",
                rates[0],
                "torch",
                peer(rates),
                higher_is_better=True,
            )
        )
        what = "2,000 names" if quick else f"{len(train_words):,} names"
        rows.append(
            Row(
                f"makemore bigram counting loop, {what}, {n} thread(s)",
                "s",
                count_times[0],
                "torch",
                peer(count_times),
            )
        )
        rows.append(
            Row(
                f"makemore sampling 20 names from the MLP, {n} thread(s)",
                "s",
                sample_times[0],
                "torch",
                peer(sample_times),
            )
        )
    _set_threads(libs, default)
    return rows
