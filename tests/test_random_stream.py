"""Random numbers as PyTorch draws them: for the same seed, chaingrad's CPU stream equals torch's bit
for bit (Note [random generator]); plus determinism, state round trips and bad-input errors."""

import math
import threading

import numpy as np
import pytest

import chaingrad as cg
import chaingrad.nn.functional as cF

SEEDS = [0, 1, 42, 2147483647, 2**40 + 3]
SIZES = list(range(1, 41)) + [100, 1000, 100_000]


def _torch():
    return pytest.importorskip("torch")


def _same(a, b) -> bool:
    x, y = np.asarray(a.tolist()), np.asarray(b.tolist())
    return x.shape == y.shape and x.dtype.kind == y.dtype.kind and np.array_equal(x, y)


def _pair(seed):
    torch = _torch()
    return torch.Generator().manual_seed(seed), cg.Generator().manual_seed(seed)


def _dtypes():
    torch = _torch()
    return [(torch.float32, cg.float32), (torch.float64, cg.float64)]


# --- against torch ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_rand_equals_torch_for_every_size(seed):
    torch = _torch()
    for tdt, cdt in _dtypes():
        for n in SIZES:
            g, h = _pair(seed)
            assert _same(torch.rand(n, generator=g, dtype=tdt), cg.rand(n, generator=h, dtype=cdt)), (tdt, n)


@pytest.mark.parametrize("seed", SEEDS)
def test_randn_equals_torch(seed):
    torch = _torch()
    for tdt, cdt in _dtypes():
        for n in SIZES:
            g, h = _pair(seed)
            assert _same(torch.randn(n, generator=g, dtype=tdt), cg.randn(n, generator=h, dtype=cdt)), (tdt, n)
    g, h = _pair(seed)
    assert _same(torch.randn(27, 27, generator=g), cg.randn(27, 27, generator=h))


def _untemper(y):
    """The mt19937 state word whose output is y (tempering inverted)."""
    y = y.astype(np.uint64)
    y ^= y >> np.uint64(18)
    y ^= (y << np.uint64(15)) & np.uint64(0xEFC60000)
    t = y.copy()
    for _ in range(5):
        t = y ^ ((t << np.uint64(7)) & np.uint64(0x9D2C5680))
    y = t & np.uint64(0xFFFFFFFF)
    t = y.copy()
    for _ in range(3):
        t = y ^ (t >> np.uint64(11))
    return t & np.uint64(0xFFFFFFFF)


def test_float32_normal_blocks_equal_torch_for_chosen_uniforms():
    """A state whose next draws are chosen 32-bit outputs feeds both samplers the same uniforms:
    a sample of the 2^24 float32 uniforms as u1 and as u2 (the whole grid agreed when checked)."""
    torch = _torch()
    state = np.frombuffer(bytes(torch.Generator().manual_seed(0).get_state().numpy()), dtype=np.uint8).copy()
    state[8:12] = np.frombuffer(np.int32(624).tobytes(), np.uint8)  # 623 draws from the words as they are
    state[16:24] = np.frombuffer(np.uint64(1).tobytes(), np.uint8)
    words = state[24 : 24 + 8 * 624].view(np.uint64)
    tg, cgg = torch.Generator(), cg.Generator()
    rng = np.random.default_rng(0)
    for _ in range(100):
        k = rng.integers(0, 2**24, (38, 8))
        draws = np.concatenate([k, rng.integers(0, 2**24, (38, 8))], axis=1).reshape(-1)
        words[1 : 1 + draws.size] = _untemper(draws)
        tg.set_state(torch.from_numpy(state.copy()))
        cgg.set_state(cg.tensor(state.astype(np.int64), dtype=cg.get_rng_state().dtype))
        assert _same(torch.randn(draws.size, generator=tg), cg.randn(draws.size, generator=cgg))


