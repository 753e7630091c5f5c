"""Random generators: chaingrad.Generator, the default generator and the global seeding functions.

A Generator seeded like a torch.Generator draws PyTorch's CPU stream bit for bit (Note [random
generator] in cpp/tensor/random.cpp), so the lecture notebooks print PyTorch's numbers.
"""

from __future__ import annotations

import contextlib
import numbers
from typing import Any, Iterator, Optional

import numpy as np

from chaingrad import _core
from chaingrad._types import _device_spec, device, uint8

__all__ = [
    "Generator",
    "default_generator",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "fork_rng",
]

_STATE_BYTES = 5056  # a CPU generator's state (PyTorch's layout)
_SEED_MIN, _SEED_MAX = -0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF


def _state_tensor(state: bytes) -> Any:
    """The 1-D uint8 tensor of a state's bytes (PyTorch's ByteTensor)."""
    return _core.from_numpy(np.frombuffer(state, dtype=np.uint8).copy(), "always")


def _state_bytes(state: Any) -> bytes:
    """A state tensor's bytes, checked."""
    if not isinstance(state, _core.TensorBase):
        raise TypeError(f"set_state: expected a Tensor of bytes, got {type(state).__name__}")
    if state.dtype != uint8:
        raise TypeError(f"set_state: expected a {uint8} state tensor, got {state.dtype}")
    if state.ndim != 1 or state.numel() != _STATE_BYTES:
        raise RuntimeError(
            f"set_state: a CPU generator state is a 1-D tensor of {_STATE_BYTES} bytes, got shape {tuple(state.shape)}"
        )
    return np.asarray(state.tolist(), dtype=np.uint8).tobytes()


def _seed_value(seed: Any) -> int:
    """seed as the unsigned 64-bit number PyTorch seeds with (negative seeds wrap)."""
    try:
        seed = int(seed)  # as torch.manual_seed: floats truncate, numeric strings parse
    except (TypeError, ValueError):
        raise TypeError(f"manual_seed expected an int, got {type(seed).__name__}") from None
    if not _SEED_MIN <= seed <= _SEED_MAX:
        raise RuntimeError(f"manual_seed: seed {seed} is outside [{_SEED_MIN}, {_SEED_MAX}]")
    return seed & 0xFFFF_FFFF_FFFF_FFFF


class Generator(_core.GeneratorBase):
    """A CPU random generator: PyTorch's Mersenne Twister stream (torch.Generator)."""

    def __init__(self, device: Any = "cpu") -> None:
        if str(device) not in ("cpu", "cpu:0"):
            raise RuntimeError(f"chaingrad.Generator: only CPU generators exist, got device {device!r}")
        super().__init__()

    @property
    def device(self) -> device:
        """The generator's device: cpu."""
        return device("cpu")

    def manual_seed(self, seed: int) -> "Generator":
        """Restarts the stream from seed; returns self."""
        self._manual_seed(_seed_value(seed))
        return self

    def seed(self) -> int:
        """Seeds from the operating system's entropy; returns the seed."""
        return self._seed()

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self._initial_seed()

    def get_state(self) -> Any:
        """The generator's state as a 1-D tensor of bytes."""
        return _state_tensor(self._state_bytes())

    def set_state(self, new_state: Any) -> "Generator":
        """Restores a state from get_state(); returns self."""
        self._set_state_bytes(_state_bytes(new_state))
        return self

    def __repr__(self) -> str:
        # torch's repr with chaingrad for torch (a notebook cell ending in manual_seed() prints it)
        return f"<chaingrad._C.Generator object at {id(self):#x}>"


default_generator = Generator()
default_generator.seed()


def _generator(generator: Optional[Generator]) -> Generator:
    """The generator a sampler draws from: generator, or the default one."""
    if generator is None:
        return default_generator
    if not isinstance(generator, _core.GeneratorBase):
        raise TypeError(f"generator must be a chaingrad.Generator, got {type(generator).__name__}")
    return generator


def _multinomial(input: Any, num_samples: int, replacement: bool, generator: Optional[Generator]) -> Any:
    """torch.multinomial and Tensor.multinomial."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"multinomial(): num_samples must be an int, got {type(num_samples).__name__}")
    return _core.multinomial(input, int(num_samples), bool(replacement), _generator(generator))


def _bernoulli(input: Any, p: Optional[float], generator: Optional[Generator]) -> Any:
    """torch.bernoulli and Tensor.bernoulli: 1 with probability input[i] (or p), else 0."""
    out = _core.empty(list(input.shape), input.dtype, _device_spec(input.device))
    if p is None:
        _core.bernoulli_tensor_(out, input, _generator(generator))
    else:
        _core.bernoulli_(out, float(p), _generator(generator))
    return out


def manual_seed(seed: int) -> Generator:
    """Seeds the default generator (and every CUDA device's); returns the default generator."""
    value = _seed_value(seed)
    default_generator.manual_seed(value)
    _core.cuda_manual_seed(value)
    return default_generator


def seed() -> int:
    """Seeds the default generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state as a 1-D tensor of bytes."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restores the default generator's state."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, **kwargs: Any) -> Iterator[None]:
    """Restores the default generator's state on exit (the block's draws leave no trace). devices and
    torch's other keywords name CUDA generators, whose state is not forked."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
