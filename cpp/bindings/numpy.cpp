// Tensors over numpy memory and numpy arrays over tensor memory.
#include "bindings/numpy.h"

#include <cstdint>
#include <optional>
#include <string>

#include "kernels/kernels.h"

namespace py = pybind11;

namespace chaingrad {
std::optional<DType> dtype_of_numpy(const py::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'b') return DType::Bool;
  if (kind == 'i') {
    if (size == 8) return DType::Int64;
    if (size == 4) return DType::Int32;
    if (size == 2) return DType::Int16;
    if (size == 1) return DType::Int8;
  }
  if (kind == 'u' && size == 1) return DType::UInt8;
  if (kind == 'f') {
    if (size == 8) return DType::Float64;
    if (size == 4) return DType::Float32;
    if (size == 2) return DType::Float16;
  }
  return std::nullopt;
}

namespace {

py::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::Bool:
      return py::dtype::of<bool>();
    case DType::Int64:
      return py::dtype::of<std::int64_t>();
    case DType::Float32:
      return py::dtype::of<float>();
    case DType::Float64:
      return py::dtype::of<double>();
    case DType::Int32:
      return py::dtype::of<std::int32_t>();
    case DType::Int16:
      return py::dtype::of<std::int16_t>();
    case DType::Int8:
      return py::dtype::of<std::int8_t>();
    case DType::UInt8:
      return py::dtype::of<std::uint8_t>();
    case DType::Float16:
      return py::dtype("float16");
    case DType::BFloat16:
      break;
  }
  throw py::type_error("Got unsupported ScalarType BFloat16");
}

}  // namespace

TensorPtr from_numpy(py::array array, NumpyCopy mode) {
  bool copy = mode == NumpyCopy::Always;
  if (array.dtype().attr("byteorder").cast<std::string>() == ">") {  // non-native byte order
    if (mode == NumpyCopy::Never) {
      throw py::value_error(
          "given numpy array has byte order different from the native byte order: it "
          "cannot be shared; chaingrad.tensor(array) converts a copy");
    }
    array = array.attr("astype")(array.dtype().attr("newbyteorder")("="));
  }
  const auto dtype = dtype_of_numpy(array.dtype());
  if (!dtype) {
    throw py::type_error(
        "can't convert np.ndarray of type " + py::str(array.dtype()).cast<std::string>() +
        ". The only supported types are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool.");
  }
  const std::int64_t size = static_cast<std::int64_t>(itemsize(*dtype));
  // The kernels load whole elements: memory they cannot read that way (an odd byte offset, a field
  // of a structured array) is copied when a copy is asked for and refused when sharing is.
  bool aligned = reinterpret_cast<std::uintptr_t>(array.data()) % static_cast<std::uintptr_t>(size) == 0;
  for (py::ssize_t d = 0; d < array.ndim(); ++d) aligned = aligned && array.strides(d) % size == 0;
  if (!aligned) {
    if (mode == NumpyCopy::Never) {
      throw py::value_error("the numpy array's data is not aligned to its " + std::to_string(size) +
                            "-byte elements, so it cannot be shared; chaingrad.tensor(array) copies it");
    }
    array = py::module_::import("numpy").attr("array")(array, py::arg("copy") = true);  // fresh, aligned
  }
  // A bool array may hold bytes other than 0 and 1 (a view of raw bytes); the kernels expect 0/1.
  const bool dirty_bools =
      *dtype == DType::Bool && array.size() > 0 && array.attr("view")("uint8").attr("max")().cast<int>() > 1;
  if (dirty_bools) {
    array = array.attr("view")("uint8").attr("__ne__")(0);  // a new, normalised array
    copy = false;                                           // already a private copy: share it
  }
  Shape shape, strides;
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    shape.push_back(array.shape(d));
    strides.push_back(array.strides(d) / size);
  }
  const bool writeable = array.attr("flags").attr("writeable").cast<bool>();
  if (copy || !writeable) {
    auto borrowed =
        std::make_shared<Storage>(const_cast<void*>(array.data()), static_cast<std::size_t>(array.nbytes()), nullptr);
    TensorPtr view = make_ref<TensorImpl>(std::move(borrowed), *dtype, shape, strides, 0);
    TensorPtr out = empty(shape, *dtype);
    copy_into(out, view);
    return out;
  }
  py::object owner = array;
  auto storage = std::make_shared<Storage>(const_cast<void*>(array.data()), static_cast<std::size_t>(array.nbytes()),
                                           [owner]() mutable { owner.release().dec_ref(); });
  return make_ref<TensorImpl>(std::move(storage), *dtype, shape, strides, 0);
}

py::array to_numpy(const TensorPtr& t) {
  if (t->is_cuda()) {
    throw py::type_error("can't convert " + t->device().str() +
                         " device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.");
  }
  const py::dtype dt = numpy_dtype(t->dtype());  // before the capsule below: bfloat16 throws
  const std::int64_t size = static_cast<std::int64_t>(itemsize(t->dtype()));
  std::vector<py::ssize_t> shape(t->shape().begin(), t->shape().end()), strides;
  std::int64_t nbytes = size;                 // numpy needs every stride and the array's size in bytes to fit
  const bool empty_tensor = t->numel() == 0;  // its strides address nothing: numpy gets zeros
  for (std::size_t d = 0; d < t->shape().size(); ++d) {
    std::int64_t stride = 0;
    if (!empty_tensor && (__builtin_mul_overflow(t->strides()[d], size, &stride) ||
                          __builtin_mul_overflow(nbytes, t->shape()[d], &nbytes))) {
      throw py::value_error("a tensor of shape " + shape_str(t->shape()) + " is too large for a numpy array");
    }
    strides.push_back(stride);
  }
  // The capsule keeps the storage alive for as long as the array lives.
  auto* keep = new std::shared_ptr<Storage>(t->storage());
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return py::array(dt, shape, strides, t->data(), base);
}

}  // namespace chaingrad
