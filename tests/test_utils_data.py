"""chaingrad.utils.data: datasets, samplers, DataLoader and random_split, against PyTorch's behaviour;
and plotting chaingrad tensors with matplotlib."""

import numpy as np
import pytest

import chaingrad as cg
import chaingrad.utils.data
from chaingrad.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

needs_generator = pytest.mark.skipif(
    not (hasattr(cg, "Generator") and hasattr(cg, "randperm")),
    reason="PyTorch's shuffled orders need chaingrad.Generator and randperm (the random-generator branch)",
)


def test_import_forms():
    assert chaingrad.utils.data.DataLoader is DataLoader and cg.utils.data.TensorDataset is TensorDataset


def test_sequential_batches_and_drop_last():
    assert [b.tolist() for b in DataLoader(range(10), batch_size=4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [b.tolist() for b in DataLoader(range(10), batch_size=4, drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert (
        len(DataLoader(range(10), batch_size=4)) == 3 and len(DataLoader(range(10), batch_size=4, drop_last=True)) == 2
    )


def test_tensor_dataset_batches():
    x = cg.arange(12.0).reshape(6, 2)
    y = cg.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6 and ds[1][0].tolist() == [2.0, 3.0]
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 2) and yb.tolist() == [0, 1, 2, 3] and yb.dtype == cg.int64
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(x, cg.arange(5))


def test_default_collate_as_torch():
    batch = default_collate([(1, 2.0, {"a": cg.ones(2)}, "s"), (3, 4.0, {"a": cg.zeros(2)}, "t")])
    assert batch[0].dtype == cg.int64 and batch[0].tolist() == [1, 3]
    assert batch[1].dtype == cg.float64 and batch[2]["a"].shape == (2, 2) and batch[3] == ["s", "t"]
    assert [t.tolist() for t in default_collate([[1, 2], [3, 4]])] == [[1, 3], [2, 4]]
    assert default_collate([np.array([1.0, 2.0]), np.array([3.0, 4.0])]).shape == (2, 2)


def test_custom_dataset_sampler_and_collate():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return i * i

    loader = DataLoader(Squares(), batch_size=2, sampler=[4, 0, 2], collate_fn=lambda b: sum(b))
    assert list(loader) == [16, 4]
    assert list(DataLoader(Squares(), batch_sampler=[[0, 1], [4]], collate_fn=list)) == [[0, 1], [16]]
    assert list(BatchSampler(SequentialSampler(range(5)), 2, False)) == [[0, 1], [2, 3], [4]]
    assert len(BatchSampler(range(5), 2, True)) == 2
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(Squares(), sampler=[0], shuffle=True)


def test_shuffle_is_a_permutation_each_epoch():
    cg.manual_seed(0)
    loader = DataLoader(range(20), batch_size=6, shuffle=True)
    epochs = [sum((b.tolist() for b in loader), []) for _ in range(2)]
    assert all(sorted(e) == list(range(20)) for e in epochs) and epochs[0] != epochs[1]


def test_subset_and_random_split_sizes():
    parts = random_split(range(10), [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(sum((list(p) for p in parts), [])) == list(range(10))
    assert [len(p) for p in random_split(range(10), [0.25, 0.25, 0.5])] == [3, 2, 5]  # the remainder from the first
    assert list(Subset(range(10), [9, 1])) == [9, 1]
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])


@needs_generator
def test_orders_equal_torch():
    torch = pytest.importorskip("torch")
    cg.manual_seed(0)
    torch.manual_seed(0)
    ours = [b.tolist() for b in DataLoader(range(10), batch_size=4, shuffle=True)]
    assert ours == [b.tolist() for b in torch.utils.data.DataLoader(range(10), batch_size=4, shuffle=True)]
    g, tg = cg.Generator(), torch.Generator()
    g.manual_seed(1)
    tg.manual_seed(1)
    ours = [b.tolist() for b in DataLoader(range(10), batch_size=4, shuffle=True, generator=g)]
    assert ours == [
        b.tolist() for b in torch.utils.data.DataLoader(range(10), batch_size=4, shuffle=True, generator=tg)
    ]
    cg.manual_seed(5)
    torch.manual_seed(5)
    assert list(RandomSampler(range(8))) == list(torch.utils.data.RandomSampler(range(8)))
    g.manual_seed(1)
    tg.manual_seed(1)
    assert [list(s) for s in random_split(range(10), [0.3, 0.7], generator=g)] == [
        list(s) for s in torch.utils.data.random_split(range(10), [0.3, 0.7], generator=tg)
    ]


def test_matplotlib_plots_tensors():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = cg.arange(12).reshape(3, 4)
    plt.imshow(n, cmap="Blues")
    t = cg.linspace(0, 1, 5)
    (line,) = plt.plot(t)
    assert list(line.get_ydata()) == t.tolist()
    plt.hist(cg.randn(100).tolist(), 10)
    w = cg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):  # as torch: plot w.detach()
        plt.plot(w)
    plt.plot(w.detach())
    plt.close("all")
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_array_protocol_copy_argument():
    t = cg.arange(3.0)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.asarray(t, copy=False).dtype == np.float32
    with pytest.raises(ValueError, match="avoid copy"):
        np.asarray(t, dtype=np.float64, copy=False)


def test_draw_sequence_equals_torch_with_torch_draws(monkeypatch):
    """With torch's own random draws plugged in, the loader asks for them in torch's order."""
    torch = pytest.importorskip("torch")
    from chaingrad.utils.data import dataloader, dataset, sampler

    def perm(n, generator=None):
        return torch.randperm(n, generator=generator).tolist()

    def seed(generator=None):
        return int(torch.empty((), dtype=torch.int64).random_(generator=generator).item())

    for module in (sampler, dataset):
        monkeypatch.setattr(module, "randperm", perm)
    for module in (sampler, dataloader):
        monkeypatch.setattr(module, "seed_from", seed)
    monkeypatch.setattr(sampler, "seeded_generator", lambda s: torch.Generator().manual_seed(s))
    torch.manual_seed(0)
    ours = [b.tolist() for b in DataLoader(range(10), batch_size=4, shuffle=True)]
    torch.manual_seed(0)
    assert ours == [b.tolist() for b in torch.utils.data.DataLoader(range(10), batch_size=4, shuffle=True)]
    ours = [
        b.tolist()
        for b in DataLoader(range(10), batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(1))
    ]
    theirs = torch.utils.data.DataLoader(
        range(10), batch_size=3, shuffle=True, generator=torch.Generator().manual_seed(1)
    )
    assert ours == [b.tolist() for b in theirs]
    torch.manual_seed(4)
    ours = [list(s) for s in random_split(range(7), [0.5, 0.5])]
    torch.manual_seed(4)
    assert ours == [list(s) for s in torch.utils.data.random_split(range(7), [0.5, 0.5])]
