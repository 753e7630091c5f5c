// Tensors over numpy memory and numpy arrays over tensor memory.
#include "tensor_numpy.h"

#include <optional>
#include <string>

#include "tensor_kernels.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

std::optional<DType> dtype_of_numpy(const py::dtype& dt) {
  if (dt.is(py::dtype::of<bool>())) return DType::Bool;
  if (dt.is(py::dtype::of<std::int64_t>()) || (dt.kind() == 'i' && dt.itemsize() == 8)) return DType::Int64;
  if (dt.kind() == 'f' && dt.itemsize() == 4) return DType::Float32;
  if (dt.kind() == 'f' && dt.itemsize() == 8) return DType::Float64;
  if (dt.kind() == 'b') return DType::Bool;
  return std::nullopt;
}

py::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::Bool: return py::dtype::of<bool>();
    case DType::Int64: return py::dtype::of<std::int64_t>();
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
  }
  return py::dtype::of<float>();
}

}  // namespace

TensorPtr from_numpy(py::array array, bool copy) {
  if (array.dtype().attr("byteorder").cast<std::string>() == ">") {  // non-native byte order
    array = array.attr("astype")(array.dtype().attr("newbyteorder")("="));
  }
  const auto dtype = dtype_of_numpy(array.dtype());
  if (!dtype) {
    throw py::type_error("can't convert np.ndarray of type " + py::str(array.dtype()).cast<std::string>() +
                         ". The only supported types are: float64, float32, int64 and bool.");
  }
  const std::int64_t size = static_cast<std::int64_t>(itemsize(*dtype));
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    if (array.strides(d) % size != 0) {  // e.g. a field of a structured array
      array = py::module_::import("numpy").attr("ascontiguousarray")(array);
      break;
    }
  }
  Shape shape, strides;
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    shape.push_back(array.shape(d));
    strides.push_back(array.strides(d) / size);
  }
  const bool writeable = array.attr("flags").attr("writeable").cast<bool>();
  if (copy || !writeable) {
    auto borrowed = std::make_shared<Storage>(const_cast<void*>(array.data()),
                                              static_cast<std::size_t>(array.nbytes()), nullptr);
    TensorPtr view = make_ref<TensorImpl>(std::move(borrowed), *dtype, shape, strides, 0);
    TensorPtr out = empty(shape, *dtype);
    copy_into(out, view);
    return out;
  }
  py::object owner = array;
  auto storage = std::make_shared<Storage>(const_cast<void*>(array.data()),
                                           static_cast<std::size_t>(array.nbytes()),
                                           [owner]() mutable { owner.release().dec_ref(); });
  return make_ref<TensorImpl>(std::move(storage), *dtype, shape, strides, 0);
}

py::array to_numpy(const TensorPtr& t) {
  if (t->is_cuda()) {
    throw py::type_error("can't convert " + t->device().str() +
                         " device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.");
  }
  const std::int64_t size = static_cast<std::int64_t>(itemsize(t->dtype()));
  std::vector<py::ssize_t> shape(t->shape().begin(), t->shape().end()), strides;
  for (std::int64_t s : t->strides()) strides.push_back(s * size);
  // The capsule keeps the storage alive for as long as the array lives.
  auto* keep = new std::shared_ptr<Storage>(t->storage());
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return py::array(numpy_dtype(t->dtype()), shape, strides, t->data(), base);
}

}  // namespace chaingrad
