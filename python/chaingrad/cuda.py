"""chaingrad.cuda: the CUDA devices, as torch.cuda. Every query answers on a machine without a GPU
(or a build without CUDA); only asking for a cuda tensor there raises, naming the reason."""

from __future__ import annotations

import glob
import importlib.util
import os
from typing import Any, List, Optional, Tuple

from chaingrad import _core
from chaingrad._types import _device_spec

__all__ = ["is_available", "device_count", "current_device", "get_device_name", "synchronize",
           "manual_seed", "manual_seed_all", "memory_allocated", "max_memory_allocated", "empty_cache",
           "unavailable_reason", "cublas_status"]

def _index(device: Any) -> int:
    """The device index of None (device 0), an int, 'cuda:N' or a chaingrad.device."""
    spec = _device_spec("cuda" if device is None else device)
    if spec == "cpu":
        raise ValueError(f"Expected a cuda device, but got: {device}")
    return int(spec[5:])


def is_available() -> bool:
    """True when chaingrad was built with CUDA and a driver reports at least one device."""
    return _core.cuda_device_count() > 0


def device_count() -> int:
    """The number of usable CUDA devices (0 without CUDA, a driver or a device)."""
    return _core.cuda_device_count()


def unavailable_reason() -> str:
    """Why no CUDA device can be used ('' when one can)."""
    return _core.cuda_unavailable_reason()


def current_device() -> int:
    """The default CUDA device's index (always 0: 'cuda' means cuda:0)."""
    return 0


def get_device_name(device: Any = None) -> str:
    """The device's name, such as 'NVIDIA H100 80GB HBM3'."""
    return _core.cuda_device_name(_index(device))


def synchronize(device: Any = None) -> None:
    """Waits until every kernel queued on the device has finished."""
    _core.cuda_synchronize(_index(device))


def manual_seed(seed: int) -> None:
    """Seeds the CUDA generators (chaingrad.manual_seed seeds them too)."""
    _core.cuda_manual_seed(int(seed) & 0xFFFFFFFFFFFFFFFF)


manual_seed_all = manual_seed


def memory_allocated(device: Any = None) -> int:
    """Bytes of device memory held by live tensors."""
    return _core.cuda_memory_allocated(_index(device))


def max_memory_allocated(device: Any = None) -> int:
    """The peak of memory_allocated since the process started."""
    return _core.cuda_max_memory_allocated(_index(device))


def empty_cache() -> None:
    """Returns the caching allocator's unused blocks to the driver (other processes can use them)."""
    _core.cuda_empty_cache()


def _cublas_candidates() -> List[str]:
    """libcublas from the nvidia-cublas wheel (nvidia/cu13/lib or nvidia/cublas/lib), the newest
    major version first."""
    spec = importlib.util.find_spec("nvidia")
    if spec is None or not spec.submodule_search_locations:
        return []
    found: List[str] = []
    for base in spec.submodule_search_locations:
        found += glob.glob(os.path.join(base, "*", "lib", "libcublas.so.*"))

    def version(path: str) -> Tuple[int, ...]:
        tail = path.rsplit(".so.", 1)[-1]
        return tuple(int(p) for p in tail.split(".") if p.isdigit())

    return sorted(found, key=version, reverse=True)


def cublas_status() -> Optional[str]:
    """None when float matmuls go through cuBLAS, else why chaingrad's own kernel is used (cuBLAS
    is opened at the first float matmul on a GPU)."""
    return _core.cuda_cublas_status() or None


if _core.cuda_is_built():
    _core.cuda_set_cublas_paths(_cublas_candidates())
