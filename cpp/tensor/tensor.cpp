#include "tensor/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

#include "kernels/cuda/backend.h"

namespace chaingrad {

std::size_t itemsize(DType dtype) {
  switch (dtype) {
    case DType::Bool:
    case DType::Int8:
    case DType::UInt8:
      return 1;
    case DType::Int16:
    case DType::Float16:
    case DType::BFloat16:
      return 2;
    case DType::Int32:
    case DType::Float32:
      return 4;
    case DType::Int64:
    case DType::Float64:
      return 8;
  }
  return 1;
}

namespace {

// A dtype's two spellings: chaingrad's and numpy's ("float32"), and PyTorch's ScalarType ("Float"),
// which error messages quote as PyTorch does.
struct DTypeNames {
  const char* name;
  const char* scalar_type;
};

DTypeNames dtype_names(DType dtype) {
  switch (dtype) {
    case DType::Bool:
      return {"bool", "Bool"};
    case DType::Int64:
      return {"int64", "Long"};
    case DType::Float32:
      return {"float32", "Float"};
    case DType::Float64:
      return {"float64", "Double"};
    case DType::Int32:
      return {"int32", "Int"};
    case DType::Int16:
      return {"int16", "Short"};
    case DType::Int8:
      return {"int8", "Char"};
    case DType::UInt8:
      return {"uint8", "Byte"};
    case DType::Float16:
      return {"float16", "Half"};
    case DType::BFloat16:
      return {"bfloat16", "BFloat16"};
  }
  return {"?", "?"};
}

}  // namespace

const char* dtype_name(DType dtype) { return dtype_names(dtype).name; }

const char* scalar_type_name(DType dtype) { return dtype_names(dtype).scalar_type; }

DType promote(DType a, DType b) {
  if (a == b) return a;
  const int ca = dtype_category(a), cb = dtype_category(b);
  if (ca != cb) return ca > cb ? a : b;
  if (ca == 0) return a;
  const bool a_half = a == DType::Float16 || a == DType::BFloat16;
  const bool b_half = b == DType::Float16 || b == DType::BFloat16;
  if (a_half && b_half) return DType::Float32;  // neither holds the other
  if (ca == 1 && (a == DType::UInt8 || b == DType::UInt8)) {
    const DType other = a == DType::UInt8 ? b : a;
    return other == DType::Int8 ? DType::Int16 : other;  // every wider signed type holds uint8
  }
  return itemsize(a) >= itemsize(b) ? a : b;
}

namespace {
constexpr std::size_t kAlignment = 64;  // a cache line, and what AVX-512 loads like
// Below this size plain malloc (16-byte aligned) is used: glibc's aligned_alloc splits and frees
// padding on every call, which costs tiny tensors (the notes' scalar-sized ops) more than the op.
constexpr std::size_t kSmallStorage = 256;
}  // namespace

std::string Device::str() const { return is_cuda() ? "cuda:" + std::to_string(index) : "cpu"; }

Storage::Storage(std::size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cuda()) {
    data_ = cuda::allocate(nbytes, device.index);
    release_ = [data = data_, index = device.index] { cuda::release(data, index); };
    return;
  }
  const std::size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  data_ = nbytes <= kSmallStorage ? std::malloc(nbytes == 0 ? 1 : nbytes) : std::aligned_alloc(kAlignment, rounded);
  if (data_ == nullptr) throw std::bad_alloc();
  release_ = [data = data_] { std::free(data); };
}

Storage::Storage(void* data, std::size_t nbytes, std::function<void()> release, Device device)
    : data_(data), nbytes_(nbytes), release_(std::move(release)), device_(device) {}

Storage::~Storage() {
  if (release_) release_();
}

TensorImpl::TensorImpl(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Shape strides, std::int64_t offset)
    : storage_(std::move(storage)),
      dtype_(dtype),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset),
      numel_(shape_numel(shape_)) {}

TensorImpl::~TensorImpl() = default;

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    strides[d] = stride;
    // an empty tensor's strides address nothing: sizes past the zero may overflow, so they saturate
    if (__builtin_mul_overflow(stride, std::max<std::int64_t>(shape[d], 1), &stride)) {
      stride = std::numeric_limits<std::int64_t>::max();
    }
  }
  return strides;
}