def test_stream_continues_across_calls_and_kinds():
    torch = _torch()
    g, h = _pair(7)
    for step in range(12):
        n = 1 + 7 * step % 23
        outs = [
            (torch.randn(n, generator=g, dtype=torch.float64), cg.randn(n, generator=h, dtype=cg.float64)),
            (torch.rand(n, generator=g), cg.rand(n, generator=h)),
            (torch.randint(0, 27, (n,), generator=g), cg.randint(0, 27, (n,), generator=h)),
            (torch.randn(3, generator=g), cg.randn(3, generator=h)),
        ]
        for t, c in outs:
            assert _same(t, c), step
    assert _same(g.get_state(), h.get_state())  # identical states, byte for byte


RANGES = [(0, 1), (0, 10), (-5, 17), (0, 2**28 - 1), (0, 2**28), (0, 2**31), (0, 2**32), (-(2**40), 2**40 + 7)]


@pytest.mark.parametrize("low,high", RANGES)
def test_randint_equals_torch(low, high):
    torch = _torch()
    for seed in SEEDS[:3]:
        g, h = _pair(seed)
        assert _same(torch.randint(low, high, (50,), generator=g), cg.randint(low, high, (50,), generator=h))


def test_randint_signatures_and_dtype():
    torch = _torch()
    g, h = _pair(3)
    assert _same(torch.randint(10, (4, 3), generator=g), cg.randint(10, (4, 3), generator=h))
    assert _same(torch.randint(2, 9, size=(5,), generator=g), cg.randint(2, 9, size=(5,), generator=h))
    t = torch.randint(0, 100, (6,), generator=g, dtype=torch.float32)
    c = cg.randint(0, 100, (6,), generator=h, dtype=cg.float32)
    assert c.dtype == cg.float32 and _same(t, c)
    assert cg.randint(5, (2,)).dtype == cg.int64


@pytest.mark.parametrize("n", [0, 1, 2, 5, 27, 1000])
def test_randperm_equals_torch(n):
    torch = _torch()
    g, h = _pair(n + 1)
    assert _same(torch.randperm(n, generator=g), cg.randperm(n, generator=h))


@pytest.mark.parametrize("shape", [(27,), (1, 27), (4, 27), (3, 1000)])
def test_multinomial_equals_torch(shape):
    torch = _torch()
    rng = np.random.default_rng(sum(shape))
    for seed in range(8):
        p = rng.random(shape)
        p[rng.random(shape) < 0.3] = 0
        p[..., 0] += 0.1  # at least five non-zero weights per row
        p[..., 1:5] += 0.1
        for tdt, cdt in _dtypes():
            for num, rep in [(1, True), (20, True), (1, False), (5, False)]:
                g, h = _pair(seed)
                t = torch.multinomial(torch.tensor(p, dtype=tdt), num, rep, generator=g)
                c = cg.multinomial(cg.tensor(p, dtype=cdt), num, rep, generator=h)
                assert _same(t, c), (seed, tdt, num, rep)
    # the method form
    g, h = _pair(1)
    assert _same(
        torch.tensor([0.2, 0.8]).multinomial(3, True, generator=g),
        cg.tensor([0.2, 0.8]).multinomial(3, True, generator=h),
    )


def test_lecture_sampling_loop_equals_torch():
    """makemore part 1: names drawn one character at a time from a row of probabilities."""
    torch = _torch()
    rng = np.random.default_rng(0)
    P = rng.random((27, 27)).astype(np.float32)
    P /= P.sum(1, keepdims=True)
    tp, cp = torch.tensor(P), cg.tensor(P)
    g, h = _pair(2147483647)
    for _ in range(20):
        ix = jx = 0
        while True:
            ix = torch.multinomial(tp[ix], num_samples=1, replacement=True, generator=g).item()
            jx = cg.multinomial(cp[jx], num_samples=1, replacement=True, generator=h).item()
            assert ix == jx
            if ix == 0:
                break


