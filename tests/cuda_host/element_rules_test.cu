// Host-side check that the CUDA kernels' per-element rules (cpp/kernels/cuda/element_rules.cuh) give what
// the CPU kernels' rules (cpp/kernels/cpu/element_loops.h) give, for every op and dtype, on values that include
// NaN, infinities, signed zeros and integer edge cases. Runs on the CPU: nvcc, no GPU.
#include <cmath>
#include <cstdio>
#include <typeinfo>
#include <limits>
#include <vector>

#include "kernels/cuda/element_rules.cuh"
#include "kernels/cpu/element_loops.h"

namespace cg = chaingrad;
using cg::BinaryOp;
using cg::UnaryOp;

namespace {

int failures = 0;

bool is_transcendental(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Log || op == UnaryOp::Sqrt || op == UnaryOp::Tanh ||
         op == UnaryOp::Sigmoid || op == UnaryOp::Sin || op == UnaryOp::Cos;
}

/// Equal, both NaN, or (for transcendental results) within a few ulp: the CPU's float32 exp/tanh
/// are polynomials within 2 ulp of libm, the GPU's within 2 ulp too.
template <class T>
bool same(T a, T b, bool approx) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (a == b) return std::signbit(a) == std::signbit(b) || a != 0 || approx;
    if (!approx || std::isinf(a) || std::isinf(b)) return false;
    const T tol = std::is_same_v<T, float> ? T(8e-7) : T(1e-15);
    return std::fabs(a - b) <= tol * std::fmax(std::fabs(a), std::fabs(b)) || std::fabs(a - b) < T(1e-37);
  } else {
    return a == b;
  }
}

template <class T>
void report(const char* what, int op, double x, double y, double cpu, double gpu) {
  std::printf("%s op %d (%s) at (%g, %g): cpu %.17g vs cuda %.17g\n", what, op, typeid(T).name(), x, y, cpu, gpu);
  ++failures;
}

template <class T>
void check_unary(const std::vector<T>& values, const std::vector<UnaryOp>& ops) {
  for (UnaryOp op : ops) {
    for (T x : values) {
      T cpu{};
      cg::with_unary(op, [&](auto c) { cpu = cg::unary_value<decltype(c)::value, T>(x); });
      const T gpu = cg::cuda::unary_value<T>(op, x);
      if (!same(cpu, gpu, is_transcendental(op))) report<T>("unary", int(op), double(x), 0, double(cpu), double(gpu));
    }
  }
}

template <class T>
void check_binary(const std::vector<T>& values, const std::vector<BinaryOp>& ops, bool nonnegative_exponents) {
  for (BinaryOp op : ops) {
    for (T x : values) {
      for (T y : values) {
        if constexpr (std::is_integral_v<T>) {
          if (op == BinaryOp::Pow && nonnegative_exponents && y < 0) continue;  // refused before the kernel
        }
        if (op >= BinaryOp::Eq) {
          bool cpu = false;
          cg::with_binary(op, [&](auto c) {
            constexpr BinaryOp o = decltype(c)::value;
            if constexpr (o >= BinaryOp::Eq) cpu = cg::binary_value<o, T>(x, y);
          });
          const bool gpu = cg::cuda::compare_value<T>(op, x, y);
          if (cpu != gpu) report<T>("compare", int(op), double(x), double(y), cpu, gpu);
          continue;
        }
        T cpu{};
        cg::with_binary(op, [&](auto c) {
          constexpr BinaryOp o = decltype(c)::value;
          if constexpr (o < BinaryOp::Eq) cpu = cg::binary_value<o, T>(x, y);
        });
        const T gpu = cg::cuda::arith_value<T>(op, x, y);
        if (!same(cpu, gpu, false)) report<T>("arith", int(op), double(x), double(y), double(cpu), double(gpu));
      }
    }
  }
}

}  // namespace

int main() {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> reals{-inf, -88.5, -2.5, -1.0, -1e-30, -0.0, 0.0, 1e-30, 0.5, 1.0, 3.0, 20.0, 88.5, inf, nan};
  const std::vector<float> floats(reals.begin(), reals.end());
  const std::vector<std::int64_t> ints{-7, -2, -1, 0, 1, 2, 5, 9};
  const std::vector<UnaryOp> all_unary{UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Exp, UnaryOp::Log, UnaryOp::Sqrt,
                                       UnaryOp::Tanh, UnaryOp::Sigmoid, UnaryOp::Relu, UnaryOp::Sign,
                                       UnaryOp::Square, UnaryOp::Sin, UnaryOp::Cos};
  const std::vector<UnaryOp> int_unary{UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Relu, UnaryOp::Sign, UnaryOp::Square};
  const std::vector<BinaryOp> all_binary{BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Pow,
                                         BinaryOp::Maximum, BinaryOp::Minimum, BinaryOp::Eq, BinaryOp::Ne,
                                         BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge};
  const std::vector<BinaryOp> bool_binary{BinaryOp::Add, BinaryOp::Mul, BinaryOp::Maximum, BinaryOp::Minimum,
                                          BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt,
                                          BinaryOp::Ge};
  check_unary<double>(reals, all_unary);
  check_unary<float>(floats, all_unary);
  check_unary<std::int64_t>(ints, int_unary);
  check_unary<bool>({false, true}, {UnaryOp::Abs});
  check_binary<double>(reals, all_binary, false);
  check_binary<float>(floats, all_binary, false);
  check_binary<std::int64_t>(ints, all_binary, true);
  check_binary<bool>({false, true}, bool_binary, false);
  std::printf(failures ? "FAILED (%d)\n" : "ok\n", failures);
  return failures ? 1 : 0;
}
