"""torch.utils's counterparts: data loading (chaingrad.utils.data)."""

from chaingrad.utils import data

__all__ = ["data"]
