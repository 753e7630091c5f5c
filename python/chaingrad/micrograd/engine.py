"""micrograd.engine on chaingrad: `Value` is the C++ scalar node type."""

from chaingrad._core import Value

__all__ = ["Value"]
