"""Datasets: indexable collections of samples, and ways to combine and split them."""

from __future__ import annotations

import bisect
import math
from typing import Any, Generic, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

from chaingrad.tensor import Tensor
from chaingrad.utils.data._random import randperm

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "Subset", "random_split"]

T = TypeVar("T")


class Dataset(Generic[T]):
    """Base class of map-style datasets: define __getitem__ (and __len__ for samplers)."""

    def __getitem__(self, index: Any) -> T:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset[T]") -> "ConcatDataset[T]":
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T]):
    """Base class of datasets read as a stream: define __iter__."""

    def __iter__(self) -> Iterator[T]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")


class TensorDataset(Dataset[Tuple[Tensor, ...]]):
    """Sample i is (t[i] for each tensor t); the tensors share their first dimension."""

    def __init__(self, *tensors: Tensor) -> None:
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> Tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset[T]):
    """Several datasets read one after the other."""

    def __init__(self, datasets: Sequence[Dataset[T]]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        self.cumulative_sizes: List[int] = []
        total = 0
        for d in self.datasets:
            total += len(d)  # type: ignore[arg-type]
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> T:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class Subset(Dataset[T]):
    """The samples of dataset at the given indices."""

    def __init__(self, dataset: Dataset[T], indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: Union[int, List[int]]) -> Any:
        if isinstance(index, list):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Dataset[T], lengths: Sequence[Union[int, float]], generator: Optional[Any] = None
) -> List[Subset[T]]:
    """Splits dataset into non-overlapping random Subsets of the given lengths, or fractions of its
    length (the remainder handed out one by one from the first), as PyTorch."""
    n = len(dataset)  # type: ignore[arg-type]
    sizes = list(lengths)
    if math.isclose(sum(sizes), 1) and sum(sizes) <= 1:
        counts = [int(math.floor(n * frac)) for frac in sizes]
        for frac in sizes:
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {sizes.index(frac)} is not between 0 and 1")
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        sizes = counts
    if sum(sizes) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = randperm(n, generator)
    out: List[Subset[T]] = []
    start = 0
    for size in sizes:
        out.append(Subset(dataset, order[start : start + int(size)]))
        start += int(size)
    return out
