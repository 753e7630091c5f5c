#include "bindings/dlpack.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/backend.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

// The DLPack ABI (dlpack.h: the unversioned capsules of 0.8 and the versioned ones of 1.x),
// declared here as the standard fixes it, so the build needs no extra header.
struct DLDevice {
  std::int32_t device_type;
  std::int32_t device_id;
};
struct DLDataType {
  std::uint8_t code;
  std::uint8_t bits;
  std::uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  std::int32_t ndim;
  DLDataType dtype;
  std::int64_t* shape;
  std::int64_t* strides;
  std::uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};
struct DLPackVersion {
  std::uint32_t major;
  std::uint32_t minor;
};
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  std::uint64_t flags;
  DLTensor dl_tensor;
};
constexpr std::uint64_t kFlagReadOnly = 1, kFlagIsCopied = 2;
constexpr std::uint32_t kVersionMajor = 1, kVersionMinor = 0;
constexpr std::int32_t kDLCPU = 1, kDLCUDA = 2;
constexpr std::uint8_t kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLBool = 6;

/// What an exported capsule keeps alive: the storage, and the shape and strides DLTensor points at.
struct Export {
  DLManagedTensor managed{};
  DLManagedTensorVersioned versioned{};
  std::shared_ptr<Storage> storage;
  std::vector<std::int64_t> shape, strides;
};

void delete_export(DLManagedTensor* self) { delete static_cast<Export*>(self->manager_ctx); }
void delete_versioned_export(DLManagedTensorVersioned* self) { delete static_cast<Export*>(self->manager_ctx); }

DLDataType dl_dtype(DType dtype) {
  switch (dtype) {
    case DType::Bool:
      return {kDLBool, 8, 1};
    case DType::Int64:
      return {kDLInt, 64, 1};
    case DType::Float32:
      return {kDLFloat, 32, 1};
    case DType::Float64:
      return {kDLFloat, 64, 1};
    case DType::Int32:
      return {kDLInt, 32, 1};
    case DType::Int16:
      return {kDLInt, 16, 1};
    case DType::Int8:
      return {kDLInt, 8, 1};
    case DType::UInt8:
      return {kDLUInt, 8, 1};
    case DType::Float16:
      return {kDLFloat, 16, 1};
    case DType::BFloat16:
      return {kDLBfloat, 16, 1};
  }
  throw std::logic_error("unknown dtype");
}

DType from_dl_dtype(const DLDataType& t) {
  if (t.lanes == 1) {
    if (t.code == kDLFloat && t.bits == 32) return DType::Float32;
    if (t.code == kDLFloat && t.bits == 64) return DType::Float64;
    if (t.code == kDLInt && t.bits == 64) return DType::Int64;
    if (t.code == kDLBool && t.bits == 8) return DType::Bool;
    if (t.code == kDLInt && t.bits == 32) return DType::Int32;
    if (t.code == kDLInt && t.bits == 16) return DType::Int16;
    if (t.code == kDLInt && t.bits == 8) return DType::Int8;
    if (t.code == kDLUInt && t.bits == 8) return DType::UInt8;
    if (t.code == kDLFloat && t.bits == 16) return DType::Float16;
    if (t.code == kDLBfloat && t.bits == 16) return DType::BFloat16;
  }
  throw py::type_error("from_dlpack: unsupported DLPack dtype (code " + std::to_string(t.code) + ", " +
                       std::to_string(t.bits) + " bits, " + std::to_string(t.lanes) +
                       " lanes); chaingrad holds float16/32/64, bfloat16, int8/16/32/64, uint8 and bool");
}

/// A capsule destructor for a capsule nobody consumed: the producer's memory is released.
void free_unconsumed(PyObject* capsule) {
  if (PyCapsule_IsValid(capsule, "dltensor")) {
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
    if (managed && managed->deleter) managed->deleter(managed);
  } else if (PyCapsule_IsValid(capsule, "dltensor_versioned")) {
    auto* managed = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule, "dltensor_versioned"));
    if (managed && managed->deleter) managed->deleter(managed);
  }
}

