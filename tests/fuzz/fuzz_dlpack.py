"""Fuzz chaingrad.from_dlpack with hand-built DLPack capsules.

Run (chaingrad importable; from a source tree add PYTHONPATH=python):

    python tests/fuzz/fuzz_dlpack.py -max_total_time=60

Replay a failing input (prints the capsule and what went wrong):

    python tests/fuzz/fuzz_dlpack.py CRASHFILE

Each input is decoded into one capsule: a DLManagedTensor or DLManagedTensorVersioned built with
ctypes (fuzzed ndim, shape, strides or NULL, dtype code/bits/lanes, device type and id,
byte_offset, data NULL or a buffer, a deleter or NULL), named "dltensor", "dltensor_versioned" or
something else, and handed to chaingrad.from_dlpack directly or through an object with
__dlpack__ and __dlpack_device__ (both reach chaingrad's own importer). Expected:

- a malformed capsule raises a Python exception, leaves the capsule unconsumed and never calls
  the deleter;
- a well-formed one gives a tensor of the right dtype and shape whose elements equal numpy's
  reading of the same bytes, sharing the memory (a copy of it when flagged read-only), and the
  deleter runs exactly once when the tensor is gone;
- some well-formed capsules may be refused (negative strides, CUDA-host memory, a misaligned
  byte_offset): then raising is fine too;
- never a crash, and never a read outside the buffer: the buffer is sized exactly and sits right
  before (or right after) an inaccessible page, so an overread faults at once even without ASan.

The fuzzer only builds capsules whose fields a consumer can check or that tell the truth about
their buffer: a data pointer, shape or byte_offset that lies about how much memory there is
cannot be detected by any consumer, so it is never generated. Disagreements raise AssertionError
unless KNOWN below explains them.
"""

from __future__ import annotations

import ctypes
import faulthandler
import math
import mmap
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import atheris
import numpy as np

with atheris.instrument_imports(include=["chaingrad"]):
    import chaingrad

# --- the DLPack ABI (dlpack.h 1.x) -------------------------------------------------------------


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", DLDataType), ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p),
                ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("version", DLPackVersion), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p),
                ("flags", ctypes.c_uint64), ("dl_tensor", DLTensor)]


KDL_CPU, KDL_CUDA, KDL_CUDA_HOST, KDL_CUDA_MANAGED = 1, 2, 3, 13
CHAINGRAD_DTYPES = {(2, 32): np.float32, (2, 64): np.float64, (0, 64): np.int64, (6, 8): np.bool_, (0, 32): np.int32,
                    (0, 16): np.int16, (0, 8): np.int8, (1, 8): np.uint8, (2, 16): np.float16, (4, 16): np.uint16}
BFLOAT16 = (4, 16)  # no numpy type: its bytes are read as uint16 and compared with the float32 they widen to
NUMPY_DTYPES = {(0, 8): np.int8, (0, 16): np.int16, (0, 32): np.int32, (0, 64): np.int64, (1, 8): np.uint8,
                (1, 16): np.uint16, (1, 32): np.uint32, (1, 64): np.uint64, (2, 16): np.float16,
                (2, 32): np.float32, (2, 64): np.float64, (5, 64): np.complex64, (5, 128): np.complex128,
                (6, 8): np.bool_, BFLOAT16: np.uint16}
SIZES = (0, 1, 2, 3, 4, 5, -1, -4, 2**31, 2**62, 2**63 - 1, -2**63)
STRIDES = (0, 1, 2, 3, 4, 7, -1, -2)
MAX_BUFFER = 1 << 16  # bytes; larger layouts are given stride 0 on their big dims
MAX_CHECKED = 4096    # elements compared one by one; beyond that, the first and the last

_new_capsule = ctypes.pythonapi.PyCapsule_New
_new_capsule.restype = ctypes.py_object
_new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_capsule_name = ctypes.pythonapi.PyCapsule_GetName
_capsule_name.restype = ctypes.c_char_p
_capsule_name.argtypes = [ctypes.py_object]

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
PAGE = mmap.PAGESIZE
PROT_NONE = 0

