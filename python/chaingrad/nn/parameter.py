"""nn.Parameter: a tensor that a Module registers as trainable."""

from __future__ import annotations

from typing import Any, Optional

from chaingrad import _core
from chaingrad.functional import zeros
from chaingrad.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor (requires_grad by default) that Modules list in parameters()."""

    __slots__ = ()

    def __new__(cls, data: Optional[Tensor] = None, requires_grad: bool = True) -> "Parameter":
        if data is None:
            data = zeros(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(data): data must be a Tensor, got {type(data).__name__}")
        return _core.as_subclass(data, cls, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild_parameter, (self.detach().cpu().numpy().copy(), self.requires_grad, str(self.device)))


def _rebuild_parameter(array: Any, requires_grad: bool, device: str = "cpu") -> Parameter:
    from chaingrad.functional import from_numpy
    return Parameter(from_numpy(array).to(device), requires_grad)
