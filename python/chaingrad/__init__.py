"""chaingrad: a backpropagation engine with a C++ graph core.

`Value` is micrograd's scalar autograd type; `chaingrad.micrograd` mirrors micrograd's modules,
`chaingrad.net` is the course's gate network, and `chaingrad.demos` runs the notes' programs.
"""

from ._core import Value

__version__ = "0.1.0"
__all__ = ["Value", "__version__"]
