// n-d tensors: dtypes, storage shared between views, shape, strides and offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"

namespace chaingrad {

/// Element types. The first four are the compute types every kernel is written for; the others
/// are storage types, which the kernels widen to a compute type on entry and narrow back on exit
/// (see Note [storage dtypes]). The numbering is stable: serialization and the Python dtype table
/// index by it.
enum class DType : std::uint8_t { Bool, Int64, Float32, Float64, Int32, Int16, Int8, UInt8, Float16, BFloat16 };
/// How many dtypes there are.
constexpr int kNumDTypes = 10;

// Note [storage dtypes]
// int32, int16, int8 and uint8 compute in int64 and float16 and bfloat16 in float32, as PyTorch
// computes half-precision arithmetic in float32 on the CPU: an op widens its operands to the
// compute type, runs the int64/float32 kernel and narrows the result back (a two's-complement
// truncation, or a round to nearest even). For the integer ring ops (+, -, *, neg, abs) the
// truncated int64 result is exactly the wrapped narrow one, so results match PyTorch bit for bit
// while only the four compute types get kernels (the build and the binary stay small).

/// Bytes per element.
std::size_t itemsize(DType dtype);
/// "bool", "int64", "float32", "float64", "int32", "int16", "int8", "uint8", "float16", "bfloat16".
const char* dtype_name(DType dtype);
/// PyTorch's ScalarType word for dtype, as its error messages spell it: "Bool", "Long", "Float",
/// "Double", "Int", "Short", "Char", "Byte", "Half", "BFloat16".
const char* scalar_type_name(DType dtype);
/// True for the floating types (float16, bfloat16, float32, float64).
inline bool is_floating(DType dtype) {
  return dtype == DType::Float32 || dtype == DType::Float64 || dtype == DType::Float16 || dtype == DType::BFloat16;
}
/// The type the kernels compute in for dtype: int64 for the narrow integers, float32 for float16
/// and bfloat16, the dtype itself otherwise.
inline DType compute_dtype(DType dtype) {
  switch (dtype) {
    case DType::Int32:
    case DType::Int16:
    case DType::Int8:
    case DType::UInt8:
      return DType::Int64;
    case DType::Float16:
    case DType::BFloat16:
      return DType::Float32;
    default:
      return dtype;
  }
}
/// True for the storage-only dtypes (those that compute in another type).
inline bool is_storage_only(DType dtype) { return compute_dtype(dtype) != dtype; }
/// PyTorch's promotion category: 0 bool, 1 integer, 2 floating.
inline int dtype_category(DType dtype) { return dtype == DType::Bool ? 0 : is_floating(dtype) ? 2 : 1; }
/// The type a binary op between tensors of dtypes a and b computes in (torch.promote_types): the
/// higher category wins; within one the wider type, with uint8 and int8 meeting in int16 and
/// float16 and bfloat16 in float32.
DType promote(DType a, DType b);
using Shape = std::vector<std::int64_t>;

/// True when strides walk shape in row-major order without gaps (size-1 dims ignored; an empty
/// tensor is contiguous whatever its strides, as in PyTorch).
inline bool is_contiguous_layout(const Shape& shape, const Shape& strides) {
  for (std::int64_t size : shape) {
    if (size == 0) return true;
  }
  std::int64_t expected = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 1) continue;
    if (strides[d] != expected) return false;
    expected *= shape[d];
  }
  return true;
}

/// Where a tensor's memory lives: the host, or CUDA device `index`.
struct Device {
  enum class Kind : std::uint8_t { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;

  bool is_cuda() const { return kind == Kind::CUDA; }
  bool operator==(const Device& o) const { return kind == o.kind && (kind == Kind::CPU || index == o.index); }
  bool operator!=(const Device& o) const { return !(*this == o); }
  /// "cpu" or "cuda:0".
  std::string str() const;
};

/// A block of memory shared by a tensor and all its views, with the version counter that in-place
/// ops bump (so autograd can tell that a tensor it saved was modified).
class Storage {
 public:
  /// Fresh, uninitialised memory for nbytes: 64-byte aligned host memory, or a block of the CUDA
  /// caching allocator.
  explicit Storage(std::size_t nbytes, Device device = {});
  /// Memory owned by someone else (a numpy array, a DLPack producer); release runs when the last
  /// view goes.
  Storage(void* data, std::size_t nbytes, std::function<void()> release, Device device = {});
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  const Device& device() const { return device_; }
  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_;
  std::size_t nbytes_;
  std::function<void()> release_;
  Device device_;
  std::uint64_t version_ = 0;
};

class TensorNode;
class AccumulateGrad;
class TensorImpl;

/// A function run on a gradient as it arrives (Tensor.register_hook): it returns a replacement,
/// or null to keep the gradient as it is.
using GradHook = std::function<Ref<TensorImpl>(const Ref<TensorImpl>&)>;

/// The gradient hooks of a tensor (a leaf's) or of a node (a non-leaf's), in the order they run:
/// retain_grad's hooks run after all others, as in PyTorch.
class HookList {
 public:
  /// Adds fn (after every other hook when last, else before the `last` ones); returns its id.
  std::uint64_t add(GradHook fn, bool last);
  /// Removes the hook with this id; false when there is none.
  bool remove(std::uint64_t id);
  /// Moves the `last` hooks (retain_grad's) of `from` here: an in-place op gives a tensor a new
  /// grad_fn, and its retained gradient must follow it, as PyTorch.
  void take_last(HookList& from);
  bool empty() const { return !state_ || state_->entries.empty(); }
  /// g passed through every hook in order.
  Ref<TensorImpl> run(Ref<TensorImpl> g) const;