def test_in_place_fills_equal_torch():
    torch = _torch()
    for tdt, cdt in _dtypes():
        for n in [7, 16, 50]:
            for a, b in [(-0.3, 0.7), (0.1, 0.1000001), (-1.5, 2.25)]:
                g, h = _pair(n)
                assert _same(
                    torch.empty(n, dtype=tdt).uniform_(a, b, generator=g),
                    cg.empty(n, dtype=cdt).uniform_(a, b, generator=h),
                )
            g, h = _pair(n)
            assert _same(
                torch.empty(n, dtype=tdt).exponential_(2.5, generator=g),
                cg.empty(n, dtype=cdt).exponential_(2.5, generator=h),
            )
            g, h = _pair(n)
            assert _same(
                torch.empty(n, dtype=tdt).bernoulli_(0.3, generator=g),
                cg.empty(n, dtype=cdt).bernoulli_(0.3, generator=h),
            )
            g, h = _pair(n)
            assert _same(
                torch.empty(n, dtype=tdt).random_(3, 9, generator=g), cg.empty(n, dtype=cdt).random_(3, 9, generator=h)
            )
        for n in [7, 15, 16, 33, 1000]:
            g, h = _pair(n)
            assert _same(
                torch.empty(n, dtype=tdt).normal_(0.3, 1.7, generator=g),
                cg.empty(n, dtype=cdt).normal_(0.3, 1.7, generator=h),
            )


def test_non_contiguous_fills_walk_memory_order():
    torch = _torch()
    for tdt, cdt in _dtypes():
        for fill in ["normal_", "uniform_", "exponential_"]:
            g, h = _pair(4)
            t = getattr(torch.empty(20, 30, dtype=tdt).t(), fill)(generator=g)
            c = getattr(cg.empty(20, 30, dtype=cdt).t(), fill)(generator=h)
            assert _same(t, c), (tdt, fill)
            g, h = _pair(5)
            t = getattr(torch.empty(20, 30, dtype=tdt)[:, ::2], fill)(generator=g)
            c = getattr(cg.empty(20, 30, dtype=cdt)[:, ::2], fill)(generator=h)
            assert _same(t, c), (tdt, fill)


def test_bernoulli_with_tensor_probabilities_equals_torch():
    torch = _torch()
    p = np.random.default_rng(1).random((5, 7))
    for tdt, cdt in _dtypes():
        g, h = _pair(9)
        assert _same(
            torch.bernoulli(torch.tensor(p, dtype=tdt), generator=g), cg.bernoulli(cg.tensor(p, dtype=cdt), generator=h)
        )
        g, h = _pair(9)
        assert _same(
            torch.zeros(5, 7, dtype=tdt).bernoulli_(torch.tensor(p[0], dtype=tdt), generator=g),
            cg.zeros(5, 7, dtype=cdt).bernoulli_(cg.tensor(p[0], dtype=cdt), generator=h),
        )


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_mask_equals_torch(p):
    torch = _torch()
    for tdt, cdt in _dtypes():
        for shape in [(5,), (40, 7), (300, 20)]:
            torch.manual_seed(11)
            cg.manual_seed(11)
            t = torch.nn.functional.dropout(torch.ones(shape, dtype=tdt), p)
            c = cF.dropout(cg.ones(shape, dtype=cdt), p)
            assert _same(t, c), (tdt, shape)
            torch.manual_seed(11)
            cg.manual_seed(11)
            t = torch.nn.Dropout(p)(torch.ones(shape, dtype=tdt).t())
            c = cg.nn.Dropout(p)(cg.ones(shape, dtype=cdt).t())
            assert _same(t, c), (tdt, shape, "transposed")


def test_dropout_in_place_and_gradient():
    torch = _torch()
    torch.manual_seed(3)
    cg.manual_seed(3)
    t = torch.ones(6, 5)
    c = cg.ones(6, 5)
    assert torch.nn.functional.dropout(t, 0.4, inplace=True) is t
    assert cF.dropout(c, 0.4, inplace=True) is c
    assert _same(t, c)
    x = cg.ones(4, 6, dtype=cg.float64, requires_grad=True)
    cg.manual_seed(5)
    y = cF.dropout(x, 0.25)
    y.sum().backward()
    assert _same(x.grad, y.detach())  # the gradient is the mask itself


