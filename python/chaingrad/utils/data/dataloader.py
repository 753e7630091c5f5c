"""DataLoader: batches of a dataset's samples, collated into tensors, in a sampler's order."""

from __future__ import annotations

import collections.abc
import numbers
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Sized, cast

import chaingrad
from chaingrad.tensor import Tensor
from chaingrad.utils.data._random import seed_from
from chaingrad.utils.data.dataset import Dataset, IterableDataset
from chaingrad.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate"]


def default_collate(batch: Sequence[Any]) -> Any:
    """Stacks a list of samples as PyTorch does: tensors along a new dim 0, Python ints, floats and
    bools into int64, float64 and bool tensors, numpy arrays as tensors, and tuples, lists and dicts
    element by element (strings stay lists)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return chaingrad.stack(list(batch), 0)
    if type(elem).__module__ == "numpy" and hasattr(elem, "dtype"):
        if elem.dtype.kind in "USO":
            raise TypeError(f"default_collate: batch must contain tensors, numbers, dicts or lists; found {elem.dtype}")
        return chaingrad.stack([chaingrad.as_tensor(b) for b in batch], 0)
    if isinstance(elem, bool):
        return chaingrad.tensor(list(batch), dtype=chaingrad.bool_)
    if isinstance(elem, int):
        return chaingrad.tensor(list(batch), dtype=chaingrad.int64)
    if isinstance(elem, float):
        return chaingrad.tensor(list(batch), dtype=chaingrad.float64)
    if isinstance(elem, numbers.Number):
        return chaingrad.tensor(list(batch))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its type
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]  # a list, for tuples too
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}"
    )


def _identity(sample: Any) -> Any:
    return sample


class DataLoader:
    """Iterates over dataset in batches: batch_size samples at a time (shuffled with shuffle=True,
    or in sampler's order), each batch made by collate_fn; single-process (num_workers=0)."""

    def __init__(
        self,
        dataset: Dataset[Any],
        batch_size: Optional[int] = 1,
        shuffle: Optional[bool] = None,
        sampler: Optional[Iterable[Any]] = None,
        batch_sampler: Optional[Iterable[List[Any]]] = None,
        num_workers: int = 0,
        collate_fn: Optional[Callable[[List[Any]], Any]] = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Optional[Callable[[int], None]] = None,
        generator: Optional[Any] = None,
        **unused: Any,
    ) -> None:
        if num_workers != 0:
            raise ValueError("DataLoader: only num_workers=0 is supported (the samples load in this process)")
        if isinstance(dataset, IterableDataset):
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle, sampler and batch_sampler options"
                )
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.num_workers, self.generator, self.pin_memory, self.timeout = num_workers, generator, pin_memory, timeout
        self._iterable = isinstance(dataset, IterableDataset)
        if sampler is None and not self._iterable:
            sized = cast(Sized, dataset)  # a map-style dataset has a length (Dataset does not declare it, as PyTorch's)
            sampler = RandomSampler(sized, generator=generator) if shuffle else SequentialSampler(sized)
        if batch_sampler is None and batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)  # type: ignore[arg-type]
        self.sampler, self.batch_sampler = sampler, batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if batch_size is not None or batch_sampler is not None else _identity
        self.collate_fn = collate_fn

    def __iter__(self) -> Iterator[Any]:
        # PyTorch's iterator draws a base seed for its workers when it is made, from generator (or
        # the global one): drawn here too, so a shuffled order after manual_seed(s) is PyTorch's
        seed_from(self.generator)
        return self._iterate_stream() if self._iterable else self._iterate_batches()

    def _iterate_batches(self) -> Iterator[Any]:
        if self.batch_sampler is None:
            for i in self.sampler:  # type: ignore[union-attr]
                yield self.collate_fn(self.dataset[i])
            return
        for indices in self.batch_sampler:
            yield self.collate_fn([self.dataset[i] for i in indices])

    def _iterate_stream(self) -> Iterator[Any]:
        if self.batch_size is None:
            for sample in self.dataset:  # type: ignore[attr-defined]
                yield self.collate_fn(sample)
            return
        batch: List[Any] = []
        for sample in self.dataset:  # type: ignore[attr-defined]
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)  # type: ignore[arg-type]