/// The number of elements from the first to one past the last reachable one, checked for
/// overflow; throws on negative sizes or strides.
std::int64_t checked_extent(const Shape& shape, const Shape& strides, std::size_t item) {
  std::int64_t last = 0;  // offset of the last element
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) throw py::value_error("from_dlpack: negative size in shape " + shape_str(shape));
    if (strides[d] < 0) throw py::value_error("from_dlpack: negative strides are not supported");
  }
  if (shape_numel(shape) == 0) return 0;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    std::int64_t span = 0;
    if (__builtin_mul_overflow(shape[d] - 1, strides[d], &span) || __builtin_add_overflow(last, span, &last)) {
      throw py::value_error("from_dlpack: shape " + shape_str(shape) + " and strides " + shape_str(strides) +
                            " reach past any addressable memory");
    }
  }
  std::int64_t extent = 0, bytes = 0;
  if (__builtin_add_overflow(last, 1, &extent) ||
      __builtin_mul_overflow(extent, static_cast<std::int64_t>(item), &bytes)) {
    throw py::value_error("from_dlpack: tensor of shape " + shape_str(shape) + " is larger than memory");
  }
  return extent;
}

/// A tensor over a DLTensor that `release` frees; refuses anything it cannot read safely.
TensorPtr import_dltensor(const DLTensor& dl, std::function<void()> release) {
  Device device;
  if (dl.device.device_type == kDLCUDA) {
    device = Device{Device::Kind::CUDA, dl.device.device_id};
    cuda::require_device(device.index);
  } else if (dl.device.device_type != kDLCPU) {
    throw py::value_error("from_dlpack: unsupported DLPack device type " + std::to_string(dl.device.device_type) +
                          " (chaingrad takes CPU and CUDA memory)");
  }
  const DType dtype = from_dl_dtype(dl.dtype);
  if (dl.ndim < 0 || dl.ndim > 64 || (dl.ndim > 0 && dl.shape == nullptr)) {
    throw py::value_error("from_dlpack: malformed DLTensor (ndim " + std::to_string(dl.ndim) + ", shape " +
                          (dl.shape ? "given" : "missing") + ")");
  }
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  const std::int64_t extent = checked_extent(shape, strides, itemsize(dtype));
  if (extent > 0 && dl.data == nullptr) {
    throw py::value_error("from_dlpack: DLTensor of shape " + shape_str(shape) + " has no data");
  }
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(dl.data);
  const std::uintptr_t bytes = static_cast<std::uintptr_t>(extent) * itemsize(dtype);
  if (extent > 0 && (dl.byte_offset > UINTPTR_MAX - base || bytes > UINTPTR_MAX - base - dl.byte_offset)) {
    throw py::value_error("from_dlpack: byte_offset " + std::to_string(dl.byte_offset) + " points past any memory");
  }
  char* data = extent > 0 ? static_cast<char*>(dl.data) + dl.byte_offset : static_cast<char*>(dl.data);
  if (extent > 0 && reinterpret_cast<std::uintptr_t>(data) % itemsize(dtype) != 0) {
    throw py::value_error(std::string("from_dlpack: the data is not aligned to its ") + dtype_name(dtype) +
                          " elements; copy it first");
  }
  auto storage =
      std::make_shared<Storage>(data, static_cast<std::size_t>(extent) * itemsize(dtype), std::move(release), device);
  return make_ref<TensorImpl>(std::move(storage), dtype, std::move(shape), std::move(strides), 0);
}

/// Whether a CPU bool tensor's memory holds bytes other than 0 and 1 (read as bytes: loading such
/// a byte as a bool is undefined behaviour).
bool has_stray_bool_bytes(const TensorImpl& t) {
  const auto* bytes = static_cast<const unsigned char*>(t.storage()->data());
  for (std::size_t i = 0; i < t.storage()->nbytes(); ++i) {
    if (bytes[i] > 1) return true;
  }
  return false;
}

/// A private copy of the memory t's view spans (not of its elements: a broadcast view of one
/// number stays one number), viewed as t is; bools are normalised to 0 and 1 on the way.
TensorPtr copy_spanned_memory(const TensorPtr& t) {
  const std::int64_t span = static_cast<std::int64_t>(t->storage()->nbytes() / itemsize(t->dtype()));
  TensorPtr memory;
  if (t->dtype() == DType::Bool && !t->is_cuda()) {
    memory = empty({span}, DType::Bool);
    const auto* in = static_cast<const unsigned char*>(t->storage()->data());
    auto* out = static_cast<unsigned char*>(memory->storage()->data());
    for (std::int64_t i = 0; i < span; ++i) out[i] = in[i] != 0;
  } else {
    memory = cast(make_view(t, {span}, {1}, 0), t->dtype(), /*copy=*/true);
  }
  return make_view(memory, t->shape(), t->strides(), 0);
}