def test_random_without_bounds_and_randint_keywords_equal_torch():
    torch = _torch()
    for tdt, cdt in _dtypes() + [(torch.int64, cg.int64)]:
        g, h = _pair(0)
        assert _same(torch.empty(50, dtype=tdt).random_(generator=g), cg.empty(50, dtype=cdt).random_(generator=h))
        assert _same(torch.empty(9, dtype=tdt).random_(7, generator=g), cg.empty(9, dtype=cdt).random_(7, generator=h))
    g, h = _pair(1)
    assert _same(torch.randint(high=10, size=(3,), generator=g), cg.randint(high=10, size=(3,), generator=h))
    assert _same(
        torch.randint(low=2, high=10, size=(3,), generator=g), cg.randint(low=2, high=10, size=(3,), generator=h)
    )
    for fn in ["rand_like", "randn_like"]:
        g, h = _pair(2)
        t = getattr(torch, fn)(torch.empty(4, 5, dtype=torch.float64), generator=g)
        c = getattr(cg, fn)(cg.empty(4, 5, dtype=cg.float64), generator=h)
        assert _same(t, c), fn
    g, h = _pair(2)
    assert _same(
        torch.randint_like(torch.empty(3, 4), 3, 9, generator=g), cg.randint_like(cg.empty(3, 4), 3, 9, generator=h)
    )
    g, h = _pair(4)
    assert _same(torch.normal(0.5, 2.0, (40,), generator=g), cg.normal(0.5, 2.0, (40,), generator=h))


@pytest.mark.parametrize("inp,out", [(3, 1), (27, 200), (10, 10), (1, 5), (100, 4)])
def test_linear_default_init_equals_torch(inp, out):
    torch = _torch()
    for seed in range(3):
        torch.manual_seed(seed)
        cg.manual_seed(seed)
        t, c = torch.nn.Linear(inp, out), cg.nn.Linear(inp, out)
        assert _same(t.weight, c.weight) and _same(t.bias, c.bias)


def test_init_functions_equal_torch():
    torch = _torch()
    tinit, cinit = torch.nn.init, cg.nn.init
    calls = [
        ("uniform_", (-0.2, 0.4)),
        ("normal_", (0.1, 0.3)),
        ("kaiming_uniform_", ()),
        ("kaiming_normal_", (0.0, "fan_out", "relu")),
        ("xavier_uniform_", (1.3,)),
        ("xavier_normal_", (0.7,)),
    ]
    for name, args in calls:
        for shape in [(3, 4), (30, 20)]:
            g, h = _pair(5)
            t = getattr(tinit, name)(torch.empty(shape, dtype=torch.float64), *args, generator=g)
            c = getattr(cinit, name)(cg.empty(shape, dtype=cg.float64), *args, generator=h)
            assert _same(t, c), (name, shape)
        for shape in [(3, 4), (30, 20)]:
            g, h = _pair(6)
            t = getattr(tinit, name)(torch.empty(shape), *args, generator=g)
            c = getattr(cinit, name)(cg.empty(shape), *args, generator=h)
            assert _same(t, c), (name, shape)


def test_global_seed_and_state_interoperate_with_torch():
    torch = _torch()
    torch.manual_seed(1234)
    cg.manual_seed(1234)
    assert torch.initial_seed() == cg.initial_seed() == 1234
    assert _same(torch.get_rng_state(), cg.get_rng_state())
    torch.randn(5, dtype=torch.float64)
    cg.randn(5, dtype=cg.float64)  # leaves a cached normal in both
    assert _same(torch.get_rng_state(), cg.get_rng_state())
    state = torch.Generator().manual_seed(99)
    torch.rand(1000, generator=state)
    h = cg.Generator().set_state(cg.tensor(state.get_state().tolist(), dtype=cg.get_rng_state().dtype))
    assert _same(torch.rand(10, generator=state), cg.rand(10, generator=h))
    assert torch.Generator().initial_seed() == cg.Generator().initial_seed()
    assert torch.Generator().manual_seed(-1).initial_seed() == cg.Generator().manual_seed(-1).initial_seed()


# --- without torch ---------------------------------------------------------------------------------


