"""chaingrad.backends: what this build of chaingrad can run on, as torch.backends."""

from chaingrad.backends import cuda

__all__ = ["cuda"]
