// The CUDA backend as the rest of the engine sees it: plain C++, no CUDA types. The kernels behind
// it live in cpp/kernels/cuda/*.cu and are compiled only in a build with CHAINGRAD_CUDA=ON;
// otherwise cpp/kernels/cuda/unavailable.cpp answers every call, and no cuda tensor can be created.
//
// Callers check shapes, dtypes and devices first: every function here receives operands that are
// already on one CUDA device, already converted to the op's dtype, with strides broadcast to the
// output's shape. Kernels are queued on the device's legacy default stream without waiting for
// them; only copies to the host, item() and synchronize() wait.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "tensor/tensor.h"

namespace chaingrad::cuda {

// --- devices --------------------------------------------------------------------------------
/// True when the module was compiled with the CUDA kernels.
bool is_built();
/// The number of usable devices: 0 without a driver, without a device, or when not built.
int device_count();
/// Why device_count() is 0 ("chaingrad was built without CUDA", "no CUDA device (...)"), or "".
std::string unavailable_reason();
/// Throws std::runtime_error naming the reason when device `index` cannot be used.
void require_device(int index);
/// The device's marketing name ("NVIDIA H100 80GB HBM3").
std::string device_name(int index);
/// Waits for every kernel queued on the device.
void synchronize(int index);
/// Makes another library's stream (a cudaStream_t given as an integer) wait for the kernels queued
/// so far on the device, without blocking the host (DLPack's stream handshake).
void stream_wait(std::uintptr_t stream, int device);

// --- memory ---------------------------------------------------------------------------------
/// nbytes of device memory from the caching allocator; throws "CUDA out of memory ..." naming the
/// sizes when even an emptied cache cannot serve it.
void* allocate(std::size_t nbytes, int device);
/// Gives a block from allocate() back to the cache (kernels already queued may still use it: the
/// next user is ordered after them on the same stream).
void release(void* ptr, int device);
/// Bytes handed out by allocate() and not yet released; the peak of that since start.
std::size_t memory_allocated(int device);
std::size_t max_memory_allocated(int device);
/// Returns the cached, unused blocks of every device to the driver.
void empty_cache();
/// Copies nbytes between host (device -1) and device memory, waiting when the host is involved.
void copy_bytes(void* dst, int dst_device, const void* src, int src_device, std::size_t nbytes);

// --- elementwise ----------------------------------------------------------------------------
/// One input of an elementwise kernel: device memory read through strides broadcast to the
/// output's shape, or a host scalar (a 0-d CPU tensor or Python number) passed by value.
struct Operand {
  const void* data = nullptr;  // null: use the scalar
  DType dtype = DType::Float32;
  Shape strides;                // elements, one per output dim
  double scalar = 0;            // the value when data is null (floating and bool)
  std::int64_t scalar_int = 0;  // the value when data is null (int64, exact)
};

/// dst[i] = convert(src[i]) over dst's shape (dst may be strided; src broadcast).
void copy(const TensorImpl& dst, const Operand& src);
/// Every element of dst set to value.
void fill(const TensorImpl& dst, double value);
/// out = op(in) for a contiguous out and in of out's dtype.
void unary(UnaryOp op, OpParams params, const TensorImpl& out, const Operand& in);
/// out = op(x, y), x and y of dtype `dtype` (out is bool for comparisons), out contiguous.
void binary(BinaryOp op, DType dtype, const TensorImpl& out, const Operand& x, const Operand& y);
/// out = cond ? x : y (cond bool; x, y of out's dtype).
void where(const TensorImpl& out, const Operand& cond, const Operand& x, const Operand& y);
/// out = in limited to [lo, hi]; a null bound is absent.
void clamp(const TensorImpl& out, const Operand& in, const double* lo, const double* hi);
/// out = y > 0 ? g : 0 for contiguous g, y and out of one shape and floating dtype.
void relu_backward(const TensorImpl& out, const TensorImpl& g, const TensorImpl& y);
/// True when some element of an int64 tensor is negative (waits for the answer).
bool any_negative(const TensorImpl& t);

// --- reductions -----------------------------------------------------------------------------
/// out = the sum of `in` over `dims` (sorted, distinct); out is contiguous with in's shape where
/// the reduced dims have size 1 (same element count), dtype in's (int64 for bool and int64).
/// Floating sums accumulate in double, as on the CPU.
void sum(const TensorImpl& out, const TensorImpl& in, const std::vector<std::int64_t>& dims);
/// The largest (or smallest) element along `dim` and its first index; NaN wins, as PyTorch.
/// values (in's dtype) and indices (int64) are contiguous with dim's size set to 1.
void max_along(const TensorImpl& values, const TensorImpl& indices, const TensorImpl& in, std::int64_t dim,
               bool smallest);

// --- matrix products ------------------------------------------------------------------------
/// Row-major C = A @ B + beta * C (beta 0 or 1) for n x k A and k x m B of dtype float32, float64
/// or int64, element (i, j) of A at a[i * as0 + j * as1] (likewise B), C contiguous with row
/// stride ldc. float32 and float64 go through cuBLAS when it was found (without TF32, as
/// PyTorch's default), else through chaingrad's tiled kernel.
void gemm(DType dtype, std::int64_t n, std::int64_t m, std::int64_t k, const void* a, std::int64_t as0,
          std::int64_t as1, const void* b, std::int64_t bs0, std::int64_t bs1, double beta, void* c, std::int64_t ldc,
          int device);
/// Where cuBLAS may be found (libcublas.so paths, preferred first). Nothing is loaded here: the
/// first float matmul on a GPU tries them, so importing chaingrad costs no dlopen and no CUDA
/// initialisation.
void set_cublas_paths(const std::vector<std::string>& paths);
/// "" when matmuls go through cuBLAS, else why they do not (yet).
std::string cublas_status();

// --- random numbers -------------------------------------------------------------------------
/// Seeds the generator of every device (Philox: counter-based, so a seed and the number of
/// values drawn so far fix every later value).
void manual_seed(std::uint64_t seed);
/// Fills a contiguous floating tensor with N(0, 1) (normal) or U[0, 1) samples.
void random(const TensorImpl& out, bool normal);
/// Fills a contiguous int64 tensor with integers uniform in [low, high).
void randint(const TensorImpl& out, std::int64_t low, std::int64_t high);

// --- optimizer steps ------------------------------------------------------------------------
/// One parameter of a fused optimizer step: its data, gradient, up to three state buffers (null
/// when unused), element count and the per-parameter Adam bias corrections.
struct ParamSlot {
  void* param = nullptr;
  const void* grad = nullptr;
  void* state[3] = {nullptr, nullptr, nullptr};
  std::int64_t numel = 0;
  double bias_correction1 = 1, bias_correction2_sqrt = 1;
};
struct SgdOptions {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize, first;
};
struct RmspropOptions {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
};
struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled, amsgrad, maximize;
};
/// Each step updates every slot (all of one dtype, on one device) in a single kernel launch.
/// SGD state: {momentum buffer}; RMSprop: {square_avg, grad_avg, momentum buffer};
/// Adam: {exp_avg, exp_avg_sq, max_exp_avg_sq}.
void sgd_step(DType dtype, int device, const std::vector<ParamSlot>& slots, const SgdOptions& o);
void rmsprop_step(DType dtype, int device, const std::vector<ParamSlot>& slots, const RmspropOptions& o);
void adam_step(DType dtype, int device, const std::vector<ParamSlot>& slots, const AdamOptions& o);

}  // namespace chaingrad::cuda