def test_same_seed_same_numbers():
    a = cg.Generator().manual_seed(5)
    b = cg.Generator().manual_seed(5)
    assert _same(cg.randn(100, generator=a), cg.randn(100, generator=b))
    cg.manual_seed(8)
    x = cg.rand(10)
    cg.manual_seed(8)
    assert _same(x, cg.rand(10))
    assert cg.manual_seed(8) is cg.default_generator
    assert cg.Generator().manual_seed(3).initial_seed() == 3


def test_state_round_trip():
    g = cg.Generator().manual_seed(77)
    cg.randn(3, generator=g, dtype=cg.float64)  # a cached normal is part of the state
    state = g.get_state()
    assert state.ndim == 1 and state.numel() == 5056
    first = cg.randn(50, generator=g)
    g.set_state(state)
    assert _same(first, cg.randn(50, generator=g))
    saved = cg.get_rng_state()
    y = cg.rand(4)
    cg.set_rng_state(saved)
    assert _same(y, cg.rand(4))


def test_fork_rng_restores_the_default_stream():
    cg.manual_seed(21)
    with cg.random.fork_rng():
        cg.randn(100)
    after = cg.rand(5)
    cg.manual_seed(21)
    assert _same(after, cg.rand(5))


def test_seed_is_fresh_and_reported():
    g = cg.Generator()
    s = g.seed()
    assert g.initial_seed() == s
    assert isinstance(cg.seed(), int)


def test_generator_from_two_threads_stays_sound():
    g = cg.Generator().manual_seed(0)
    errors = []

    def work():
        try:
            for _ in range(200):
                cg.randn(64, generator=g)
                cg.randint(0, 10, (16,), generator=g)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cg.rand(3, generator=g).shape == (3,)


def test_bad_inputs_raise_clear_errors():
    g = cg.Generator().manual_seed(0)
    p = cg.tensor([0.2, 0.3, 0.5])
    with pytest.raises(RuntimeError, match="num_samples <= 0"):
        cg.multinomial(p, 0, generator=g)
    with pytest.raises(RuntimeError, match="num_samples <= 0"):
        cg.multinomial(p, -3, True, generator=g)
    for bad in ([0.2, -0.1], [0.2, math.inf], [0.2, math.nan]):
        with pytest.raises(RuntimeError, match="inf, nan or element < 0"):
            cg.multinomial(cg.tensor(bad), 1, generator=g)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        cg.multinomial(cg.tensor([[0.5, 0.5], [0.0, 0.0]]), 1, generator=g)
    with pytest.raises(RuntimeError, match="without replacement"):
        cg.multinomial(p, 4, generator=g)
    with pytest.raises(RuntimeError, match="fewer than"):
        cg.multinomial(cg.tensor([0.0, 1.0, 0.0]), 2, generator=g)
    with pytest.raises(RuntimeError, match="1 or 2 dim"):
        cg.multinomial(cg.ones(2, 2, 2), 1, generator=g)
    with pytest.raises(RuntimeError, match="floating-point"):
        cg.multinomial(cg.tensor([1, 2]), 1, generator=g)
    with pytest.raises(RuntimeError, match="less than 'to'"):
        cg.randint(5, 5, (2,), generator=g)
    with pytest.raises(RuntimeError, match="less than 'to'"):
        cg.randint(7, 3, (2,))
    with pytest.raises(RuntimeError, match="int64 values"):
        cg.randint(0, 2**63, (2,))
    with pytest.raises(RuntimeError, match="finite range"):
        cg.empty(3).uniform_(-math.inf, 0.0)
    with pytest.raises(TypeError, match="generator must be a chaingrad.Generator"):
        cg.randn(3, generator=object())
    with pytest.raises(TypeError, match="manual_seed expected an int"):
        cg.manual_seed("seed")
    with pytest.raises(RuntimeError, match="5056 bytes"):
        g.set_state(cg.zeros(10, dtype=cg.get_rng_state().dtype))
    with pytest.raises(TypeError, match="Tensor of bytes"):
        g.set_state(b"\x00" * 5056)
    bad_state = g.get_state().tolist()
    bad_state[8:12] = [0, 0, 0, 0]  # 'left' of 0: no valid position
    with pytest.raises(RuntimeError, match="corrupt"):
        g.set_state(cg.tensor(bad_state, dtype=g.get_state().dtype))
    with pytest.raises(RuntimeError, match="std >= 0"):
        cg.empty(3).normal_(0.0, -1.0, generator=g)
    with pytest.raises(RuntimeError, match="from=.*to="):
        cg.empty(3).uniform_(2.0, 1.0, generator=g)
    with pytest.raises(RuntimeError, match="floating point"):
        cg.empty(3, dtype=cg.int64).normal_(generator=g)
    with pytest.raises(RuntimeError, match="lambda > 0"):
        cg.empty(3).exponential_(0.0, generator=g)
    with pytest.raises(RuntimeError, match=r"p to be in \[0, 1\]"):
        cg.empty(3).bernoulli_(1.5, generator=g)
    with pytest.raises(RuntimeError, match="non-negative"):
        cg.randperm(-1, generator=g)
    with pytest.raises(ValueError, match="between 0 and 1"):
        cF.dropout(cg.ones(3), 1.5)
    with pytest.raises(RuntimeError, match="only CPU"):
        cg.Generator("cuda")


