"""The named tuples that ops returning several tensors give back, as torch.return_types: `max(dim)`
returns `max(values, indices)`, which unpacks, indexes and has `.values` and `.indices`.

Their repr is PyTorch's, "torch.return_types.max(...)", on purpose: the notes' programs run with
`import chaingrad as torch` and must print what PyTorch prints.
"""

from __future__ import annotations

import operator
from typing import Any, Tuple, Type

__all__ = ["max", "min", "sort", "topk", "histogram", "aminmax"]


class _ReturnType(tuple):
    """A tuple of an op's results with a name for each."""

    __slots__ = ()
    _fields: Tuple[str, ...] = ()

    def __new__(cls, *items: Any) -> "_ReturnType":
        if len(items) != len(cls._fields):
            raise TypeError(
                f"{cls.__name__} takes {len(cls._fields)} items ({', '.join(cls._fields)}), got {len(items)}"
            )
        return super().__new__(cls, items)

    def __repr__(self) -> str:
        body = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    def __reduce__(self) -> Any:
        return (type(self), tuple(self))


def _return_type(name: str, fields: Tuple[str, ...]) -> Type[_ReturnType]:
    namespace = {field: property(operator.itemgetter(i), doc=f"The {field} result.") for i, field in enumerate(fields)}
    namespace.update(
        __slots__=(),
        _fields=fields,
        __doc__=f"What {name}() returns: ({', '.join(fields)}).",
        __module__=__name__,
        __qualname__=name,
    )
    return type(name, (_ReturnType,), namespace)


max = _return_type("max", ("values", "indices"))
min = _return_type("min", ("values", "indices"))
sort = _return_type("sort", ("values", "indices"))
topk = _return_type("topk", ("values", "indices"))
histogram = _return_type("histogram", ("hist", "bin_edges"))
aminmax = _return_type("aminmax", ("min", "max"))