# Every call of the deleter, by the address of the managed struct it was given.
DELETER_CALLS: Dict[int, int] = {}


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _deleter(managed: int, calls: Dict[int, int] = DELETER_CALLS) -> None:
    # bound as a default: capsules kept alive run this at exit, after the module's globals are gone
    calls[managed] = calls.get(managed, 0) + 1


_DELETER_ADDRESS = ctypes.cast(_deleter, ctypes.c_void_p).value

# What a capsule points at stays mapped for as long as chaingrad may still hold it: a tensor the
# harness cannot drop (something else refers to it), or a capsule whose deleter never ran.
_KEPT_ALIVE: List[Any] = []


class GuardedBuffer:
    """`size` bytes that end right before (or start right after) an inaccessible page, so that
    reading one byte past the buffer faults."""

    def __init__(self, data: bytes, guard_after: bool) -> None:
        size = len(data)
        pages = max(1, -(-size // PAGE))
        self._map = mmap.mmap(-1, (pages + 2) * PAGE)
        self._anchor = ctypes.c_char.from_buffer(self._map)  # keeps the mapping exported while we use addresses
        base = ctypes.addressof(self._anchor)
        for guard in (base, base + (pages + 1) * PAGE):
            if _libc.mprotect(guard, PAGE, PROT_NONE) != 0:
                raise OSError(ctypes.get_errno(), "mprotect failed")
        self.address = base + PAGE + (pages * PAGE - size if guard_after else 0)
        ctypes.memmove(self.address, data, size)


# --- decoding a capsule from the fuzzer's bytes ------------------------------------------------

@dataclass
class Spec:
    """One capsule, as decoded; describe() prints it for a finding."""

    versioned: bool
    name: Optional[bytes]
    path: str                         # 'capsule' or 'object' (through __dlpack__)
    object_device: Any                # what the object's __dlpack_device__ returns
    device_type: int
    device_id: int
    code: int
    bits: int
    lanes: int
    ndim: int
    shape: Optional[List[int]]        # None: a NULL shape pointer
    strides: Optional[List[int]]      # None: NULL (compact row-major)
    byte_offset: int
    null_data: bool
    with_deleter: bool
    version: Tuple[int, int] = (1, 0)
    flags: int = 0
    guard_after: bool = True
    payload: bytes = b""

    def describe(self) -> str:
        fields = {k: v for k, v in self.__dict__.items() if k != "payload"}
        return ", ".join(f"{k}={v!r}" for k, v in fields.items()) + f", payload={len(self.payload)} bytes"


def _element_span(shape: List[int], strides: List[int]) -> Tuple[int, int]:
    """(lowest, highest) element offsets reached from the first element, for a non-empty tensor."""
    lo = sum(min(0, (n - 1) * s) for n, s in zip(shape, strides))
    hi = sum(max(0, (n - 1) * s) for n, s in zip(shape, strides))
    return lo, hi


def compact_strides(shape: List[int]) -> List[int]:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return strides[::-1]


@atheris.instrument_func  # coverage of the decoder's and the oracle's branches guides the fuzzer too
def decode(fdp: atheris.FuzzedDataProvider) -> Spec:
    """A capsule spec that either a consumer can tell is malformed, or tells the truth. Half the
    inputs draw every field from well-formed values only, so that valid capsules are common."""
    sane = fdp.ConsumeBool()

    def pick(good: Any, wild: Any = ()) -> Any:
        return fdp.PickValueInList(list(good) if sane else list(good) + list(wild))

    versioned = pick((False, False, False, True))
    name = pick((b"dltensor",), (b"used_dltensor", b"", None))
    if name == b"dltensor" and versioned:  # the struct matches its name, as producers must
        name = b"dltensor_versioned"
    path = pick(("capsule", "capsule", "capsule", "object"))
    object_device = pick(((KDL_CPU, 0),), ((KDL_CUDA, 0), (7, 0), (KDL_CPU,), "cpu"))
    # CUDA memory would be a lie about a host buffer where a GPU is there to believe it
    device_type = pick((KDL_CPU,), (KDL_CUDA_HOST, KDL_CUDA_MANAGED, 7, 0, -1, 99)
                       + (() if chaingrad.cuda.is_available() else (KDL_CUDA,)))
    device_id = pick((0,), (1, -1))
    code, bits = pick(CHAINGRAD_DTYPES, [(c, b) for c in (0, 1, 2, 4, 5, 7) for b in (0, 1, 8, 16, 32, 128)])
    lanes = pick((1,), (2, 4, 0))
    ndim = pick(range(5), (-1, -2**31, 5, 33, 2**31 - 1))
    null_shape = ndim < 0 or ndim > 4 or pick((False,), (True,))  # never a shape array shorter than ndim
    shape = None if null_shape else [pick(range(5), SIZES) if fdp.ConsumeIntInRange(0, 7) else pick(SIZES)
                                     for _ in range(ndim)]
    strides = None if shape is None or fdp.ConsumeBool() else [pick(STRIDES[:6], STRIDES[6:]) for _ in range(ndim)]
    itemsize = max(1, (bits * max(lanes, 1) + 7) // 8)
    byte_offset = fdp.ConsumeIntInRange(0, 3) * itemsize + pick((0,), (1,))  # sometimes misaligned
    spec = Spec(versioned, name, path, object_device, device_type, device_id, code, bits, lanes, ndim, shape,
                strides, byte_offset, null_data=pick((False,), (True,)), with_deleter=pick((True, True, False)),
                version=pick(((1, 0), (1, 1)), ((0, 8), (2, 0), (255, 0))), flags=pick((0, 0, 1, 2, 3, 1 << 40)),
                guard_after=fdp.ConsumeBool())
    _make_truthful(spec, itemsize)
    size = _buffer_size(spec, itemsize)
    spec.payload = fdp.ConsumeBytes(size).ljust(size, b"\0")
    if code == 6:  # bool bytes other than 0 and 1 are a producer's lie, not a consumer's problem
        spec.payload = bytes(b & 1 for b in spec.payload)
    return spec


def dims(spec: Spec) -> Optional[List[int]]:
    """The shape a consumer reads: a NULL shape is fine for a 0-d tensor, unreadable otherwise."""
    return spec.shape if spec.shape is not None else ([] if spec.ndim == 0 else None)


def reaches_memory(spec: Spec) -> bool:
    """A readable, non-negative, non-empty shape: the only kind that touches the buffer."""
    shape = dims(spec)
    return shape is not None and all(n > 0 for n in shape)


def _make_truthful(spec: Spec, itemsize: int) -> None:
    """Bring a layout that would need more than MAX_BUFFER bytes back to one that fits, by giving
    its big dims (then all dims) stride 0, and move byte_offset so that negative strides stay in
    the buffer."""
    if not reaches_memory(spec) or spec.shape is None:  # a 0-d tensor with a NULL shape is one element
        return
    if spec.strides is None and math.prod(spec.shape) * itemsize > MAX_BUFFER:
        spec.strides = compact_strides(spec.shape)
    if spec.strides is None:
        return
    for squeeze in (lambda n, s: 0 if n > 4 else s, lambda n, s: 0):
        lo, hi = _element_span(spec.shape, spec.strides)
        if (hi - lo + 1) * itemsize > MAX_BUFFER:
            spec.strides = [squeeze(n, s) for n, s in zip(spec.shape, spec.strides)]
    spec.byte_offset -= _element_span(spec.shape, spec.strides)[0] * itemsize


def _buffer_size(spec: Spec, itemsize: int) -> int:
    """Exactly the bytes the tensor reaches: up to the data pointer plus byte_offset for an empty one."""
    if not reaches_memory(spec):
        return spec.byte_offset if dims(spec) is not None else 0
    shape = dims(spec)
    strides = spec.strides if spec.strides is not None else compact_strides(shape)
    return spec.byte_offset + (_element_span(shape, strides)[1] + 1) * itemsize


# --- what the answer should be -----------------------------------------------------------------

MUST_RAISE, MUST_SUCCEED, EITHER = "must raise", "must succeed", "may raise"


@atheris.instrument_func
def expectation(spec: Spec) -> Tuple[str, str]:
    """(verdict, why) for a capsule, by the DLPack rules and chaingrad's documented limits."""
    if spec.path == "object" and spec.object_device not in ((KDL_CPU, 0), (KDL_CUDA, 0)):
        return EITHER, "__dlpack_device__ gives something odd"
    expected_name = b"dltensor_versioned" if spec.versioned else b"dltensor"
    if spec.name != expected_name:
        return MUST_RAISE, f"capsule name {spec.name!r}"
    if spec.versioned and spec.version[0] != 1:
        return MUST_RAISE, f"DLPack version {spec.version}"
    if spec.ndim < 0:
        return MUST_RAISE, "negative ndim"
    if dims(spec) is None:
        return MUST_RAISE, "NULL shape"
    if spec.device_type not in (KDL_CPU, KDL_CUDA_HOST, KDL_CUDA_MANAGED):
        return MUST_RAISE, f"device type {spec.device_type}"
    if spec.lanes != 1 or (spec.code, spec.bits) not in CHAINGRAD_DTYPES:
        return MUST_RAISE, f"dtype {spec.code}/{spec.bits}/{spec.lanes}"
    if spec.shape is not None and any(n < 0 for n in spec.shape):
        return MUST_RAISE, "negative size"
    if spec.null_data and reaches_memory(spec):
        return MUST_RAISE, "NULL data"
    if spec.null_data or spec.device_type != KDL_CPU or spec.device_id != 0 or spec.path == "object" \
            and spec.object_device != (KDL_CPU, 0):
        return EITHER, "empty with NULL data, CPU-accessible memory that is not plain CPU, or a producer " \
                       "that says CUDA for CPU memory"
    if spec.strides is not None and any(s < 0 for s in spec.strides):
        return EITHER, "negative strides"
    if math.prod(dims(spec)) * spec.bits // 8 > 2**48:
        return EITHER, "a broadcast view of more bytes than any address space holds"
    if spec.byte_offset % max(1, spec.bits // 8):
        return EITHER, "byte_offset not a multiple of the element size"
    return MUST_SUCCEED, "well-formed"


# --- known, documented differences ----------------------------------------------------------
# name -> (what, predicate, skip). FILED: an engine bug being fixed; FOUND: reported by this
# fuzzer, not fixed yet (drop the entry once fixed). skip=True: the bug crashes the process (or
# exhausts memory), so such capsules are not handed to chaingrad at all and the predicate sees only
# the spec; otherwise the case runs and a finding whose message the predicate accepts counts as
# this entry. Predicates take (spec, the finding's message or "").
KNOWN: Dict[str, Tuple[str, Callable[[Spec, str], bool], bool]] = {}  # none at present


def _known(spec: Spec, skip: bool, why: str = "") -> Optional[str]:
    return next((name for name, (_, predicate, skips) in KNOWN.items() if skips == skip and predicate(spec, why)),
                None)


# --- building, importing, checking -------------------------------------------------------------

@dataclass
class Capsule:
    """A capsule with everything it points at; must outlive any tensor made from it."""

    spec: Spec
    parts: List[Any] = field(default_factory=list)
    managed_address: int = 0
    capsule: Any = None


def build(spec: Spec) -> Capsule:
    out = Capsule(spec)
    managed = DLManagedTensorVersioned() if spec.versioned else DLManagedTensor()
    if spec.versioned:
        managed.version.major, managed.version.minor = spec.version
        managed.flags = spec.flags
    dl = managed.dl_tensor
    if not spec.null_data and spec.payload:
        buffer = GuardedBuffer(spec.payload, spec.guard_after)
        out.parts.append(buffer)
        dl.data = buffer.address
    elif not spec.null_data:  # nothing to read: any valid-looking, never-dereferenced address
        dl.data = _DELETER_ADDRESS
    dl.device.device_type, dl.device.device_id = spec.device_type, spec.device_id
    dl.ndim = spec.ndim
    dl.dtype.code, dl.dtype.bits, dl.dtype.lanes = spec.code, spec.bits, spec.lanes
    for name, values in (("shape", spec.shape), ("strides", spec.strides)):
        if values is not None:
            array = (ctypes.c_int64 * max(1, len(values)))(*values)
            out.parts.append(array)
            setattr(dl, name, ctypes.addressof(array))
    dl.byte_offset = spec.byte_offset
    if spec.with_deleter:
        managed.deleter = _DELETER_ADDRESS
    out.parts.append(managed)
    out.managed_address = ctypes.addressof(managed)
    out.capsule = _new_capsule(out.managed_address, spec.name, None)
    return out


class Producer:
    """An object that speaks the DLPack protocol and hands out one prepared capsule."""

    def __init__(self, capsule: Any, device: Any) -> None:
        self._capsule, self._device = capsule, device

    def __dlpack__(self, stream: Any = None, max_version: Any = None, dl_device: Any = None, copy: Any = None) -> Any:
        return self._capsule

    def __dlpack_device__(self) -> Any:
        return self._device


def _element(spec: Spec, index: Tuple[int, ...]) -> np.ndarray:
    """numpy's reading of one element of the buffer, as a 0-d array."""
    dtype = np.dtype(NUMPY_DTYPES[(spec.code, spec.bits)])
    shape = dims(spec)
    strides = spec.strides if spec.strides is not None else compact_strides(shape)
    offset = spec.byte_offset + sum(i * s for i, s in zip(index, strides)) * dtype.itemsize
    return np.frombuffer(spec.payload, dtype, count=1, offset=offset).reshape(())


def _expected(spec: Spec, indices: List[Tuple[int, ...]]) -> np.ndarray:
    """The elements at indices, read by numpy from the same bytes."""
    dtype = np.dtype(NUMPY_DTYPES[(spec.code, spec.bits)])
    return np.array([_element(spec, i) for i in indices], dtype)


class Finding(AssertionError):
    """chaingrad mishandled a capsule (the message describes it)."""


def _fail(spec: Spec, why: str) -> None:
    raise Finding(f"{why}\n--- capsule ---\n{spec.describe()}")


def _check_tensor(spec: Spec, t: Any) -> None:
    if not isinstance(t, chaingrad.Tensor):
        _fail(spec, f"from_dlpack returned {type(t).__name__}")
    shape = tuple(dims(spec))
    if tuple(t.shape) != shape:
        _fail(spec, f"shape {tuple(t.shape)}, expected {shape}")
    bfloat16 = (spec.code, spec.bits) == BFLOAT16
    numpy_dtype = np.dtype(NUMPY_DTYPES[(spec.code, spec.bits)])
    if (t.dtype != chaingrad.bfloat16) if bfloat16 else (t.dtype.numpy != numpy_dtype):
        _fail(spec, f"dtype {t.dtype}, expected {'bfloat16' if bfloat16 else numpy_dtype}")
    if not reaches_memory(spec):
        return
    small = math.prod(shape) <= MAX_CHECKED
    # too many to compare one by one: the first and the last element
    indices = list(np.ndindex(*shape)) if small else [(0,) * len(shape), tuple(n - 1 for n in shape)]
    if bfloat16:  # element by element, as the bits of the float32 each widens to (NaN payloads kept)
        got = np.array([np.asarray(t[i].float().numpy()).view(np.uint32) for i in indices], np.uint32).reshape(-1)
    elif small:
        got = np.ascontiguousarray(t.numpy()).reshape(-1)
    else:
        got = np.array([t[i].numpy() for i in indices])
    expected = _expected(spec, indices)
    expected = expected.astype(np.uint32) << 16 if bfloat16 else expected.astype(t.dtype.numpy)
    if got.tobytes() != expected.tobytes():
        _fail(spec, f"values {got.tolist()}, expected {expected.tolist()}")


def check(data: bytes) -> Optional[str]:
    """Decodes and imports one capsule. Returns the KNOWN entry that explains a problem (or kept
    the capsule from chaingrad), None when all was well; raises Finding otherwise."""
    spec = decode(atheris.FuzzedDataProvider(data))
    known = _known(spec, skip=True)
    if known:
        return known
    try:
        _import_and_check(spec)
    except Finding as finding:
        known = _known(spec, skip=False, why=str(finding))
        if known:
            return known
        raise
    return None


def _import_and_check(spec: Spec) -> None:
    verdict, reason = expectation(spec)
    made = build(spec)
    source = made.capsule if spec.path == "capsule" else Producer(made.capsule, spec.object_device)
    DELETER_CALLS.pop(made.managed_address, None)
    refusal = None
    try:
        tensor = chaingrad.from_dlpack(source)
    except Exception as err:  # noqa: BLE001 - any Python exception is a refusal
        refusal = f"{type(err).__name__}: {err}"
    if refusal is not None:  # checked outside the except: the traceback may hold what numpy made
        _check_refusal(spec, made, verdict, refusal)
        return
    finding = None
    try:
        if verdict == MUST_RAISE:
            _fail(spec, f"accepted a malformed capsule ({reason}) as {tensor.dtype} {tuple(tensor.shape)}")
        _check_tensor(spec, tensor)
        read_only = spec.versioned and spec.flags & 1  # copied, since chaingrad tensors are writable
        if verdict == MUST_SUCCEED and reaches_memory(spec) and not read_only:
            _check_shares_memory(spec, made, tensor)
    except Finding as err:
        traceback.clear_frames(err.__traceback__)  # the checks' frames refer to the tensor
        finding = err
    # Drop the tensor before the memory it may use (this frame would free `made` first). A tensor
    # referred to from elsewhere may outlive this case, and so must that memory.
    if sys.getrefcount(tensor) > 2:
        _KEPT_ALIVE.append(made)
    del tensor
    if finding is not None:
        raise finding
    calls = DELETER_CALLS.pop(made.managed_address, 0)
    if spec.with_deleter and calls != 1:
        if calls == 0:
            _KEPT_ALIVE.append(made)  # chaingrad still holds the memory somewhere
        _fail(spec, f"deleter called {calls} times after the tensor was freed (expected once)")


def _check_shares_memory(spec: Spec, made: Capsule, t: Any) -> None:
    """from_dlpack shares memory: a change to the first element's bytes shows in the tensor."""
    address = made.parts[0].address + spec.byte_offset
    itemsize = spec.bits // 8
    before = ctypes.string_at(address, itemsize)
    after = bytes([before[0] ^ 1]) + before[1:]  # flips False/True, and the lowest bit of a number
    ctypes.memmove(address, after, itemsize)
    first = t[(0,) * t.ndim]
    if first.dtype == chaingrad.bfloat16:  # no numpy type: its bits are the float32's upper half
        seen = (np.asarray(first.float().numpy()).view(np.uint32) >> 16).astype(np.uint16).tobytes()
    else:
        seen = first.numpy().tobytes()
    ctypes.memmove(address, before, itemsize)
    if seen != after:
        _fail(spec, "the tensor does not share the producer's memory (a write to it did not show)")


@atheris.instrument_func
def _check_refusal(spec: Spec, made: Capsule, verdict: str, refusal: str) -> None:
    """A refusal must be allowed, and leave the capsule as it was."""
    if verdict == MUST_SUCCEED:
        _fail(spec, f"refused a well-formed capsule: {refusal}")
    name = _capsule_name(made.capsule)
    consumed = name != spec.name
    if consumed:
        _fail(spec, f"refused ({refusal}) yet renamed the capsule {name!r}")
    calls = DELETER_CALLS.pop(made.managed_address, 0)
    if calls:
        _fail(spec, f"refused ({refusal}); capsule left, deleter called {calls} times")


def TestOneInput(data: bytes) -> None:
    """The fuzz target: raises Finding when chaingrad mishandles the capsule."""
    check(data)


def main() -> None:
    faulthandler.enable()  # a crash inside chaingrad still prints the Python stack that led there
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