def test_in_place_fill_of_a_leaf_that_requires_grad_is_refused():
    w = cg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        w.normal_()
    with cg.no_grad():
        w.normal_()
    cg.nn.init.uniform_(w)  # the initialisers work under no_grad


STORAGE_DTYPES = ["int32", "int16", "int8", "uint8", "float16", "bfloat16"]


@pytest.mark.parametrize("name", STORAGE_DTYPES)
def test_samplers_fill_storage_dtypes_in_place(name: str) -> None:
    """Every sampler writes a storage dtype through a compute-dtype buffer: values in range, no
    write outside the tensor (these once corrupted the heap)."""
    dt = getattr(cg, name)
    floating = dt.is_floating_point
    if floating:
        x = cg.randn(1000, dtype=dt)
        assert x.dtype == dt and 0.5 < x.float().std().item() < 1.5
        y = cg.zeros(1000, dtype=dt)
        assert y.normal_().float().abs().max().item() > 0 and y.uniform_().float().max().item() <= 1
        assert y.exponential_().float().min().item() >= 0
        assert set(cg.bernoulli(cg.full((64,), 0.5, dtype=dt)).float().tolist()) <= {0.0, 1.0}
        kept = cg.nn.functional.dropout(cg.ones(64, dtype=dt), 0.5)
        assert kept.dtype == dt and set(kept.float().tolist()) <= {0.0, 2.0}
        assert cg.multinomial(cg.ones(1000, dtype=dt), 5, True).shape == (5,)
    z = cg.randint(0, 10, (64,), dtype=dt)
    assert z.dtype == dt and 0 <= z.float().min().item() and z.float().max().item() < 10
    assert sorted(cg.randperm(100, dtype=dt).float().tolist()) == list(range(100))
    r = cg.full((64,), 7, dtype=dt).random_(0, 3)
    assert set(r.float().tolist()) <= {0.0, 1.0, 2.0}
    assert cg.zeros(8, dtype=dt).random_().dtype == dt


@pytest.mark.parametrize("name", ["int32", "int8", "uint8", "float16"])
def test_storage_dtype_draws_equal_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    for seed in (0, 7):
        g, tg = cg.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
        ours = cg.randint(0, 100, (20,), dtype=getattr(cg, name), generator=g).tolist()
        assert ours == torch.randint(0, 100, (20,), dtype=getattr(torch, name), generator=tg).tolist()


def test_randperm_refuses_counts_its_dtype_cannot_hold() -> None:
    for name, n in [("int8", 129), ("uint8", 257), ("float16", 2049), ("bfloat16", 257)]:
        with pytest.raises(RuntimeError, match="too large"):
            cg.randperm(n, dtype=getattr(cg, name))
    assert cg.randperm(128, dtype=cg.int8).shape == (128,)
