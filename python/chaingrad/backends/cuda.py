"""chaingrad.backends.cuda: whether this build has the CUDA kernels."""

from chaingrad import _core

__all__ = ["is_built"]


def is_built() -> bool:
    """True when chaingrad was compiled with its CUDA kernels (built with CHAINGRAD_CUDA=ON)."""
    return _core.cuda_is_built()
