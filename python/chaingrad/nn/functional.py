"""torch.nn.functional's activations, layers and losses on chaingrad tensors.

An op that is also a top-level function (relu, tanh, sigmoid, softmax, log_softmax, flatten) is
the same function object, re-exported from chaingrad.functional: each op has one definition."""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from chaingrad import _core
from chaingrad._types import bfloat16, bool_, dtype, float16, int64
from chaingrad.autograd.function import Function, FunctionCtx
from chaingrad.functional import arange, flatten, log_softmax, softmax, stack, where, zeros
from chaingrad.nn import _ops as _table_ops
from chaingrad.nn._ops import *  # noqa: F401,F403  the op table's activations (relu, gelu, silu, ...)
from chaingrad.random import _generator
from chaingrad.tensor import Tensor

__all__ = ["linear", "softmax", "log_softmax", "dropout", "flatten",
           "mse_loss", "l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits",
           "one_hot", "embedding", "batch_norm", "layer_norm"]
__all__ += _table_ops.__all__  # a separate +=: type checkers read the re-exports from this form only


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    _check_reduction(reduction, op)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(input: Tensor, target: Tensor, op: str) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: target size {tuple(target.shape)} differs from input size "
                         f"{tuple(input.shape)}; they must match (no silent broadcasting)")