/// The tensor of a capsule's DLTensor; the capsule is renamed `used_name` once the tensor exists.
/// Shared, unless the memory is read-only (chaingrad tensors are writable) or holds CPU bools
/// other than 0 and 1: then copied, and the producer's memory released at once. The producer's
/// deleter runs exactly once: by the tensor's storage, or by the capsule itself when refused.
template <class Managed>
TensorPtr consume(const py::capsule& capsule, Managed* managed, const char* used_name, bool read_only) {
  auto consumed = std::make_shared<bool>(false);  // until the rename, the capsule owns the memory
  TensorPtr t = import_dltensor(managed->dl_tensor, [managed, consumed] {
    if (*consumed && managed->deleter) managed->deleter(managed);
  });
  const bool stray = t->dtype() == DType::Bool && !t->is_cuda() && has_stray_bool_bytes(*t);
  TensorPtr out = read_only || stray ? copy_spanned_memory(t) : t;
  if (PyCapsule_SetName(capsule.ptr(), used_name) != 0) throw py::error_already_set();
  *consumed = true;
  return out;  // after a copy, t's storage releases the producer's memory as t goes
}

}  // namespace

py::capsule to_dlpack(const TensorPtr& t, bool versioned, bool copied) {
  auto holder = std::make_unique<Export>();
  holder->storage = t->storage();
  holder->shape = t->shape();
  holder->strides = t->strides();
  DLTensor& dl = versioned ? holder->versioned.dl_tensor : holder->managed.dl_tensor;
  dl.data = t->data();
  dl.device = {t->is_cuda() ? kDLCUDA : kDLCPU, t->is_cuda() ? t->device().index : 0};
  dl.ndim = static_cast<std::int32_t>(t->ndim());
  dl.dtype = dl_dtype(t->dtype());
  dl.shape = holder->shape.data();
  dl.strides = holder->strides.data();
  dl.byte_offset = 0;
  void* managed = nullptr;
  if (versioned) {
    holder->versioned.version = {kVersionMajor, kVersionMinor};
    holder->versioned.manager_ctx = holder.get();
    holder->versioned.deleter = delete_versioned_export;
    holder->versioned.flags = copied ? kFlagIsCopied : 0;
    managed = &holder->versioned;
  } else {
    holder->managed.manager_ctx = holder.get();
    holder->managed.deleter = delete_export;
    managed = &holder->managed;
  }
  PyObject* capsule = PyCapsule_New(managed, versioned ? "dltensor_versioned" : "dltensor", free_unconsumed);
  if (capsule == nullptr) throw py::error_already_set();
  holder.release();  // owned by the capsule (or its consumer) from here on
  return py::reinterpret_steal<py::capsule>(capsule);
}

TensorPtr from_dlpack(const py::capsule& capsule) {
  if (PyCapsule_IsValid(capsule.ptr(), "dltensor_versioned")) {
    auto* managed = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor_versioned"));
    if (managed == nullptr) throw py::value_error("from_dlpack: empty 'dltensor_versioned' capsule");
    if (managed->version.major != kVersionMajor) {
      throw py::value_error("from_dlpack: DLPack version " + std::to_string(managed->version.major) + "." +
                            std::to_string(managed->version.minor) + " is not supported (chaingrad reads 1.x)");
    }
    return consume(capsule, managed, "used_dltensor_versioned", (managed->flags & kFlagReadOnly) != 0);
  }
  if (!PyCapsule_IsValid(capsule.ptr(), "dltensor")) {
    throw py::value_error(
        "from_dlpack: expected an unconsumed 'dltensor' or 'dltensor_versioned' capsule "
        "(was it used already?)");
  }
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  if (managed == nullptr) throw py::value_error("from_dlpack: empty 'dltensor' capsule");
  return consume(capsule, managed, "used_dltensor", false);
}

}  // namespace chaingrad
