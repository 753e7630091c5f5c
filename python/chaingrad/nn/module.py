"""nn.Module: parameters and submodules registered by attribute assignment, as in PyTorch."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Set, Tuple, TypeVar, Union

from chaingrad import autograd
from chaingrad._types import device, float32, float64
from chaingrad.nn.parameter import Parameter
from chaingrad.tensor import Tensor, _to_arguments

__all__ = ["Module"]

_M = TypeVar("_M", bound="Module")  # methods that return self give back the caller's own class


class _IncompatibleKeys(NamedTuple):
    missing_keys: List[str]
    unexpected_keys: List[str]


class Module:
    """Base class of every layer and model: call it to run forward()."""

    training: bool
    # set in __init__ with object.__setattr__ (this class's __setattr__ reads them)
    _parameters: "OrderedDict[str, Optional[Parameter]]"
    _buffers: "OrderedDict[str, Optional[Tensor]]"
    _modules: "OrderedDict[str, Module]"  # add_module(name, None) leaves a None, which every walk skips

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # --- registration ---
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign attributes before Module.__init__() call")
        if name in self._parameters and not isinstance(value, Parameter):
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(chaingrad.nn.Parameter or None expected)")
            self._parameters[name] = None
            return
        if name in self._buffers and (value is None or isinstance(value, Tensor)):
            self._buffers[name] = value
            return
        for table in (self._parameters, self._modules, self._buffers):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Union[Tensor, "Module"]:
        # typed, not Any: a misspelt attribute (model.paramters()) is then still a type error
        for table in ("_parameters", "_modules", "_buffers"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._modules, self._buffers):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Optional[Parameter]) -> None:
        """Adds (or, with None, clears) a parameter under name."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' as parameter '{name}' "
                            "(a Parameter or None is required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Optional[Tensor], persistent: bool = True) -> None:
        """Adds a tensor that is moved with the module but not trained (in the state dict when persistent)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(chaingrad Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self.__dict__.get("_non_persistent_buffers", set()).discard(name)
        else:  # created only when needed: a checkpoint of an ordinary module carries no such attribute
            self.__dict__.setdefault("_non_persistent_buffers", set()).add(name)

    def add_module(self, name: str, module: Optional["Module"]) -> None:
        """Adds a submodule under name."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module  # type: ignore[assignment]  # the None that _modules' walks skip

    def register_module(self, name: str, module: Optional["Module"]) -> None:
        """add_module under its other name."""
        self.add_module(name, module)

    def get_submodule(self, target: str) -> "Module":
        """The submodule at the dotted path target ('' is this module)."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
            module = child
        return module

    def apply(self: _M, fn: Callable[["Module"], Any]) -> _M:
        """Calls fn on every submodule (children first) and then on this module; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- traversal ---
    def named_modules(self, prefix: str = "") -> Iterator[Tuple[str, "Module"]]:
        """This module and every submodule, with dotted names, each once."""
        seen: Set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop(0)
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack[0:0] = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items() if m is not None]

    def _module_list(self) -> List["Module"]:
        """This module and every submodule, each once, in named_modules' order, without their names."""
        out: List[Module] = []
        seen: Set[int] = set()
        stack: List[Optional[Module]] = [self]
        while stack:
            module = stack.pop()
            if module is None or id(module) in seen:  # None: a submodule slot set to None
                continue
            seen.add(id(module))
            out.append(module)
            if module._modules:
                stack.extend(reversed(module._modules.values()))
        return out

    def modules(self) -> Iterator["Module"]:
        """This module and every submodule."""
        return iter(self._module_list())

    def named_children(self) -> Iterator[Tuple[str, "Module"]]:
        """The direct submodules with their names."""
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator["Module"]:
        """The direct submodules."""
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[Tuple[str, Parameter]]:
        """Every parameter with its dotted name, each once."""
        seen: Set[int] = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (what an optimizer trains), in named_parameters' order."""
        seen: Set[int] = set()
        for module in self._module_list() if recurse else [self]:
            for p in module._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(self, prefix: str = "") -> Iterator[Tuple[str, Tensor]]:
        """Every buffer with its dotted name."""
        for mod_name, module in self.named_modules(prefix):
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self) -> Iterator[Tensor]:
        """Every buffer."""
        for _, b in self.named_buffers():
            yield b

    # --- modes and dtypes ---
    def train(self: _M, mode: bool = True) -> _M:
        """Sets training mode (Dropout is active) on this module and its submodules."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self: _M) -> _M:
        """train(False)."""
        return self.train(False)

    def requires_grad_(self: _M, requires_grad: bool = True) -> _M:
        """Sets requires_grad on every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears every parameter's gradient (to None, or to zeros)."""
        autograd.clear_grads(list(self.parameters()), set_to_none)

    def to(self: _M, *args: Any, **kwargs: Any) -> _M:
        """Moves and/or converts the parameters, their gradients and the buffers: to(device),
        to(dtype), to(device, dtype) or to(tensor). The Parameter objects stay the same, so an
        optimizer keeps working (its state follows the parameters at its next step)."""
        where, target = _to_arguments(args, kwargs)
        if target is not None and not target.is_floating_point:
            raise TypeError(f"Module.to() only accepts floating point dtypes, got {target}")
        if where is not None:
            where = device(where)

        def convert(t: Tensor) -> Tensor:
            out = t if where is None else t.to(where)
            return out.to(target) if target is not None and t.dtype.is_floating_point else out

        with autograd.no_grad():
            for module in self.modules():
                for p in module._parameters.values():
                    if p is None:
                        continue
                    grad = p.grad
                    moved = convert(p)
                    if moved is not p:
                        p.data = moved  # same Parameter object: optimizers keep working
                    if grad is not None:
                        p.grad = convert(grad)
                for name, b in list(module._buffers.items()):
                    if b is not None:
                        module._buffers[name] = convert(b)
        return self

    def cuda(self: _M, device: Any = None) -> _M:
        """to('cuda') (or to the given CUDA device)."""
        return self.to("cuda" if device is None else device if not isinstance(device, int) else f"cuda:{device}")

    def cpu(self: _M) -> _M:
        """to('cpu')."""
        return self.to("cpu")

    def float(self: _M) -> _M:
        """to(float32)."""
        return self.to(float32)

    def double(self: _M) -> _M:
        """to(float64)."""
        return self.to(float64)

    # --- state ---
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Every parameter and persistent buffer by dotted name, module by module as PyTorch orders
        them (detached tensors sharing the data, or the tensors themselves with keep_vars)."""
        out: "OrderedDict[str, Tensor]" = OrderedDict()
        seen: Set[int] = set()  # a parameter shared by two modules is listed once
        for mod_name, module in self.named_modules():
            base = prefix + (f"{mod_name}." if mod_name else "")
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    out[base + name] = p if keep_vars else p.detach()
            skipped = module.__dict__.get("_non_persistent_buffers", ())
            for name, b in module._buffers.items():
                if b is not None and name not in skipped:
                    out[base + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: Dict[str, Tensor], strict: bool = True) -> _IncompatibleKeys:
        """Copies tensors into the parameters and buffers of the same names (shapes must match)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        own: Dict[str, Tensor] = dict(self.state_dict(keep_vars=True))
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                errors.append(f'While copying the parameter named "{key}", expected a Tensor, '
                              f'got {type(value).__name__}.')
            elif tuple(value.shape) != tuple(target.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                              f"checkpoint, the shape in current model is {target.shape}.")
        if strict:
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with autograd.no_grad():
            for key, target in own.items():
                if key in state_dict:
                    target.copy_(state_dict[key])
        return _IncompatibleKeys(missing, unexpected)

    # --- calling and printing ---
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The part of repr inside the parentheses (the layer's settings)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                return main + lines[0] + ")"
            return main + "\n  " + "\n  ".join(lines) + "\n)"
        return main + ")"

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules) | set(self._buffers))