def linear(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """input @ weight.T + bias, as one GEMM that accumulates into the broadcast bias."""
    return _core.linear(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes each element with probability p and scales the rest by 1/(1-p) (identity in eval)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    # the mask as PyTorch draws it (bernoulli(1 - p) in input's memory order, scaled by 1/(1-p)),
    # so the same seed drops the same elements
    noise = _core.dropout_noise(input, float(p), _generator(None))
    return input.mul_(noise) if inplace else input * noise


_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(input - target)^2, reduced, as one op (grad_fn MseLossBackward0)."""
    _check_reduction(reduction, "mse_loss")
    floating = getattr(getattr(input, "dtype", None), "is_floating_point", None)
    target_floating = getattr(getattr(target, "dtype", None), "is_floating_point", None)
    if floating is True and target_floating is False:
        # an integer target, promoted as PyTorch does: the fused op takes floating operands only
        _same_shape(input, target, "mse_loss")
        return _reduce((input - target) ** 2, reduction, "mse_loss")
    return _core.mse_loss(input, target, _REDUCTIONS[reduction])


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|input - target|, reduced."""
    _same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def one_hot(target: Tensor, num_classes: int = -1) -> Tensor:
    """int64 class indices as rows of zeros with a one at the index."""
    if target.dtype.is_floating_point or target.dtype is bool_:
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor (got {target.dtype})")
    if target.numel():
        lo, hi = stack([target.min(), target.max()]).tolist()  # one wait for a cuda target, not two
        if num_classes < 0:
            num_classes = hi + 1
        # RuntimeError with PyTorch's words, so that code catching PyTorch's error catches this one
        if lo < 0:
            raise RuntimeError(f"Class values must be non-negative (got {lo}).")
        if hi >= num_classes:
            raise RuntimeError(f"Class values must be smaller than num_classes (got {hi} for {num_classes}).")
    elif num_classes < 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    return (target.unsqueeze(-1) == arange(num_classes, device=target.device)).long()


def _legacy_reduction(size_average: Optional[bool], reduce: Optional[bool], reduction: str) -> str:
    """PyTorch's deprecated size_average/reduce flags as a reduction (they win when given)."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


class _NllLoss(Function):
    """-w[t_n] * logp[n, t_n] over rows (M, C), reduced; the one node PyTorch calls NllLossBackward0."""

    _backward_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx: FunctionCtx, logp: Tensor, picks: Tensor, row_weight: Tensor, denom: Optional[Tensor],
                reduction: str) -> Tensor:
        ctx.save_for_backward(picks, row_weight, denom)
        ctx.reduction = reduction
        # where, not a product with a one-hot: a -inf log-probability of another class stays out
        loss = 0.0 - where(picks, logp, 0.0).sum(1) * row_weight  # 0.0 - x: an ignored row gives 0., not -0.
        if reduction == "none":
            return loss
        return loss.sum() / denom if reduction == "mean" else loss.sum()

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tuple[Optional[Tensor], ...]:
        picks, row_weight, denom = ctx.saved_tensors
        if ctx.reduction == "mean":
            grad = grad / denom
        per_row = (-(grad * row_weight)).unsqueeze(1)  # differentiable in grad: double backward works
        return where(picks, per_row, 0.0), None, None, None, None


def _class_rows(input: Tensor, target: Tensor, op: str) -> Tuple[Tensor, Tensor, Tuple[int, ...]]:
    """input as rows (M, C) of class scores (classes are dim 1, or dim 0 unbatched), target as (M,)
    class indices, and the shape of the unreduced loss."""
    if input.ndim == 0:
        raise ValueError(f"{op}: expected input (C), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    if target.dtype.is_floating_point or target.dtype == bool_:
        raise RuntimeError(f"{op}: expected target dtype to be Long (int64) class indices, but got {target.dtype}")
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"{op}: an unbatched input (C,) takes a 0-d target, got {tuple(target.shape)}")
        return input.unsqueeze(0), target.reshape(1), ()
    if target.ndim == 0 or target.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.ndim else 0}).")
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise RuntimeError(f"{op}: expected target size {list(expected)}, got {list(target.shape)}")
    classes = input.shape[1]
    rows = input if input.ndim == 2 else input.permute(0, *range(2, input.ndim), 1).reshape(-1, classes)
    return rows, target.reshape(-1), expected


def _check_weight(weight: Optional[Tensor], op: str) -> None:
    if weight is not None and not isinstance(weight, Tensor):  # e.g. a reduction passed third, as before
        raise TypeError(f"{op}(): argument 'weight' (position 3) must be Tensor, not {type(weight).__name__}")


def _picks(rows: Tensor, target: Tensor, weight: Optional[Tensor], ignore_index: int,
           op: str) -> Tuple[Tensor, Tensor, Tensor]:
    """The target of each row as a one-hot mask (all false on an ignored row), the weight of each
    row's target (0 when ignored) and whether each row counts; bounds checked first."""
    classes = rows.shape[1]
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != classes):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    keep = target != ignore_index
    safe = where(keep, target, 0)
    if safe.numel():
        lo, hi = stack([safe.min(), safe.max()]).tolist()  # one wait for a cuda target, not two
        if lo < 0 or hi >= classes:
            bad = [v for v, k in zip(target.tolist(), keep.tolist()) if k and not 0 <= v < classes][0]
            raise IndexError(f"Target {bad} is out of bounds.")
    # an ignored row's -1 matches no class
    picks = where(keep, target, -1).unsqueeze(-1) == arange(classes, device=rows.device)
    row_weight = keep.to(rows.dtype)
    if weight is not None:
        row_weight = where(picks, weight.detach().to(rows.dtype), 0.0).sum(1)
    return picks, row_weight, keep


def nll_loss(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, size_average: Optional[bool] = None,
             ignore_index: int = -100, reduce: Optional[bool] = None, reduction: str = "mean") -> Tensor:
    """-weight[t] * input[n, t] for log-probabilities input (N, C, d...) (or (C,)) and class indices
    target (N, d...); targets equal to ignore_index count for nothing; the mean divides by the
    summed weights of the counted targets."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    _check_weight(weight, "nll_loss")
    rows, flat, shape = _class_rows(input, target, "nll_loss")
    picks, row_weight, _ = _picks(rows, flat, weight, ignore_index, "nll_loss")
    denom = row_weight.sum() if reduction == "mean" else None
    loss = _NllLoss.apply(rows, picks, row_weight, denom, reduction)
    return loss.reshape(shape) if reduction == "none" and tuple(loss.shape) != shape else loss


def _probability_cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor], reduction: str,
                               label_smoothing: float) -> Tensor:
    """-sum_c weight[c] target[n, c] log_softmax(input)[n, c] for class probabilities target."""
    dim = 0 if input.ndim == 1 else 1
    classes = input.shape[dim]
    if label_smoothing > 0:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    product = input.log_softmax(dim) * target
    if weight is not None:
        if weight.ndim != 1 or weight.shape[0] != classes:
            raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes but "
                               f"got weight tensor of shape: {list(weight.shape)}")
        product = product * weight.reshape(classes, *([1] * (input.ndim - dim - 1)))
    if reduction == "none":
        return -product.sum(dim)
    total = -product.sum()
    return total / (input.numel() // classes if classes else 0) if reduction == "mean" else total


def cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                  size_average: Optional[bool] = None, ignore_index: int = -100, reduce: Optional[bool] = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits (N, C, d...) (or (C,)) against class indices (N, d...) or
    class probabilities shaped like the input; the classes are dim 1, as in PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "cross_entropy")
    _check_weight(weight, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    # the fused path when no target can be ignored silently: a negative ignore_index (-100) is out of range
    if weight is None and label_smoothing == 0.0 and ignore_index < 0 and target.dtype == int64 and input.ndim == 2 \
            and input.dtype.is_floating_point and not input.is_cuda and not target.is_cuda and target.ndim == 1 \
            and target.shape[0] == input.shape[0]:
        try:  # log_softmax and the pick in one pass; it checks the targets before it computes
            return _core.cross_entropy(input, target, reduction)
        except IndexError:
            pass  # a target out of [0, C): ignore_index, or an error the general path words as PyTorch
    if target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape):
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _probability_cross_entropy(input, target, weight, reduction, label_smoothing)
    logp = input.log_softmax(0 if input.ndim == 1 else 1)
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return loss
    # (1 - eps) nll + eps/C * the loss against uniform targets, weighted and reduced as nll's
    rows, flat, shape = _class_rows(logp, target, "cross_entropy")
    picks, row_weight, keep = _picks(rows, flat, weight, ignore_index, "cross_entropy")
    weighted = rows if weight is None else rows * weight.detach().to(rows.dtype)
    smooth = 0.0 - where(keep.unsqueeze(-1), weighted, 0.0).sum(1)
    if reduction == "mean":
        smooth = smooth.sum() / row_weight.sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    else:
        smooth = smooth.reshape(shape)
    return loss * (1.0 - label_smoothing) + smooth * (label_smoothing / rows.shape[1])


class _Embedding(Function):
    """weight[input]; the gradient sums into the rows looked up (none into padding_idx's)."""

    _backward_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx: FunctionCtx, weight: Tensor, input: Tensor, padding_idx: Optional[int]) -> Tensor:
        ctx.save_for_backward(input)
        ctx.rows, ctx.padding_idx = weight.shape[0], padding_idx
        return weight[input]

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tuple[Optional[Tensor], ...]:
        (input,) = ctx.saved_tensors
        flat = input.reshape(-1)
        rows = grad.reshape(flat.shape[0], -1)
        if ctx.padding_idx is not None:  # no gradient into padding_idx's row
            rows = rows * (flat != ctx.padding_idx).unsqueeze(1).to(rows.dtype)
        table = zeros((ctx.rows, rows.shape[1]), dtype=rows.dtype, device=rows.device)
        return table.index_add(0, flat, rows), None, None  # index_add: differentiable in grad


def embedding(input: Tensor, weight: Tensor, padding_idx: Optional[int] = None, max_norm: Optional[float] = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of weight (num_embeddings, embedding_dim) at the integer indices input, shaped input.shape + (dim,)."""
    if not isinstance(input, Tensor) or input.dtype.is_floating_point or input.dtype == bool_:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {getattr(input, 'dtype', type(input).__name__)} instead "
                           "(while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a {weight.ndim}-d tensor")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % rows
    if input.numel():
        lo, hi = stack([input.min(), input.max()]).tolist()
        if lo < 0 or hi >= rows:
            raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    return _Embedding.apply(weight, input, padding_idx)


def _renorm_rows(weight: Tensor, input: Tensor, max_norm: float, norm_type: float) -> None:
    """Scales in place each row of weight looked up by input whose norm exceeds max_norm down to
    max_norm (PyTorch's max_norm= of embedding, with its 1e-7)."""
    from chaingrad.autograd import no_grad

    with no_grad():
        used = zeros(weight.shape[0], dtype=bool_, device=weight.device)
        used[input.reshape(-1)] = True  # O(rows + indices), no rows-by-indices table
        norms = weight.norm(norm_type, 1)
        over = used.to(weight.dtype) * (norms > max_norm).to(weight.dtype)
        weight.mul_(where(over > 0, max_norm / (norms + 1e-7), 1.0).unsqueeze(1).to(weight.dtype))


def _channel_shape(input: Tensor, size: int) -> Tuple[int, ...]:
    """(1, C, 1, ...): a per-channel vector as it broadcasts against input (N, C, d...)."""
    return (1, size) + (1,) * (input.ndim - 2)


def _normalized(x: Tensor, dims: Tuple[int, ...], eps: float) -> Tuple[Tensor, Tensor]:
    """(x - mean) / sqrt(var + eps) over dims (biased variance), and 1 / sqrt(var + eps)."""
    centered = x - x.mean(dims, keepdim=True)
    rstd = ((centered * centered).mean(dims, keepdim=True) + eps).rsqrt()
    return centered * rstd, rstd


_HALF = (float16, bfloat16)


def _widened(*tensors: Optional[Tensor]) -> List[Optional[Tensor]]:
    """The tensors in float32 (None stays None)."""
    return [None if t is None else t.float() for t in tensors]


class _Normalize(Function):
    """y = (x - mean) * rstd * weight + bias with mean and rstd from x over dims (batch statistics)
    or given (running statistics); weight and bias shaped to broadcast. The backward is written in
    differentiable ops on the saved input, so a double backward works."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, weight: Optional[Tensor], bias: Optional[Tensor],
                dims: Tuple[int, ...], eps: float, stats: Optional[Tuple[Tensor, Tensor]]) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.dims, ctx.eps, ctx.stats = dims, eps, stats
        if x.dtype in _HALF:  # computed in float32 and rounded once, as PyTorch's CPU kernels
            wide_stats = None if stats is None else (stats[0].float(), stats[1].float())
            return _Normalize._forward_in(*_widened(x, weight, bias), dims, eps, wide_stats).to(x.dtype)
        return _Normalize._forward_in(x, weight, bias, dims, eps, stats)

    @staticmethod
    def _forward_in(x: Tensor, weight: Optional[Tensor], bias: Optional[Tensor], dims: Tuple[int, ...], eps: float,
                    stats: Optional[Tuple[Tensor, Tensor]]) -> Tensor:
        """The forward in x's dtype."""
        if stats is None:
            out, _ = _normalized(x, dims, eps)
        else:
            mean, var = stats
            out = (x - mean) * (var + eps).rsqrt()
        if weight is not None:
            out = out * weight
        return out + bias if bias is not None else out

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tuple[Optional[Tensor], ...]:
        x, weight = ctx.saved_tensors
        if x.dtype in _HALF:
            return _Normalize._backward_in(ctx, *_widened(grad, x, weight), x.dtype)
        return _Normalize._backward_in(ctx, grad, x, weight, None)

    @staticmethod
    def _backward_in(ctx: FunctionCtx, grad: Tensor, x: Tensor, weight: Optional[Tensor],
                     narrow: Optional[dtype]) -> Tuple[Optional[Tensor], ...]:
        """The backward in grad's dtype; the gradients are rounded to narrow when given."""
        dims = ctx.dims
        if ctx.stats is None:
            xhat, rstd = _normalized(x, dims, ctx.eps)
        else:
            mean, var = ctx.stats
            rstd = (var + ctx.eps).rsqrt()
            xhat = (x - mean) * rstd
        gx = grad * weight if weight is not None else grad
        if ctx.stats is None:  # the statistics depend on x too
            gx = gx - gx.mean(dims, keepdim=True) - xhat * (gx * xhat).mean(dims, keepdim=True)
        gx = gx * rstd
        needs = ctx.needs_input_grad
        gw = _sum_to(grad * xhat, weight) if weight is not None and needs[1] else None
        gb = _sum_to(grad, weight if weight is not None else xhat) if needs[2] else None
        grads = (gx if needs[0] else None, gw, gb)
        if narrow is not None:
            grads = tuple(None if g is None else g.to(narrow) for g in grads)
        return (*grads, None, None, None)


def _sum_to(t: Tensor, like: Tensor) -> Tensor:
    """t summed over the dims that like (a parameter shaped to broadcast against t) spreads over."""
    lead = t.ndim - like.ndim
    spread = (lead + d for d in range(like.ndim) if like.shape[d] == 1 and t.shape[lead + d] != 1)
    dims = tuple(range(lead)) + tuple(spread)
    return t.sum(dims).reshape(*like.shape) if dims else t


class _BatchNorm(_Normalize):
    _backward_name = "NativeBatchNormBackward0"


class _LayerNorm(_Normalize):
    _backward_name = "NativeLayerNormBackward0"


def batch_norm(input: Tensor, running_mean: Optional[Tensor], running_var: Optional[Tensor],
               weight: Optional[Tensor] = None, bias: Optional[Tensor] = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalizes each channel (dim 1) of input (N, C, d...) by the batch's mean and biased variance
    (training) or by the running statistics, then scales and shifts; in training, the running
    statistics move towards the batch's (with the unbiased variance), in place."""
    from chaingrad.autograd import no_grad

    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input (N, C, ...), got shape {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(f"batch_norm: {name} should contain {channels} elements not {t.numel()}")
    shape = _channel_shape(input, channels)
    dims = (0,) + tuple(range(2, input.ndim))
    stats = None
    if training:
        count = input.numel() // channels if channels else 0
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        if running_mean is not None or running_var is not None:
            with no_grad():
                mean = input.mean(dims, keepdim=True)
                centered = input - mean
                var = (centered * centered).mean(dims)
                if running_mean is not None:
                    running_mean.copy_(running_mean * (1.0 - momentum) + mean.reshape(channels) * momentum)
                if running_var is not None:
                    unbiased = var * (count / (count - 1))
                    running_var.copy_(running_var * (1.0 - momentum) + unbiased * momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var are needed when training=False")
        stats = (running_mean.detach().reshape(shape), running_var.detach().reshape(shape))
    return _BatchNorm.apply(input, None if weight is None else weight.reshape(shape),
                            None if bias is None else bias.reshape(shape), dims, eps, stats)


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Optional[Tensor] = None,
               bias: Optional[Tensor] = None, eps: float = 1e-5) -> Tensor:
    """Normalizes over the last len(normalized_shape) dims by their mean and biased variance, then
    scales and shifts elementwise."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [*, "
                           f"{', '.join(map(str, shape))}], but got input of size {list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"layer_norm: {name} of shape {list(t.shape)} does not match normalized_shape "
                               f"{list(shape)}")
    dims = tuple(range(input.ndim - k, input.ndim))
    return _LayerNorm.apply(input, weight, bias, dims, eps, None)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(input) against target, computed stably from the logits."""
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    target = target.to(input.dtype)
    # max(x, 0) - x*y + log(1 + e^-|x|)
    loss = input.relu() - input * target + ((-input.abs()).exp() + 1.0).log()
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


