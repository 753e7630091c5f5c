"""Device objects, moving tensors and modules between devices, the chaingrad.cuda queries and the
errors without a GPU, and DLPack capsules (the C++ exporter and importer, tested on the CPU)."""

from __future__ import annotations

import io

import numpy as np
import pytest

import chaingrad as cg
from chaingrad import _core, nn

# --- device objects ------------------------------------------------------------------------------

def test_device_objects_parse_print_and_compare_as_pytorch():
    assert str(cg.device("cpu")) == "cpu" and repr(cg.device("cpu")) == "device(type='cpu')"
    assert str(cg.device("cuda")) == "cuda" and cg.device("cuda").index is None
    d = cg.device("cuda:1")
    assert (d.type, d.index, str(d), repr(d)) == ("cuda", 1, "cuda:1", "device(type='cuda', index=1)")
    assert cg.device("cuda", 2) == "cuda:2" and cg.device(3) == cg.device("cuda:3")
    assert cg.device(cg.device("cuda:1")) == d and hash(cg.device("cuda:1")) == hash(d)
    assert cg.device("cpu") != "cuda" and cg.device("cpu") != "not a device"
    for bad in ["tpu", "cuda:x", "cuda:-1", "cuda:", ""]:
        with pytest.raises(RuntimeError):
            cg.device(bad)
    with pytest.raises(RuntimeError, match="given twice"):
        cg.device("cuda:0", 1)
    with pytest.raises(TypeError):
        cg.device(1.5)


def test_cpu_tensors_report_their_device_and_move_to_themselves():
    x = cg.randn(2, 3)
    assert x.device == cg.device("cpu") and x.device == "cpu" and not x.is_cuda
    assert x.cpu() is x and x.to("cpu") is x and x.to(cg.device("cpu")) is x
    assert x.to("cpu", cg.float64).dtype is cg.float64
    assert x.to(device="cpu", dtype=cg.float64).device == "cpu"
    y = x.to("cpu", copy=True)
    assert y is not x and np.array_equal(y.numpy(), x.numpy())
    assert cg.zeros_like(x).device == "cpu" and cg.tensor(x).device == "cpu"
    assert x.__dlpack_device__() == (1, 0)


# --- without a GPU ---------------------------------------------------------------------------------

@pytest.fixture
def no_cuda():
    if cg.cuda.is_available():
        pytest.skip("a CUDA device is present: the no-GPU errors do not apply")


def test_cuda_queries_answer_without_a_gpu(no_cuda):
    assert cg.cuda.device_count() == 0 and cg.cuda.is_available() is False
    assert isinstance(cg.backends.cuda.is_built(), bool)
    reason = cg.cuda.unavailable_reason()
    assert reason and ("built without CUDA" in reason or "no CUDA device" in reason)
    assert cg.cuda.memory_allocated() == 0 and cg.cuda.max_memory_allocated() == 0
    cg.cuda.empty_cache()
    cg.cuda.manual_seed_all(1)
    assert cg.cuda.cublas_status()  # a reason, since no float matmul can run on a GPU here
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        cg.cuda.synchronize()
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        cg.cuda.get_device_name()


@pytest.mark.parametrize("make", [
    lambda: cg.randn(2, device="cuda"),
    lambda: cg.zeros(2, device="cuda:0"),
    lambda: cg.tensor([1.0, 2.0], device="cuda"),
    lambda: cg.arange(3, device="cuda"),
    lambda: cg.randint(0, 3, (2,), device="cuda"),
    lambda: cg.ones(2).cuda(),
    lambda: cg.ones(2).to("cuda"),
    lambda: cg.ones(2).to(cg.device("cuda", 1)),
    lambda: nn.Linear(2, 3).to("cuda"),
    lambda: nn.Linear(2, 3).cuda(),
])
def test_asking_for_a_cuda_tensor_without_a_gpu_names_the_reason(no_cuda, make):
    with pytest.raises(RuntimeError, match="CUDA is not available: (chaingrad was built without CUDA|no CUDA device)"):
        make()


