// Matrix products on the GPU: cuBLAS (opened with dlopen at run time, so the module neither links
// nor needs it) for float32/float64 views it can read, else a shared-memory tiled kernel.
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <mutex>
#include <type_traits>
#include <vector>

#include "kernels/cuda/common.cuh"

namespace chaingrad::cuda {
namespace {

// --- cuBLAS, declared by hand -------------------------------------------------------------------
// The few cuBLAS types and values used here, copied from cublas_api.h so that building needs no
// cuBLAS headers. Its enums are C enums, passed as int by the C calling convention.
using cublasHandle_t = struct cublasContext*;
using cublasStatus_t = int;
constexpr int CUBLAS_OP_N = 0;
constexpr int CUBLAS_OP_T = 1;
constexpr int CUBLAS_DEFAULT_MATH = 0;

using CreateFn = cublasStatus_t (*)(cublasHandle_t*);
using SetStreamFn = cublasStatus_t (*)(cublasHandle_t, cudaStream_t);
using SetMathModeFn = cublasStatus_t (*)(cublasHandle_t, int);
template <class T>
using GemmFn = cublasStatus_t (*)(cublasHandle_t, int, int, int, int, int, const T*, const T*, int, const T*, int,
                                  const T*, T*, int);

// Note [cuBLAS state]
// Process-wide on purpose: the library, once loaded, stays loaded, and each device's handle lives
// until the process exits (destroying handles at exit could run after the CUDA runtime has shut
// down). The mutex guards loading (at the first float matmul) and lazy handle creation; `loaded` is set last, with
// release order, so a reader that sees it also sees the function pointers. Handles are shared between host threads,
// which cuBLAS allows as long as their configuration is not changed afterwards (it never is: math mode and stream are
// set once, at creation).
struct Cublas {
  std::mutex mutex;
  std::atomic<bool> loaded{false};
  void* library = nullptr;
  CreateFn create = nullptr;
  SetStreamFn set_stream = nullptr;
  SetMathModeFn set_math_mode = nullptr;
  GemmFn<float> sgemm = nullptr;
  GemmFn<double> dgemm = nullptr;
  std::vector<cublasHandle_t> handles;  // by device index, null until first used
  std::vector<std::string> paths;       // candidates, preferred first
  bool tried = false;                   // the candidates were tried (at the first float matmul)
  std::string status;                   // why cuBLAS is not used, once tried
};

Cublas& cublas() {
  static Cublas state;
  return state;
}

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != 0) {
    throw std::runtime_error(std::string("cuBLAS ") + what + " failed with status " + std::to_string(status));
  }
}

