"""The built-in layers and losses of chaingrad.nn (PyTorch's names, arguments and reprs)."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any, Dict, Iterator, Union

from chaingrad.functional import empty
from chaingrad.nn import functional as F
from chaingrad.nn import init
from chaingrad.nn.module import Module
from chaingrad.nn.parameter import Parameter
from chaingrad.tensor import Tensor

__all__ = ["Linear", "Sequential", "Flatten", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax",
           "GELU", "SiLU", "LeakyReLU", "ELU", "Softplus", "Hardtanh", "LogSigmoid",
           "Dropout", "Identity", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss",
           "BCEWithLogitsLoss", "BUILTIN_MODULES"]


class Linear(Module):
    """y = x @ weight.T + bias, initialised as PyTorch does (uniform in ±1/sqrt(in_features))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: sizes must be non-negative, got {in_features} and {out_features}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        self.bias = Parameter(empty(out_features, dtype=dtype, device=device)) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, U(±1/sqrt(fan_in)) for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        # the parameters straight from their table: self.weight would fail the ordinary attribute
        # lookup before Module.__getattr__ finds it (half a microsecond each, per call)
        params = self._parameters
        if type(self) is Linear and "weight" in params and "bias" in params:
            weight, bias = params["weight"], params["bias"]
        else:  # a weight re-registered as a plain tensor (del m.weight; m.weight = w * mask), a subclass's property
            weight, bias = self.weight, self.bias
        try:
            return F.linear(input, weight, bias)
        except RuntimeError:
            if isinstance(input, Tensor) and (input.ndim == 0 or input.shape[-1] != self.in_features):
                raise RuntimeError(f"Linear: expected input with last dimension {self.in_features}, got shape "
                                   f"{tuple(input.shape)}") from None
            raise

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def _config(self) -> Dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.bias is not None}


class Sequential(Module):
    """Modules applied in order; indexable like a list."""

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: entry {name!r} is {type(m).__name__}, not a Module")
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} is {type(m).__name__}, not a Module")
                self.add_module(str(i), m)

    def forward(self, input: Any) -> Any:
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, idx: Union[int, slice]) -> Union[Module, "Sequential"]:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        if not -len(modules) <= idx < len(modules):
            raise IndexError(f"index {idx} is out of range")
        return modules[idx]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> "Sequential":
        """Adds a module at the end."""
        self.add_module(str(len(self)), module)
        return self


class Flatten(Module):
    """Merges dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def _config(self) -> Dict[str, Any]:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}


class _Activation(Module):
    def _config(self) -> Dict[str, Any]:
        return {}


class ReLU(_Activation):
    """max(x, 0)."""

    def forward(self, input: Tensor) -> Tensor:
        return input.relu()


class Tanh(_Activation):
    """tanh(x)."""

    def forward(self, input: Tensor) -> Tensor:
        return input.tanh()


class Sigmoid(_Activation):
    """1 / (1 + e^-x)."""

    def forward(self, input: Tensor) -> Tensor:
        return input.sigmoid()


class GELU(_Activation):
    """x Phi(x) (approximate='none'), or its tanh approximation (approximate='tanh')."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

    def _config(self) -> Dict[str, Any]:
        return {"approximate": self.approximate}


class SiLU(_Activation):
    """x sigmoid(x)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)


class LeakyReLU(_Activation):
    """x where x > 0, else negative_slope x."""

    def __init__(self, negative_slope: float = 1e-2) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def _config(self) -> Dict[str, Any]:
        return {"negative_slope": self.negative_slope}


class ELU(_Activation):
    """x where x > 0, else alpha (e^x - 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"

    def _config(self) -> Dict[str, Any]:
        return {"alpha": self.alpha}


class Softplus(_Activation):
    """log(1 + e^(beta x)) / beta, and x where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"

    def _config(self) -> Dict[str, Any]:
        return {"beta": self.beta, "threshold": self.threshold}


class Hardtanh(_Activation):
    """x limited to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        if max_val <= min_val:  # as PyTorch
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def _config(self) -> Dict[str, Any]:
        return {"min_val": self.min_val, "max_val": self.max_val}


class LogSigmoid(_Activation):
    """log(sigmoid(x)), computed without overflow."""

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class Identity(_Activation):
    """x unchanged."""

    def forward(self, input: Tensor) -> Tensor:
        return input


class Softmax(Module):
    """Softmax along dim."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return input.softmax(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def _config(self) -> Dict[str, Any]:
        return {"dim": self.dim}


class LogSoftmax(Softmax):
    """Log-softmax along dim."""

    def forward(self, input: Tensor) -> Tensor:
        return input.log_softmax(self.dim)


class Dropout(Module):
    """Zeroes elements with probability p while training, scaling the rest by 1/(1-p)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"

    def _config(self) -> Dict[str, Any]:
        return {"p": self.p}


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def _config(self) -> Dict[str, Any]:
        return {"reduction": self.reduction}


class MSELoss(_Loss):
    """Mean (or sum) of squared differences."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean (or sum) of absolute differences."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against class indices or class probabilities."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities against class indices."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), computed stably."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


#: The modules a checkpoint may rebuild without running code from the file.
BUILTIN_MODULES = {cls.__name__: cls for cls in (
    Linear, Sequential, Flatten, ReLU, Tanh, Sigmoid, Softmax, LogSoftmax, Dropout, Identity,
    GELU, SiLU, LeakyReLU, ELU, Softplus, Hardtanh, LogSigmoid, MSELoss, L1Loss, CrossEntropyLoss, NLLLoss,
    BCEWithLogitsLoss)}
