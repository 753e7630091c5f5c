"""torch.autograd.Function: ops whose forward and backward are written in Python."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Tuple, Type, cast

from chaingrad import _core
from chaingrad.tensor import Tensor

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ctx passed to Function.forward and .backward: saved tensors and flags, plus any attribute set on it."""

    needs_input_grad: Tuple[bool, ...]

    if TYPE_CHECKING:  # forward keeps what backward needs as ctx attributes of any name (ctx.alpha = alpha)

        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    def __init__(self) -> None:
        self.needs_input_grad = ()
        self.to_save: Tuple[Any, ...] = ()
        self.materialize_grads = True
        self._saved: Optional[List[Optional[Tensor]]] = None  # what backward unpacks, set after forward
        self._versions: List[int] = []
        self._non_differentiable: List[Tensor] = []
        self._name = "Function"

    def save_for_backward(self, *tensors: Optional[Tensor]) -> None:
        """Keeps tensors (or None) for backward, which reads them back from ctx.saved_tensors."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type {type(t).__name__}"
                )
        self.to_save = tensors

    @property
    def saved_tensors(self) -> Tuple[Tensor, ...]:
        """The tensors passed to save_for_backward, checked not to have been modified in place since.

        Typed as PyTorch types it, a tuple of tensors, although a None saved comes back as None."""
        if self._saved is None:
            return cast(Tuple[Tensor, ...], tuple(self.to_save))
        for t, version in zip(self._saved, self._versions):
            if t is not None and t._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{t.dtype} tensor of shape {list(t.shape)}], saved by "
                    f"{self._name}, is at version {t._version}; expected version {version} instead."
                )
        return cast(Tuple[Tensor, ...], tuple(self._saved))

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """These outputs get no gradient: they do not require grad, and backward sees zeros (or None) for them."""
        self._non_differentiable.extend(outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward receives zeros (True, the default) or None for outputs that got no gradient."""
        self.materialize_grads = bool(value)


def _contains(items: Sequence[Any], t: Any) -> bool:
    return any(x is t for x in items)


class _Rule:
    """The Python half of a Function's node: runs backward and checks what it returns."""

    def __init__(
        self,
        cls: Type[Function],
        ctx: FunctionCtx,
        args: Tuple[Any, ...],
        outputs: List[Any],
        differentiable: List[bool],
    ) -> None:
        self.cls = cls
        self.ctx = ctx
        self.name = ctx._name
        # for each forward argument: None for a non-tensor, else (shape, dtype, device) of the tensor
        self.inputs = [(tuple(a.shape), a.dtype, a.device) if isinstance(a, Tensor) else None for a in args]
        self.outputs = [(tuple(o.shape), o.dtype, o.device) if isinstance(o, Tensor) else None for o in outputs]
        self.differentiable = differentiable  # per output: whether it got this node
        self.saved_outputs: List[int] = []  # the positions in ctx's saved tensors of the (one) output

    def __call__(
        self, grads: Tuple[Optional[Tensor], ...], attached: Optional[List[Tensor]] = None
    ) -> List[Optional[Tensor]]:
        """The inputs' gradients from the outputs' (attached: the saved output joined to the graph, in a
        create_graph pass)."""
        from chaingrad.functional import zeros

        it = iter(grads)
        full: List[Optional[Tensor]] = []
        for meta, diff in zip(self.outputs, self.differentiable):
            g = next(it) if diff else None
            if g is None and meta is not None and self.ctx.materialize_grads:
                g = zeros(*meta[0], dtype=meta[1] if meta[1].is_floating_point else None, device=meta[2])
            full.append(g)
        saved = self.ctx._saved
        if attached is not None and saved is not None:
            # for this pass only: kept after it, they would make the node own itself
            original = list(saved)
            for pos, view in zip(self.saved_outputs, attached):
                saved[pos] = view
            try:
                result = self.cls.backward(self.ctx, *full)
            finally:
                saved[:] = original
        else:
            result = self.cls.backward(self.ctx, *full)
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(self.inputs)
        if len(result) < expected or any(g is not None for g in result[expected:]):
            raise RuntimeError(
                f"function {self.name} returned an incorrect number of gradients "
                f"(expected {expected}, got {len(result)})"
            )
        out: List[Optional[Tensor]] = []
        for i, (g, meta) in enumerate(zip(result, self.inputs)):
            if meta is None:
                if g is not None:
                    raise RuntimeError(
                        f"function {self.name} returned a gradient different than None at position "
                        f"{i + 1}, but the corresponding forward input was not a Variable"
                    )
                continue
            if g is not None:
                if not isinstance(g, Tensor):
                    raise TypeError(
                        f"function {self.name} returned a {type(g).__name__} as gradient {i}; expected a Tensor or None"
                    )
                g = self._fit(g, meta, i)
            out.append(g)
        return out

    def _fit(self, g: Tensor, meta: Tuple[Any, Any, Any], i: int) -> Tensor:
        """g summed down to the input's shape when it is a broadcast of it (as PyTorch), else an error."""
        shape = meta[0]
        if tuple(g.shape) == shape:
            return g
        gshape = tuple(g.shape)
        lead = len(gshape) - len(shape)
        fits = lead >= 0 and all(s == 1 or s == gs for s, gs in zip(shape, gshape[lead:]))
        if not fits:
            raise RuntimeError(
                f"Function {self.name} returned an invalid gradient at index {i} - got "
                f"{list(gshape)} but expected shape compatible with {list(shape)}"
            )
        if lead:
            g = g.sum(tuple(range(lead)))
        dims = tuple(d for d, s in enumerate(shape) if s == 1 and g.shape[d] != 1)
        return g.sum(dims, keepdim=True) if dims else g


