"""The Optimizer base: parameter groups, per-parameter state, zero_grad and state dicts."""

from __future__ import annotations

import copy
from typing import Any, Dict, Iterable, List, Union

from chaingrad.autograd import clear_grads, enable_grad
from chaingrad.tensor import Tensor

__all__ = ["Optimizer"]

Params = Union[Iterable[Tensor], Iterable[Dict[str, Any]]]


class Optimizer:
    """Holds param_groups (each a dict with 'params' and hyperparameters) and per-parameter state."""

    def __init__(self, params: Params, defaults: Dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: Dict[Tensor, Dict[str, Any]] = {}
        self.param_groups: List[Dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            f"dicts, but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: Dict[str, Any]) -> None:
        """Adds a group of parameters with its own hyperparameters (defaults fill the rest)."""
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
            if not p.dtype.is_floating_point:
                raise ValueError(f"optimizers update floating point tensors only, got {p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        full = dict(self.defaults)
        full.update({k: v for k, v in group.items() if k != "params"})
        full["params"] = params
        self.param_groups.append(full)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the gradients of every parameter (to None, or to zeros)."""
        clear_grads([p for group in self.param_groups for p in group["params"]], set_to_none)

    def step(self, closure: Any = None) -> Any:
        """Updates the parameters from their gradients (after calling closure, if given, for the loss)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._update()
        return loss

    def _update(self) -> None:
        raise NotImplementedError

    def _with_grads(self, group: Dict[str, Any]) -> List[Tensor]:
        return [p for p in group["params"] if p.grad is not None]

    def state_dict(self) -> Dict[str, Any]:
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}, as PyTorch."""
        index: Dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = ids
            groups.append(saved)
        state = {index[id(p)]: {k: (v.clone() if isinstance(v, Tensor) else v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restores hyperparameters and per-parameter state saved by state_dict()."""
        groups = state_dict.get("param_groups")
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        params = [p for g in self.param_groups for p in g["params"]]
        for mine, saved in zip(self.param_groups, groups):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the "
                                 "size of optimizer's group")
        self.state = {}
        for key, s in state_dict.get("state", {}).items():
            i = int(key)
            if not 0 <= i < len(params):
                raise ValueError(f"loaded state refers to parameter {i}, but there are {len(params)}")
            restored = {}
            for k, v in s.items():
                if isinstance(v, Tensor) and k != "step":
                    if tuple(v.shape) != tuple(params[i].shape):
                        raise ValueError(f"state '{k}' of parameter {i} has shape {tuple(v.shape)}, "
                                         f"expected {tuple(params[i].shape)}")
                    v = v.to(params[i].dtype).contiguous().clone()
                restored[k] = v
            self.state[params[i]] = restored
        for mine, saved in zip(self.param_groups, groups):
            for k, v in saved.items():
                if k != "params":
                    mine[k] = copy.deepcopy(v)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(k for k in group if k != "params"):
                lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)
