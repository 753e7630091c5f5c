// Devices and memory: what is available, the caching allocator, and copies between host and
// device.
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/common.cuh"

namespace chaingrad::cuda {

bool is_built() { return true; }

namespace {

struct Availability {
  int count = 0;
  std::string reason;
};

/// Asked once: the driver's answer does not change while the process lives, and asking again
/// after a failure would only repeat it.
const Availability& availability() {
  static const Availability answer = [] {
    Availability a;
    const cudaError_t status = cudaGetDeviceCount(&a.count);
    if (status != cudaSuccess) {
      cudaGetLastError();
      a.count = 0;
      a.reason = std::string("no CUDA device (") + cudaGetErrorName(status) + ": " + cudaGetErrorString(status) + ")";
    } else if (a.count == 0) {
      a.reason = "no CUDA device (the driver reports none)";
    }
    return a;
  }();
  return answer;
}

std::string mib(std::size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

// Note [caching allocator]
// cudaMalloc and cudaFree are slow (cudaFree also waits for the whole device), so freed blocks go
// to a per-device cache and are handed out again. Reuse needs no synchronisation because every
// kernel runs on the device's one stream: work queued by the next owner of a block runs after the
// work queued by its previous owner. Sizes are rounded (512 bytes below 1 MiB, 2 MiB above) so
// that a training loop's tensors find their blocks again; a cached block serves any request of at
// least half its size. One process-wide instance, because device memory is process-wide.
class CachingAllocator {
 public:
  void* allocate(std::size_t nbytes, int device) {
    if (nbytes == 0) return nullptr;
    const std::size_t size = round(nbytes);
    std::lock_guard<std::mutex> lock(mutex_);
    Cache& cache = cache_for(device);
    auto it = cache.free.lower_bound(size);
    void* ptr = nullptr;
    std::size_t block = size;
    if (it != cache.free.end() && it->first <= 2 * size) {
      block = it->first;
      ptr = it->second;
      cache.free.erase(it);
    } else {
      ptr = fresh_block(cache, size, nbytes, device);
    }
    cache.sizes[ptr] = block;
    cache.allocated += block;
    if (cache.allocated > cache.peak) cache.peak = cache.allocated;
    return ptr;
  }

  void release(void* ptr, int device) {
    if (ptr == nullptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    Cache& cache = cache_for(device);
    const auto it = cache.sizes.find(ptr);
    if (it == cache.sizes.end()) return;  // not ours: nothing to give back
    cache.allocated -= it->second;
    cache.free.emplace(it->second, ptr);
    cache.sizes.erase(it);
  }

  std::size_t allocated(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return cache_for(device).allocated;
  }

  std::size_t peak(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return cache_for(device).peak;
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t d = 0; d < caches_.size(); ++d) free_cached(caches_[d], static_cast<int>(d));
  }

 private:
  struct Cache {
    std::multimap<std::size_t, void*> free;           // cached blocks by size
    std::unordered_map<void*, std::size_t> sizes;     // handed-out blocks
    std::size_t allocated = 0, peak = 0, cached = 0;  // cached: every block cudaMalloc gave us
  };

  static std::size_t round(std::size_t n) {
    constexpr std::size_t kSmall = 512, kLarge = 2 << 20, kSmallLimit = 1 << 20;
    const std::size_t unit = n <= kSmallLimit ? kSmall : kLarge;
    return (n + unit - 1) / unit * unit;
  }

  Cache& cache_for(int device) {
    if (device < 0) throw std::runtime_error("CUDA allocation on an invalid device index " + std::to_string(device));
    if (static_cast<std::size_t>(device) >= caches_.size()) caches_.resize(static_cast<std::size_t>(device) + 1);
    return caches_[static_cast<std::size_t>(device)];
  }

  void free_cached(Cache& cache, int device) {
    if (cache.free.empty()) return;
    DeviceGuard guard(device);
    for (const auto& [size, ptr] : cache.free) {
      cudaFree(ptr);
      cache.cached -= size;
    }
    cache.free.clear();
  }

  void* fresh_block(Cache& cache, std::size_t size, std::size_t requested, int device) {
    DeviceGuard guard(device);
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {  // give the cache back and try once more
      cudaGetLastError();
      free_cached(cache, device);
      status = cudaMalloc(&ptr, size);
    }
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      std::size_t free_bytes = 0, total = 0;
      cudaMemGetInfo(&free_bytes, &total);
      cudaGetLastError();
      throw std::runtime_error("CUDA out of memory. Tried to allocate " + mib(requested) + " (GPU " +
                               std::to_string(device) + "; " + mib(total) + " total capacity; " + mib(free_bytes) +
                               " free; " + mib(cache.allocated) + " allocated by chaingrad; " + mib(cache.cached) +
                               " reserved by chaingrad)");
    }
    check(status, "cudaMalloc");
    cache.cached += size;
    return ptr;
  }

  std::mutex mutex_;
  std::vector<Cache> caches_;
};

CachingAllocator& allocator() {
  static CachingAllocator instance;
  return instance;
}

}  // namespace

int device_count() { return availability().count; }

std::string unavailable_reason() { return availability().reason; }

void require_device(int index) {
  const Availability& a = availability();
  if (a.count == 0) throw std::runtime_error("CUDA is not available: " + a.reason);
  if (index < 0 || index >= a.count) {
    throw std::runtime_error("CUDA error: invalid device ordinal: cuda:" + std::to_string(index) + " requested, " +
                             std::to_string(a.count) + " device(s) present");
  }
}

std::string device_name(int index) {
  require_device(index);
  cudaDeviceProp props{};
  CG_CUDA_CHECK(cudaGetDeviceProperties(&props, index));
  return props.name;
}

void synchronize(int index) {
  require_device(index);
  DeviceGuard guard(index);
  CG_CUDA_CHECK(cudaDeviceSynchronize());
}

void stream_wait(std::uintptr_t other, int index) {
  require_device(index);
  DeviceGuard guard(index);
  cudaEvent_t done;
  CG_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  const cudaError_t recorded = cudaEventRecord(done, stream());
  const cudaError_t waited =
      recorded == cudaSuccess ? cudaStreamWaitEvent(reinterpret_cast<cudaStream_t>(other), done, 0) : recorded;
  cudaEventDestroy(done);  // released once the wait is over; the wait itself stays queued
  check(waited, "cudaStreamWaitEvent");
}

void* allocate(std::size_t nbytes, int device) {
  require_device(device);
  return allocator().allocate(nbytes, device);
}

void release(void* ptr, int device) { allocator().release(ptr, device); }

std::size_t memory_allocated(int device) { return device_count() ? allocator().allocated(device) : 0; }

std::size_t max_memory_allocated(int device) { return device_count() ? allocator().peak(device) : 0; }

void empty_cache() {
  if (device_count()) allocator().empty_cache();
}

void copy_bytes(void* dst, int dst_device, const void* src, int src_device, std::size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_device >= 0 && src_device >= 0 && dst_device != src_device) {
    // the synchronous form is ordered after the work queued on both devices and before later work
    CG_CUDA_CHECK(cudaMemcpyPeer(dst, dst_device, src, src_device, nbytes));
    return;
  }
  const int device = dst_device >= 0 ? dst_device : src_device;
  DeviceGuard guard(device);
  if (dst_device >= 0 && src_device >= 0) {
    CG_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  // With the host involved: cudaMemcpy waits for the kernels queued before it, so the host sees
  // (or hands over) finished data; it also reports errors of those kernels.
  CG_CUDA_CHECK(cudaMemcpy(dst, src, nbytes, dst_device >= 0 ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost));
}

}  // namespace chaingrad::cuda
