#include <cblas.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace chaingrad {

// Note [one thread pool]
// The parallel kernels and the large GEMMs share one pool of worker threads, and OpenBLAS runs
// single-threaded. The pool replaces OpenMP's, and OpenBLAS's own, for two reasons measured on a
// 2-core machine:
//   - Both of those pools spin for a long while after each parallel region (OpenBLAS about 0.1 s),
//     so during training they never sleep. With a busy neighbour process there were then more
//     spinning threads than cores, and at 2 threads an MLP step ran 15 times slower than at 1.
//   - An OpenMP region always joins: the caller waits for every worker, even one the scheduler
//     has not run yet. Waking a sleeping worker costs 100 us or more on a virtual machine, so a
//     passive OpenMP (OMP_WAIT_POLICY=passive) made 2 threads slower than 1 even on an idle machine.
// So a job is a fixed set of chunks that the calling thread and the workers claim one at a time:
// the caller never waits for a chunk nobody has started, only for chunks a worker is running. A
// worker that comes late finds nothing left, and a job then costs what one thread costs. Workers
// spin briefly between jobs (yielding the core to anything else runnable), then sleep. The chunks
// are fixed by the job's size and the thread count, never by who runs them, so results do not
// depend on timing. The pool is process-wide state by necessity (threads are); it forgets its
// workers in a forked child, where they do not exist.

namespace {

/// How long an idle worker keeps checking for the next job before it sleeps: longer than the gaps
/// between a training step's kernels, short enough that an idle process sleeps at once.
constexpr std::chrono::microseconds kWorkerSpin{1000};

std::int64_t default_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {  // honoured as OpenMP did
    const long n = std::strtol(env, nullptr, 10);
    if (n >= 1) return n;
  }
#ifdef __linux__
  cpu_set_t set;  // the cores this process may run on, which a container or taskset may limit
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

class Pool {
 public:
  static Pool& instance() {
    static Pool pool;
    return pool;
  }

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void set_threads(int n) {
    std::lock_guard<std::mutex> run(run_);
    stop_workers();
    threads_.store(n, std::memory_order_relaxed);
  }

  void run(int chunks, void (*fn)(void*, int), void* ctx) {
    std::unique_lock<std::mutex> run(run_, std::try_to_lock);
    // one job at a time: another thread's job in flight, or a chunk that itself splits, runs here
    if (chunks <= 1 || threads() == 1 || !run.owns_lock()) {
      for (int i = 0; i < chunks; ++i) fn(ctx, i);
      return;
    }
    start_workers();
    std::unique_lock<std::mutex> lock(m_);
    fn_ = fn;
    ctx_ = ctx;
    chunks_ = chunks;
    next_ = finished_ = 0;
    epoch_.fetch_add(1, std::memory_order_release);
    if (sleepers_ > 0) wake_->notify_all();
    work(lock);
    while (finished_ < chunks_) {  // chunks that workers are running: short, so spin
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
    fn_ = nullptr;
    // a chunk that threw (std::bad_alloc, say) fails the job once every chunk is over, on the
    // calling thread, so no worker is left running fn_ on a frame that unwound
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

  ~Pool() {
    std::lock_guard<std::mutex> run(run_);
    stop_workers();
  }

 private:
  Pool() : threads_(static_cast<int>(default_threads())) {
    pthread_atfork([] { Pool::instance().before_fork(); }, [] { Pool::instance().after_fork(false); },
                   [] { Pool::instance().after_fork(true); });
  }

  /// Claims and runs chunks of the current job until none is left (m_ held by lock).
  void work(std::unique_lock<std::mutex>& lock) {
    while (fn_ != nullptr && next_ < chunks_) {
      const int i = next_++;
      void (*fn)(void*, int) = fn_;
      void* ctx = ctx_;
      lock.unlock();
      std::exception_ptr failed;
      try {
        fn(ctx, i);
      } catch (...) {
        failed = std::current_exception();
      }
      lock.lock();
      if (failed && !error_) error_ = failed;
      ++finished_;
    }
  }

  void worker() {
    std::uint64_t seen = epoch_.load(std::memory_order_acquire);
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      while (epoch_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed) &&
             std::chrono::steady_clock::now() - start < kWorkerSpin) {
        std::this_thread::yield();  // a neighbour that wants this core gets it
      }
      std::unique_lock<std::mutex> lock(m_);
      if (epoch_.load(std::memory_order_relaxed) == seen && !stop_.load(std::memory_order_relaxed)) {
        ++sleepers_;
        wake_->wait(lock, [&] {
          return stop_.load(std::memory_order_relaxed) || epoch_.load(std::memory_order_relaxed) != seen;
        });
        --sleepers_;
      }
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = epoch_.load(std::memory_order_relaxed);
      work(lock);
    }
  }

