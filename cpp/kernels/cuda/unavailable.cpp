// The CUDA backend of a build with CHAINGRAD_CUDA=OFF (the default): devices are reported as
// absent with the reason, and no cuda tensor can ever be created, so the kernel entry points are
// unreachable; they still throw rather than touch memory.
#include <stdexcept>

#include "kernels/cuda/backend.h"

namespace chaingrad::cuda {
namespace {
constexpr const char* kReason = "chaingrad was built without CUDA (rebuild with CHAINGRAD_CUDA=ON for its kernels)";

[[noreturn]] void not_built() { throw std::runtime_error(std::string("CUDA is not available: ") + kReason); }
}  // namespace

bool is_built() { return false; }
int device_count() { return 0; }
std::string unavailable_reason() { return kReason; }
void require_device(int) { not_built(); }
std::string device_name(int) { not_built(); }
void synchronize(int) { not_built(); }
void stream_wait(std::uintptr_t, int) { not_built(); }

void* allocate(std::size_t, int) { not_built(); }
void release(void*, int) {}
std::size_t memory_allocated(int) { return 0; }
std::size_t max_memory_allocated(int) { return 0; }
void empty_cache() {}
void copy_bytes(void*, int, const void*, int, std::size_t) { not_built(); }

void copy(const TensorImpl&, const Operand&) { not_built(); }
void fill(const TensorImpl&, double) { not_built(); }
void unary(UnaryOp, OpParams, const TensorImpl&, const Operand&) { not_built(); }
void binary(BinaryOp, DType, const TensorImpl&, const Operand&, const Operand&) { not_built(); }
void where(const TensorImpl&, const Operand&, const Operand&, const Operand&) { not_built(); }
void clamp(const TensorImpl&, const Operand&, const double*, const double*) { not_built(); }
void relu_backward(const TensorImpl&, const TensorImpl&, const TensorImpl&) { not_built(); }
bool any_negative(const TensorImpl&) { not_built(); }

void sum(const TensorImpl&, const TensorImpl&, const std::vector<std::int64_t>&) { not_built(); }
void max_along(const TensorImpl&, const TensorImpl&, const TensorImpl&, std::int64_t, bool) { not_built(); }

void gemm(DType, std::int64_t, std::int64_t, std::int64_t, const void*, std::int64_t, std::int64_t, const void*,
          std::int64_t, std::int64_t, double, void*, std::int64_t, int) {
  not_built();
}
void set_cublas_paths(const std::vector<std::string>&) {}
std::string cublas_status() { return kReason; }

void manual_seed(std::uint64_t) {}
void random(const TensorImpl&, bool) { not_built(); }
void randint(const TensorImpl&, std::int64_t, std::int64_t) { not_built(); }

void sgd_step(DType, int, const std::vector<ParamSlot>&, const SgdOptions&) { not_built(); }
void rmsprop_step(DType, int, const std::vector<ParamSlot>&, const RmspropOptions&) { not_built(); }
void adam_step(DType, int, const std::vector<ParamSlot>&, const AdamOptions&) { not_built(); }

}  // namespace chaingrad::cuda