 private:
  struct Entry {
    std::uint64_t id;
    GradHook fn;
    bool last;
  };
  struct State {
    std::vector<Entry> entries;
    std::uint64_t next_id = 0;
  };
  // allocated by the first hook: every tensor and node has a list, almost all of them stay empty,
  // and one pointer keeps the per-op objects small
  std::unique_ptr<State> state_;
};

/// A strided view of a Storage plus its autograd state.
class TensorImpl : public RefCounted {
 public:
  TensorImpl(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Shape strides, std::int64_t offset);
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  ~TensorImpl();

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  std::int64_t offset() const { return offset_; }
  std::int64_t ndim() const { return static_cast<std::int64_t>(shape_.size()); }
  std::int64_t numel() const { return numel_; }
  bool is_contiguous() const { return is_contiguous_layout(shape_, strides_); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  const Device& device() const { return storage_->device(); }
  bool is_cuda() const { return storage_->device().is_cuda(); }
  /// Address of the first element (the storage's start for an empty tensor, whose offset may
  /// point anywhere).
  char* data() const {
    if (numel_ == 0) return static_cast<char*>(storage_->data());
    return static_cast<char*>(storage_->data()) + offset_ * static_cast<std::int64_t>(itemsize(dtype_));
  }
  template <class T>
  T* data_as() const {
    return reinterpret_cast<T*>(data());
  }

  // --- autograd state ---
  bool requires_grad = false;
  Ref<TensorImpl> grad;
  /// The node that produced this tensor; null for a leaf.
  Ref<Node> grad_fn;
  /// The leaf's gradient accumulator while some graph uses it (not owned: the graph owns it).
  AccumulateGrad* accumulator = nullptr;
  /// The Python object wrapping this tensor (not owned), for a stable identity in Python.
  void* wrapper = nullptr;
  /// True for a view made by a view op (reshape, index, ...).
  bool is_view = false;
  /// A view's base: the tensor (itself no view) whose memory it shows, null for a non-view. An
  /// in-place op on the view records the write on the base. See Note [in-place ops on views].
  Ref<TensorImpl> view_base;
  /// On a tensor: how many times an in-place op gave it a new history. On a view: the base's count
  /// when the view's grad_fn was made (a view whose count lags gets a fresh grad_fn).
  std::uint64_t history_version = 0;
  /// A leaf's gradient hooks (a non-leaf's live on its grad_fn).
  HookList hooks;
  /// Set by retain_grad(): backward() fills .grad of this non-leaf too.
  bool retains_grad = false;

 private:
  std::shared_ptr<Storage> storage_;
  DType dtype_;
  Shape shape_;
  Shape strides_;
  std::int64_t offset_;
  std::int64_t numel_;
};

using TensorPtr = Ref<TensorImpl>;

/// Row-major strides for shape.
Shape contiguous_strides(const Shape& shape);
/// Product of the dims (1 for a 0-d shape).
std::int64_t shape_numel(const Shape& shape);
/// "[2, 3]" for error messages.
std::string shape_str(const Shape& shape);
/// dim in [-ndim, ndim) as an index in [0, ndim); IndexError-style std::out_of_range otherwise.
std::int64_t wrap_dim(std::int64_t dim, std::int64_t ndim);

/// A new contiguous tensor with uninitialised data.
TensorPtr empty(const Shape& shape, DType dtype, Device device = {});
/// A new tensor sharing t's storage, with other shape, strides and offset.
TensorPtr make_view(const TensorPtr& t, Shape shape, Shape strides, std::int64_t offset);

}  // namespace chaingrad