def test_loading_onto_an_unusable_device_is_a_runtime_error_not_corruption(no_cuda):
    buf = io.BytesIO()
    cg.save({"w": cg.ones(2)}, buf)
    buf.seek(0)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        cg.load(buf, map_location="cuda")
    buf.seek(0)
    assert cg.load(buf, map_location="cpu")["w"].tolist() == [1.0, 1.0]


# --- DLPack (the same C++ code serves CUDA memory, with device type 2) ------------------------

@pytest.mark.parametrize("dt", [cg.float32, cg.float64, cg.int64, cg.bool_])
def test_dlpack_export_is_zero_copy_for_numpy(dt):
    x = cg.arange(12).reshape(3, 4).to(dt)
    a = np.from_dlpack(x)
    assert a.dtype == dt.numpy and a.shape == (3, 4)
    assert np.array_equal(a, x.numpy())
    if dt is cg.float32:
        x[0, 0] = 42.0  # shared memory: numpy sees the write
        assert a[0, 0] == 42.0


def test_dlpack_export_keeps_strides_offsets_and_the_storage_alive():
    base = cg.arange(24, dtype=cg.float64).reshape(2, 3, 4)
    view = base.transpose(0, 2)[1:, :, 1]
    a = np.from_dlpack(view)
    assert np.array_equal(a, view.numpy())
    del base, view
    assert np.array_equal(a, np.arange(24.0).reshape(2, 3, 4).transpose(2, 1, 0)[1:, :, 1])


def test_dlpack_import_is_zero_copy_and_consumes_the_capsule():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)[:, 1:]
    capsule = a.__dlpack__()
    t = cg.from_dlpack(capsule)
    assert t.shape == (2, 2) and t.stride() == (3, 1) and t.tolist() == [[1.0, 2.0], [4.0, 5.0]]
    a[0, 0] = -7.0
    assert t[0, 0].item() == -7.0
    with pytest.raises(ValueError, match="unconsumed"):
        _core.from_dlpack(capsule)


def test_dlpack_refuses_what_chaingrad_cannot_hold():
    with pytest.raises(TypeError, match="unsupported DLPack dtype"):
        _core.from_dlpack(np.zeros(3, dtype=np.uint16).__dlpack__())
    with pytest.raises(RuntimeError, match="require gradient"):
        cg.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(BufferError):
        cg.ones(2).__dlpack__(dl_device=(2, 0))
    with pytest.raises(TypeError, match="DLPack"):
        cg.from_dlpack([1, 2])
    x = cg.ones(2)
    copied = _core.from_dlpack(x.__dlpack__(copy=True))  # a capsule over a copy: later writes to x stay out
    x[0] = 5.0
    assert copied.tolist() == [1.0, 1.0] and x.tolist() == [5.0, 1.0]


def test_dlpack_round_trips_with_torch(torch):
    x = cg.randn(3, 4).t()
    tt = torch.from_dlpack(x)
    assert tt.stride() == x.stride() and np.array_equal(tt.numpy(), x.numpy())
    back = cg.from_dlpack(torch.arange(5))
    assert back.dtype is cg.int64 and back.tolist() == [0, 1, 2, 3, 4]
    flags = cg.from_dlpack(torch.tensor([True, False]))
    assert flags.dtype is cg.bool_ and flags.tolist() == [True, False]


# --- moving between devices (the cuda case runs only on a GPU) ----------------------------------

def test_to_device_is_differentiable(device):
    x = cg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to(device)
    assert y.device == cg.device(device) or str(y.device) == "cuda:0"
    (y * y).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, -4.0, 6.0]


def test_module_to_moves_parameters_gradients_and_optimizer_state(device):
    cg.manual_seed(0)
    model = nn.Linear(3, 2)
    params = list(model.parameters())
    opt = cg.optim.Adam(model.parameters(), lr=0.1)
    model(cg.ones(4, 3)).sum().backward()
    opt.step()
    model.to(device)
    assert [p is q for p, q in zip(model.parameters(), params)] == [True, True]
    assert all(p.device.type == cg.device(device).type for p in model.parameters())
    assert all(p.grad.device.type == cg.device(device).type for p in model.parameters())
    model(cg.ones(4, 3, device=device)).sum().backward()
    opt.step()  # the state follows the parameters
    state = opt.state[model.weight]
    assert state["exp_avg"].device.type == cg.device(device).type and state["step"] == 2
    model.to(cg.float64)
    assert model.weight.dtype is cg.float64 and model.weight.grad.dtype is cg.float64


