"""The op table's nn.functional functions (F.gelu, F.silu, F.softplus, ...; see chaingrad._ops).
Their typed stub is nn/_ops.pyi, written by tools/gen_op_stubs.py."""

from chaingrad._ops import nn_functions as _nn_functions

globals().update(_nn_functions)
__all__ = sorted(_nn_functions)