std::int64_t shape_numel(const Shape& shape) {
  bool empty = false;  // a zero anywhere makes the product 0, however large the other sizes
  for (std::int64_t s : shape) {
    if (s < 0) throw std::runtime_error("negative dimension in shape " + shape_str(shape));
    empty = empty || s == 0;
  }
  if (empty) return 0;
  std::int64_t n = 1;
  for (std::int64_t s : shape) {
    if (__builtin_mul_overflow(n, s, &n)) {
      throw std::overflow_error("shape " + shape_str(shape) + " has more elements than fit in memory");
    }
  }
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::int64_t wrap_dim(std::int64_t dim, std::int64_t ndim) {
  const std::int64_t n = ndim == 0 ? 1 : ndim;  // a 0-d tensor accepts dim 0 and -1, as in PyTorch
  if (dim < -n || dim >= n) {
    throw std::out_of_range("Dimension out of range (expected to be in range of [" + std::to_string(-n) + ", " +
                            std::to_string(n - 1) + "], but got " + std::to_string(dim) + ")");
  }
  return dim < 0 ? dim + n : dim;
}

TensorPtr empty(const Shape& shape, DType dtype, Device device) {
  const std::int64_t n = shape_numel(shape);
  std::int64_t nbytes = 0;
  if (__builtin_mul_overflow(n, static_cast<std::int64_t>(itemsize(dtype)), &nbytes)) {
    throw std::overflow_error("shape " + shape_str(shape) + " has more elements than fit in memory");
  }
  auto storage = std::make_shared<Storage>(static_cast<std::size_t>(nbytes), device);
  return make_ref<TensorImpl>(std::move(storage), dtype, shape, contiguous_strides(shape), 0);
}

TensorPtr make_view(const TensorPtr& t, Shape shape, Shape strides, std::int64_t offset) {
  return make_ref<TensorImpl>(t->storage(), t->dtype(), std::move(shape), std::move(strides), offset);
}

std::uint64_t HookList::add(GradHook fn, bool last) {
  if (!state_) state_ = std::make_unique<State>();
  std::vector<Entry>& entries = state_->entries;
  const std::uint64_t id = state_->next_id++;
  auto at = entries.end();
  if (!last) at = std::find_if(entries.begin(), entries.end(), [](const Entry& e) { return e.last; });
  entries.insert(at, Entry{id, std::move(fn), last});
  return id;
}

void HookList::take_last(HookList& from) {
  if (!from.state_) return;
  std::vector<Entry>& entries = from.state_->entries;
  for (auto it = entries.begin(); it != entries.end();) {
    if (!it->last) {
      ++it;
      continue;
    }
    add(std::move(it->fn), true);
    it = entries.erase(it);
  }
}

bool HookList::remove(std::uint64_t id) {
  if (!state_) return false;
  std::vector<Entry>& entries = state_->entries;
  auto it = std::find_if(entries.begin(), entries.end(), [id](const Entry& e) { return e.id == id; });
  if (it == entries.end()) return false;
  entries.erase(it);
  return true;
}

Ref<TensorImpl> HookList::run(Ref<TensorImpl> g) const {
  if (!state_) return g;
  // a copy: a hook may add or remove hooks while it runs
  const std::vector<Entry> entries = state_->entries;
  for (const Entry& e : entries) {
    Ref<TensorImpl> replaced = e.fn(g);
    if (!replaced) continue;
    // as PyTorch: a replacement must look like the gradient it replaces, or the rules downstream
    // would broadcast or convert it into a wrong gradient without a word
    if (replaced->shape() != g->shape() || replaced->dtype() != g->dtype() || replaced->device() != g->device()) {
      throw std::runtime_error("a gradient hook returned a " + std::string(dtype_name(replaced->dtype())) +
                               " tensor of shape " + shape_str(replaced->shape()) + " on " + replaced->device().str() +
                               " for a " + dtype_name(g->dtype()) + " gradient of shape " + shape_str(g->shape()) +
                               " on " + g->device().str() + ": a hook may change the values only");
    }
    g = std::move(replaced);
  }
  return g;
}

}  // namespace chaingrad