class _FunctionMeta(type):
    """Gives each Function subclass its node name, FooBackward, as PyTorch does."""

    def __init__(cls, name: str, bases: Tuple[type, ...], attrs: dict) -> None:
        super().__init__(name, bases, attrs)
        if "_backward_name" not in attrs:  # a built-in op may name its node as PyTorch does (NllLossBackward0)
            cls._backward_name = f"{name}Backward"


class Function(metaclass=_FunctionMeta):
    """Subclass with static forward(ctx, *args) and backward(ctx, *grads), then call Foo.apply(*args)."""

    _backward_name = "FunctionBackward"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Function objects are not created: call the class's static apply (Foo.apply(x)) instead")

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        """Computes the outputs from the inputs; runs without recording a graph."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """The gradient of each forward input (None for non-tensors) from the gradients of the outputs."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: Tuple[Any, ...], output: Any) -> None:
        """Optional (PyTorch 2 style): fills ctx from the inputs and output; forward then takes no ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Runs forward on args and, when an input requires grad, makes the outputs' grad_fn run backward."""
        from chaingrad.autograd import is_grad_enabled, no_grad

        ctx = FunctionCtx()
        ctx._name = cls._backward_name
        record = is_grad_enabled()
        ctx.needs_input_grad = tuple(record and isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            if cls.setup_context is not Function.setup_context:  # forward(*args), then setup_context
                result = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, result)
            else:
                result = cls.forward(ctx, *args, **kwargs)
        if not any(ctx.needs_input_grad):
            return result
        single = not isinstance(result, tuple)
        outputs = [result] if single else list(result)
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        for i, o in enumerate(outputs):
            if isinstance(o, Tensor) and (_contains(tensor_args, o) or o.requires_grad):
                # an input returned as is (or a tensor of another graph): a fresh alias becomes the output
                outputs[i] = _alias(o)
        differentiable = [
            isinstance(o, Tensor)
            and o.dtype.is_floating_point
            and not _contains(ctx._non_differentiable, result if single else result[i])
            for i, o in enumerate(outputs)
        ]
        ctx._non_differentiable = []  # the node keeps ctx: it need not keep these outputs alive
        output_positions = _save(ctx, result if single else tuple(result), outputs)
        attached = [o for o, d in zip(outputs, differentiable) if d]
        if attached:
            rule = _Rule(cls, ctx, args, outputs, differentiable)
            # a double backward through a saved output: for one output (several are constants of the rule)
            if len(outputs) == 1 and len(attached) == 1:
                rule.saved_outputs = output_positions
            # the node drops rule (ctx and the saved tensors) when the graph's saved tensors are freed
            _core.function_attach(
                cls._backward_name, attached, tensor_args, rule, [ctx._saved[i] for i in rule.saved_outputs]
            )
        return outputs[0] if single else tuple(outputs)


def _alias(t: Tensor) -> Tensor:
    """A new tensor over t's data without its autograd state."""
    return t.detach()


def _save(ctx: FunctionCtx, original: Any, outputs: List[Any]) -> List[int]:
    """Fixes what ctx saves: an output is kept as a detached alias (the node must not own its own
    output), anything else as it is; their versions are noted for the in-place check. Returns the
    positions of the outputs among the saved tensors."""
    originals = [original] if not isinstance(original, tuple) else list(original)
    saved: List[Optional[Tensor]] = []
    positions: List[int] = []
    for t in ctx.to_save:
        for orig, out in zip(originals, outputs):
            if isinstance(out, Tensor) and (t is orig or t is out):
                t = _alias(out)
                positions.append(len(saved))
                break
        saved.append(t)
    ctx._saved = saved
    ctx._versions = [t._version if t is not None else 0 for t in saved]
    ctx.to_save = ()
    return positions


def once_differentiable(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a backward as not differentiable itself: it runs without recording a graph."""
    import functools

    from chaingrad.autograd import no_grad

    @functools.wraps(fn)
    def wrapper(ctx: FunctionCtx, *args: Any) -> Any:
        with no_grad():
            return fn(ctx, *args)

    return wrapper