def test_deepcopy_and_tensor_copies_keep_the_device(device):
    import copy
    model = nn.Linear(2, 3).to(device)
    clone = copy.deepcopy(model)
    assert all(p.device.type == cg.device(device).type for p in clone.parameters())
    assert all(isinstance(p, nn.Parameter) for p in clone.parameters())
    x = cg.randn(3, device=device)
    y = cg.tensor(x)
    assert y.device == x.device and y.tolist() == x.tolist() and y is not x
    assert cg.tensor(x, dtype=cg.float64).dtype is cg.float64


def test_gradients_return_to_the_device_of_their_tensor(cuda_device):
    w = cg.tensor(2.0, requires_grad=True)  # a 0-d CPU tensor used as a scalar by cuda ops
    v = cg.ones(2, requires_grad=True)
    x = cg.ones(3, device=cuda_device, requires_grad=True)
    (x * w * v.sum()).sum().backward()
    assert w.grad.device == "cpu" and w.grad.item() == 6.0
    assert v.grad.device == "cpu" and v.grad.tolist() == [6.0, 6.0]
    assert x.grad.device == "cuda:0" and x.grad.tolist() == [4.0] * 3
    target = cg.zeros(3)
    src = cg.ones(3, device=cuda_device, requires_grad=True)
    target.requires_grad_()
    out = target * 1.0
    out.copy_(src)  # the copy's history crosses devices: src's gradient comes back on cuda
    out.sum().backward()
    assert src.grad.device == "cuda:0" and src.grad.tolist() == [1.0] * 3


def test_malformed_dlpack_capsules_are_refused_not_dereferenced():
    import ctypes

    class DLTensor(ctypes.Structure):
        _fields_ = [("data", ctypes.c_void_p), ("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32),
                    ("ndim", ctypes.c_int32), ("code", ctypes.c_uint8), ("bits", ctypes.c_uint8),
                    ("lanes", ctypes.c_uint16), ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p),
                    ("byte_offset", ctypes.c_uint64)]

    class Managed(ctypes.Structure):
        _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]

    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype = ctypes.py_object
    new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    buffer = (ctypes.c_float * 4)()
    shape = (ctypes.c_int64 * 1)(4)
    huge_shape, huge_strides = (ctypes.c_int64 * 2)(1 << 40, 2), (ctypes.c_int64 * 2)(1 << 40, 1)
    cases = [
        (dict(ndim=1, shape=None), ValueError, "malformed"),           # no shape array
        (dict(ndim=-1), ValueError, "malformed"),
        (dict(ndim=0, data=None), ValueError, "no data"),              # a 0-d tensor needs its element
        (dict(data=None), ValueError, "no data"),
        (dict(byte_offset=2), ValueError, "not aligned"),              # float32 loads at an odd address
        (dict(ndim=2, shape=ctypes.addressof(huge_shape), strides=ctypes.addressof(huge_strides)), ValueError,
         "past any"),
        (dict(code=5), TypeError, "unsupported DLPack dtype"),         # bfloat
        (dict(lanes=4), TypeError, "unsupported DLPack dtype"),        # vector lanes
        (dict(device_type=7), ValueError, "unsupported DLPack device"),  # Vulkan
    ]
    keep = []
    for fields, error, message in cases:
        m = Managed()
        m.dl_tensor.data = ctypes.addressof(buffer)
        m.dl_tensor.device_type, m.dl_tensor.ndim = 1, 1
        m.dl_tensor.code, m.dl_tensor.bits, m.dl_tensor.lanes = 2, 32, 1
        m.dl_tensor.shape = ctypes.addressof(shape)
        for name, value in fields.items():
            setattr(m.dl_tensor, name, value)
        keep.append(m)
        with pytest.raises(error, match=message):
            _core.from_dlpack(new_capsule(ctypes.addressof(m), b"dltensor", None))
    empty = Managed()  # no elements: no data needed
    zero = (ctypes.c_int64 * 1)(0)
    empty.dl_tensor.device_type, empty.dl_tensor.ndim, empty.dl_tensor.shape = 1, 1, ctypes.addressof(zero)
    empty.dl_tensor.code, empty.dl_tensor.bits, empty.dl_tensor.lanes = 2, 32, 1
    assert _core.from_dlpack(new_capsule(ctypes.addressof(empty), b"dltensor", None)).shape == (0,)
    good = Managed()
    good.dl_tensor.data, good.dl_tensor.device_type, good.dl_tensor.ndim = ctypes.addressof(buffer), 1, 1
    good.dl_tensor.code, good.dl_tensor.bits, good.dl_tensor.lanes = 2, 32, 1
    good.dl_tensor.shape = ctypes.addressof(shape)
    buffer[2] = 5.0
    t = _core.from_dlpack(new_capsule(ctypes.addressof(good), b"dltensor", None))
    assert t.tolist() == [0.0, 0.0, 5.0, 0.0]
    del t