/// The handle of `device`, which must be the current device (the handle binds to it).
cublasHandle_t handle_for(int device) {
  Cublas& c = cublas();
  std::lock_guard<std::mutex> lock(c.mutex);
  const auto d = static_cast<std::size_t>(device);
  if (c.handles.size() <= d) c.handles.resize(d + 1, nullptr);
  if (c.handles[d] == nullptr) {
    cublasHandle_t handle = nullptr;
    check_cublas(c.create(&handle), "cublasCreate");
    // Should either call below fail (it does not in practice), the handle is leaked rather than
    // kept half configured; cublasDestroy is not resolved for this one case.
    check_cublas(c.set_math_mode(handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");  // no TF32, as PyTorch
    check_cublas(c.set_stream(handle, stream()), "cublasSetStream");
    c.handles[d] = handle;
  }
  return c.handles[d];
}

/// How cuBLAS can read a row-major rows x cols view with element (r, c) at r * rs + c * cs: as is
/// (unit column stride, leading dim rs) or as the transpose of one (unit row stride, leading dim
/// cs). A stride along a size-1 dim is never used, so it is ignored; cuBLAS still wants the
/// leading dim at least the length of the unit-stride side, and it must fit an int.
struct BlasOperand {
  bool usable = false;
  bool transposed = false;
  std::int64_t ld = 0;
};

BlasOperand blas_operand(std::int64_t rows, std::int64_t cols, std::int64_t rs, std::int64_t cs) {
  if (cs == 1 || cols == 1) {
    const std::int64_t need = std::max<std::int64_t>(cols, 1);
    const std::int64_t ld = rows == 1 ? need : rs;
    if (ld >= need && ld <= INT_MAX) return {true, false, ld};
  }
  if (rs == 1 || rows == 1) {
    const std::int64_t need = std::max<std::int64_t>(rows, 1);
    const std::int64_t ld = cols == 1 ? need : cs;
    if (ld >= need && ld <= INT_MAX) return {true, true, ld};
  }
  return {};
}

/// C = A @ B + beta * C through cuBLAS; false when a view cannot be passed without a copy (the
/// tiled kernel then takes it).
template <class T>
bool cublas_gemm(std::int64_t n, std::int64_t m, std::int64_t k, const T* a, std::int64_t as0, std::int64_t as1,
                 const T* b, std::int64_t bs0, std::int64_t bs1, double beta, T* c, std::int64_t ldc, int device) {
  if (n > INT_MAX || m > INT_MAX || k > INT_MAX) {
    throw std::runtime_error("matmul: matrices larger than 2^31 rows or columns are not supported");
  }
  const BlasOperand A = blas_operand(n, k, as0, as1), B = blas_operand(k, m, bs0, bs1);
  const std::int64_t ldc_used = n == 1 ? std::max<std::int64_t>(m, 1) : ldc;  // one row: ldc is never used
  if (!A.usable || !B.usable || ldc_used < std::max<std::int64_t>(m, 1) || ldc_used > INT_MAX) return false;
  // cuBLAS is column-major, where row-major C is C^T = B^T A^T: a column-major m x n product of
  // B's memory (first operand) and A's memory (second). A row-major view read as column-major is
  // already the transpose that product wants, so op N; a transposed view needs op T.
  const int op_b = B.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int op_a = A.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const T alpha = 1, beta_t = static_cast<T>(beta);
  cublasHandle_t handle = handle_for(device);
  const Cublas& lib = cublas();
  if constexpr (std::is_same_v<T, float>) {
    check_cublas(lib.sgemm(handle, op_b, op_a, int(m), int(n), int(k), &alpha, b, int(B.ld), a, int(A.ld), &beta_t, c,
                           int(ldc_used)),
                 "sgemm");
  } else {
    check_cublas(lib.dgemm(handle, op_b, op_a, int(m), int(n), int(k), &alpha, b, int(B.ld), a, int(A.ld), &beta_t, c,
                           int(ldc_used)),
                 "dgemm");
  }
  return true;
}

// --- the tiled kernel ---------------------------------------------------------------------------

constexpr int kTile = 16;  // kTile x kTile threads, one output each
static_assert(kTile * kTile == kThreads, "one tile per block of kThreads");

/// C = A @ B (+ C when accumulate) for any strides. A block computes one kTile x kTile tile of C at
/// a time, staging kTile-wide slabs of A and B through shared memory; the tile loops are uniform
/// across the block, so every thread reaches each __syncthreads. C is never read unless
/// accumulating (it may hold garbage).
template <class T>
__global__ void gemm_tiled(std::int64_t n, std::int64_t m, std::int64_t k, const T* a, std::int64_t as0,
                           std::int64_t as1, const T* b, std::int64_t bs0, std::int64_t bs1, bool accumulate, T* c,
                           std::int64_t ldc) {
  __shared__ T a_tile[kTile][kTile + 1];
  __shared__ T b_tile[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const std::int64_t row_tiles = (n + kTile - 1) / kTile, col_tiles = (m + kTile - 1) / kTile;
  for (std::int64_t ti = blockIdx.y; ti < row_tiles; ti += gridDim.y) {
    for (std::int64_t tj = blockIdx.x; tj < col_tiles; tj += gridDim.x) {
      const std::int64_t i = ti * kTile + ty, j = tj * kTile + tx;
      T acc = 0;
      for (std::int64_t p0 = 0; p0 < k; p0 += kTile) {
        const std::int64_t ap = p0 + tx, bp = p0 + ty;
        a_tile[ty][tx] = i < n && ap < k ? a[i * as0 + ap * as1] : T(0);
        b_tile[ty][tx] = bp < k && j < m ? b[bp * bs0 + j * bs1] : T(0);
        __syncthreads();
        for (int q = 0; q < kTile; ++q) acc += a_tile[ty][q] * b_tile[q][tx];
        __syncthreads();  // the next slab overwrites the tiles
      }
      if (i < n && j < m) {
        T* out = c + i * ldc + j;
        *out = accumulate ? *out + acc : acc;
      }
    }
  }
}

template <class T>
void tiled_gemm(std::int64_t n, std::int64_t m, std::int64_t k, const T* a, std::int64_t as0, std::int64_t as1,
                const T* b, std::int64_t bs0, std::int64_t bs1, double beta, T* c, std::int64_t ldc) {
  const std::int64_t row_tiles = (n + kTile - 1) / kTile, col_tiles = (m + kTile - 1) / kTile;
  const dim3 grid(static_cast<unsigned>(std::min<std::int64_t>(col_tiles, 65535LL * 8)),
                  static_cast<unsigned>(std::min<std::int64_t>(row_tiles, 65535)));  // loops take the rest
  gemm_tiled<T><<<grid, dim3(kTile, kTile), 0, stream()>>>(n, m, k, a, as0, as1, b, bs0, bs1, beta != 0.0, c, ldc);
  CG_CHECK_LAUNCH("gemm_tiled");
}

/// Zeroes the n x m matrix with row stride ldc (zero bytes are 0 in every dtype).
void zero_matrix(void* c, std::int64_t n, std::int64_t m, std::int64_t ldc, std::size_t item) {
  if (n == 1 || ldc == m) {
    CG_CUDA_CHECK(cudaMemsetAsync(c, 0, static_cast<std::size_t>(n * m) * item, stream()));
  } else {
    CG_CUDA_CHECK(cudaMemset2DAsync(c, static_cast<std::size_t>(ldc) * item, 0, static_cast<std::size_t>(m) * item,
                                    static_cast<std::size_t>(n), stream()));
  }
}

/// Opens cuBLAS at path and resolves what gemm needs; "" or why not. Called with the mutex held.
std::string open_cublas(Cublas& c, const std::string& path) {
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    return "cannot load " + path + ": " + (why ? why : "unknown error");
  }
  std::string missing;
  auto resolve = [&](const char* name) -> void* {
    if (!missing.empty()) return nullptr;
    dlerror();  // clear a stale error
    void* symbol = dlsym(library, name);
    if (symbol == nullptr) {
      const char* why = dlerror();
      missing = std::string(name) + " not found in " + path + (why ? std::string(": ") + why : std::string());
    }
    return symbol;
  };
  void* create = resolve("cublasCreate_v2");
  void* set_stream = resolve("cublasSetStream_v2");
  void* set_math_mode = resolve("cublasSetMathMode");
  void* sgemm = resolve("cublasSgemm_v2");
  void* dgemm = resolve("cublasDgemm_v2");
  if (!missing.empty()) {
    dlclose(library);
    return missing;
  }
  c.library = library;
  c.create = reinterpret_cast<CreateFn>(create);
  c.set_stream = reinterpret_cast<SetStreamFn>(set_stream);
  c.set_math_mode = reinterpret_cast<SetMathModeFn>(set_math_mode);
  c.sgemm = reinterpret_cast<GemmFn<float>>(sgemm);
  c.dgemm = reinterpret_cast<GemmFn<double>>(dgemm);
  c.loaded.store(true, std::memory_order_release);
  return "";
}

/// True when float matmuls go through cuBLAS; the first call tries the candidate paths.
bool has_cublas() {
  Cublas& c = cublas();
  if (c.loaded.load(std::memory_order_acquire)) return true;
  std::lock_guard<std::mutex> lock(c.mutex);
  if (!c.tried) {  // the first float matmul on a GPU: try the candidates once
    c.tried = true;
    c.status = c.paths.empty() ? "the nvidia-cublas wheel is not installed (pip install 'chaingrad[cuda]')" : "";
    for (const std::string& path : c.paths) {
      c.status = open_cublas(c, path);
      if (c.status.empty()) break;
    }
  }
  return c.loaded.load(std::memory_order_acquire);
}

}  // namespace

void gemm(DType dtype, std::int64_t n, std::int64_t m, std::int64_t k, const void* a, std::int64_t as0,
          std::int64_t as1, const void* b, std::int64_t bs0, std::int64_t bs1, double beta, void* c, std::int64_t ldc,
          int device) {
  if (n <= 0 || m <= 0) return;
  DeviceGuard guard(device);
  if (k <= 0) {  // an empty sum: C = beta * C
    if (beta == 0.0) zero_matrix(c, n, m, ldc, itemsize(dtype));
    return;
  }
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      throw std::logic_error("cuda::gemm: bool matrices are not supported");
    } else {
      const T* pa = static_cast<const T*>(a);
      const T* pb = static_cast<const T*>(b);
      T* pc = static_cast<T*>(c);
      if constexpr (std::is_floating_point_v<T>) {
        if (has_cublas() && cublas_gemm<T>(n, m, k, pa, as0, as1, pb, bs0, bs1, beta, pc, ldc, device)) return;
      }
      tiled_gemm<T>(n, m, k, pa, as0, as1, pb, bs0, bs1, beta, pc, ldc);
    }
  });
}

void set_cublas_paths(const std::vector<std::string>& paths) {
  Cublas& c = cublas();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.tried) return;  // the first matmul already chose
  c.paths = paths;
}

std::string cublas_status() {
  Cublas& c = cublas();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.loaded.load(std::memory_order_acquire)) return "";
  if (!c.tried) return "not loaded yet: cuBLAS is opened at the first float matmul on a GPU";
  return c.status;
}

}  // namespace chaingrad::cuda