  /// Starts threads() - 1 workers if none run (run_ held).
  void start_workers() {
    if (workers_ && !workers_->empty()) return;
    workers_ = std::make_unique<std::vector<std::thread>>();
    stop_.store(false, std::memory_order_relaxed);
    for (int i = 1; i < threads(); ++i) workers_->emplace_back([this] { worker(); });
  }

  /// Stops and joins the workers (run_ held).
  void stop_workers() {
    if (!workers_) return;
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_.store(true, std::memory_order_relaxed);
      wake_->notify_all();
    }
    for (std::thread& t : *workers_) t.join();
    workers_.reset();
  }

  void before_fork() {
    run_.lock();
    m_.lock();
  }
  void after_fork(bool child) {
    m_.unlock();
    run_.unlock();
    if (child) {
      // the workers do not exist here: drop their handles unjoined (a std::thread destroyed while
      // joinable would terminate) and the condition variable they slept on (its state counts
      // waiters that are gone, so a notify would wait for them forever); start afresh next job
      (void)workers_.release();
      (void)wake_.release();
      wake_ = std::make_unique<std::condition_variable>();
      sleepers_ = 0;
    }
  }

  std::atomic<int> threads_;
  std::mutex run_;  // held by the thread whose job is in flight
  std::mutex m_;    // guards the job and the counters below
  std::unique_ptr<std::condition_variable> wake_ = std::make_unique<std::condition_variable>();
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<bool> stop_{false};
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  std::exception_ptr error_;  // the first exception a chunk of the current job threw
  int chunks_ = 0, next_ = 0, finished_ = 0, sleepers_ = 0;
  std::unique_ptr<std::vector<std::thread>> workers_;
};

/// Multiply-adds below which a GEMM stays on one thread: below this each block would be too small
/// to repay its own packing of the shared operand.
constexpr double kGemmParallelMacs = double(1 << 22);
/// Block bounds are multiples of this, so every block but the last fills whole micro-tiles.
constexpr int kGemmAlign = 16;

/// OpenBLAS set to one thread, once, before the first GEMM (a function-local static:
/// thread-safe), so its own pool never wakes (see the Note).
void blas_single_threaded() {
  static const bool once = [] {
    scipy_openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
}

/// How many blocks a GEMM of n x m outputs and k inner products is split into.
int gemm_blocks(int n, int m, int k) {
  if (double(n) * double(m) * double(k) < kGemmParallelMacs) return 1;
  return std::max(1, std::min(get_num_threads(), std::max(n, m) / kGemmAlign));
}

template <class T>
void blas_call(bool ta, bool tb, int n, int m, int k, const T* a, int lda, const T* b, int ldb, T beta, T* c, int ldc) {
  const auto trans_a = ta ? CblasTrans : CblasNoTrans, trans_b = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    scipy_cblas_sgemm(CblasRowMajor, trans_a, trans_b, n, m, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  } else {
    scipy_cblas_dgemm(CblasRowMajor, trans_a, trans_b, n, m, k, 1.0, a, lda, b, ldb, beta, c, ldc);
  }
}

}  // namespace

void set_num_threads(int n) {
  blas_single_threaded();
  Pool::instance().set_threads(n);
}

int get_num_threads() { return Pool::instance().threads(); }

void parallel_chunks(int chunks, void (*fn)(void*, int), void* ctx) { Pool::instance().run(chunks, fn, ctx); }

template <class T>
void blas_gemm(bool ta, bool tb, int n, int m, int k, const T* a, int lda, const T* b, int ldb, T beta, T* c, int ldc) {
  blas_single_threaded();
  const int blocks = gemm_blocks(n, m, k);
  if (blocks == 1) return blas_call(ta, tb, n, m, k, a, lda, b, ldb, beta, c, ldc);
  // split C's longer side: blocks of rows take rows of op(A), blocks of columns columns of op(B)
  const bool by_rows = n >= m;
  const int extent = by_rows ? n : m;
  const int step = (extent / blocks + kGemmAlign - 1) / kGemmAlign * kGemmAlign;
  parallel_chunks(blocks, [&](int i) {
    const int begin = i * step, end = i + 1 == blocks ? extent : std::min(extent, begin + step);
    if (begin >= end) return;
    if (by_rows) {
      blas_call(ta, tb, end - begin, m, k, a + std::int64_t(begin) * (ta ? 1 : lda), lda, b, ldb, beta,
                c + std::int64_t(begin) * ldc, ldc);
    } else {
      blas_call(ta, tb, n, end - begin, k, a, lda, b + std::int64_t(begin) * (tb ? ldb : 1), ldb, beta, c + begin, ldc);
    }
  });
}

template void blas_gemm<float>(bool, bool, int, int, int, const float*, int, const float*, int, float, float*, int);
template void blas_gemm<double>(bool, bool, int, int, int, const double*, int, const double*, int, double, double*,
                                int);

}  // namespace chaingrad