def test_dlpack_1_0_versioned_capsules():
    import ctypes

    t = cg.arange(4.0)
    capsule = t.__dlpack__(max_version=(1, 0))
    assert "dltensor_versioned" in repr(capsule)
    assert "dltensor_versioned" not in repr(t.__dlpack__())  # an old consumer gets a 0.8 capsule
    shared = _core.from_dlpack(capsule)
    shared[0] = 7.0
    assert t[0].item() == 7.0
    # numpy asks for DLPack 1.0; a read-only array comes flagged and is copied, not written through
    a = np.arange(3.0)
    a.flags.writeable = False
    b = cg.from_dlpack(a)
    b[0] = 9.0
    assert a[0] == 0.0 and b[0].item() == 9.0
    # a major version chaingrad does not know is refused before anything is read
    class Versioned(ctypes.Structure):
        _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32), ("manager_ctx", ctypes.c_void_p),
                    ("deleter", ctypes.c_void_p), ("flags", ctypes.c_uint64), ("data", ctypes.c_void_p)]

    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype = ctypes.py_object
    new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    future = Versioned(major=2)
    with pytest.raises(ValueError, match="version 2.0 is not supported"):
        _core.from_dlpack(new_capsule(ctypes.addressof(future), b"dltensor_versioned", None))


def test_from_dlpack_shares_with_chaingrad_numpy_and_torch(torch):
    x = cg.arange(4.0)
    y = cg.from_dlpack(x)  # PyTorch shares a tensor given to from_dlpack; so does chaingrad
    y[1] = 5.0
    assert x[1].item() == 5.0
    a = np.arange(3.0)
    cg.from_dlpack(a)[0] = 7.0
    assert a[0] == 7.0
    tt = torch.arange(3.0)
    cg.from_dlpack(tt)[2] = 8.0
    assert tt[2].item() == 8.0
    back = torch.from_dlpack(x)
    back[0] = -1.0
    assert x[0].item() == -1.0


def test_read_only_capsules_are_copied_by_the_memory_they_span():
    a = np.array([1.5], dtype=np.float32)
    huge = np.lib.stride_tricks.as_strided(a, shape=(2**30, 2**30), strides=(0, 0))
    huge.flags.writeable = False  # numpy flags the capsule read-only: chaingrad copies one float, not 2**60
    t = _core.from_dlpack(huge.__dlpack__(max_version=(1, 0)))
    assert t.shape == (2**30, 2**30) and t[5, 7].item() == 1.5
    a[0] = 2.0  # the array, not the copy
    assert t[0, 0].item() == 1.5
    refused = np.zeros(3, dtype=np.uint16)
    refused.flags.writeable = False
    capsule = refused.__dlpack__(max_version=(1, 0))
    with pytest.raises(TypeError, match="unsupported DLPack dtype"):
        _core.from_dlpack(capsule)
    assert "used" not in repr(capsule)  # not consumed: its destructor frees it, once


def test_dlpack_bools_holding_stray_bytes_are_normalised():
    raw = np.frombuffer(bytes([2, 0, 1, 255]), dtype=bool)  # read-only, bytes other than 0 and 1
    writable = np.array([2, 0, 1, 255], dtype=np.uint8).view(bool)
    for source in (raw, writable):
        t = cg.from_dlpack(source)
        assert t.tolist() == [True, False, True, True] and t.sum().item() == 3
