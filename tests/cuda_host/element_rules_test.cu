// Host-side check of the per-element rules the CUDA kernels run (kernels/element_rules.h, shared
// with the CPU; see Note [one rule for both devices]): compiled by nvcc, the runtime-op forms the
// kernels call give exactly what the compile-time forms of the CPU loops give, for every op of the
// table, every dtype the op reaches and its parameters, on values that include NaN, infinities,
// signed zeros and integer edge cases. Runs on the CPU: nvcc, no GPU.
#include <cmath>
#include <cstdio>
#include <limits>
#include <typeinfo>
#include <vector>

#include "kernels/cpu/element_loops.h"
#include "kernels/element_rules.h"

namespace cg = chaingrad;
using cg::BinaryOp;
using cg::DTypeRule;
using cg::OpParams;
using cg::UnaryOp;

namespace {

int failures = 0;

/// Equal bits: both NaN, or equal with the same sign of zero.
template <class T>
bool same(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return a == b && std::signbit(a) == std::signbit(b);
  } else {
    return a == b;
  }
}

template <class T>
void report(const char* what, const char* op, double x, double y, double cpu, double gpu) {
  std::printf("%s %s (%s) at (%g, %g): cpu %.17g vs cuda %.17g\n", what, op, typeid(T).name(), x, y, cpu, gpu);
  ++failures;
}

/// Whether a unary op reaches a loop of dtype T (see DTypeRule).
template <class T>
bool reaches(UnaryOp op) {
  const DTypeRule rule = cg::dtype_rule(op);
  if constexpr (std::is_same_v<T, bool>) return op == UnaryOp::Abs;
  else if constexpr (std::is_integral_v<T>) return rule == DTypeRule::Keep || rule == DTypeRule::KeepNoBool;
  else return true;
}

template <class T>
void check_unary(const std::vector<T>& values, const std::vector<OpParams>& params) {
  for (int i = 0; i < cg::kUnaryOpCount; ++i) {
    const UnaryOp op = static_cast<UnaryOp>(i);
    if (!reaches<T>(op)) continue;
    for (const OpParams& p : params) {
      for (T x : values) {
        T cpu{};
        cg::with_unary(op, [&](auto c) { cpu = cg::unary_value<decltype(c)::value, T>(x, p); });
        const T gpu = cg::unary_value<T>(op, x, p);
        if (!same(cpu, gpu)) report<T>("unary", cg::unary_op_name(op), double(x), p.a, double(cpu), double(gpu));
      }
    }
  }
}

template <class T>
void check_binary(const std::vector<T>& values) {
  for (int i = 0; i < cg::kBinaryOpCount; ++i) {
    const BinaryOp op = static_cast<BinaryOp>(i);
    const DTypeRule rule = cg::dtype_rule(op);
    if constexpr (!std::is_floating_point_v<T>) {
      if (rule == DTypeRule::Float) continue;  // computed in float
      if (std::is_same_v<T, bool> && (op == BinaryOp::Sub || op == BinaryOp::Pow || rule == DTypeRule::KeepNoBool))
        continue;
    }
    for (T x : values) {
      for (T y : values) {
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          if (op == BinaryOp::Pow && y < 0) continue;             // refused before the kernel
          if (rule == DTypeRule::KeepNoBool && y == 0) continue;  // fmod, remainder: refused
        }
        if (cg::is_comparison(op)) {
          bool cpu = false;
          cg::with_binary(op, [&](auto c) {
            constexpr BinaryOp o = decltype(c)::value;
            if constexpr (cg::is_comparison(o)) cpu = cg::binary_value<o, T>(x, y);
          });
          const bool gpu = cg::compare_value<T>(op, x, y);
          if (cpu != gpu) report<T>("compare", cg::binary_op_name(op), double(x), double(y), cpu, gpu);
          continue;
        }
        T cpu{};
        cg::with_binary(op, [&](auto c) {
          constexpr BinaryOp o = decltype(c)::value;
          if constexpr (!cg::is_comparison(o)) cpu = cg::binary_value<o, T>(x, y);
        });
        const T gpu = cg::arith_value<T>(op, x, y);
        if (!same(cpu, gpu)) report<T>("arith", cg::binary_op_name(op), double(x), double(y), double(cpu), double(gpu));
      }
    }
  }
}

/// A few spot values against libm, so a rule that is wrong on both devices is caught too.
void check_values() {
  auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-12 * std::fmax(1.0, std::fabs(b)); };
  const struct {
    double got, want;
    const char* what;
  } cases[] = {
      {cg::unary_value<UnaryOp::Log1p, double>(1e-20), 1e-20, "log1p(1e-20)"},
      {cg::unary_value<UnaryOp::Expm1, double>(1e-20), 1e-20, "expm1(1e-20)"},
      {cg::unary_value<UnaryOp::Softplus, double>(30.0, {1.0, 20.0}), 30.0, "softplus past the threshold"},
      {cg::unary_value<UnaryOp::LogSigmoid, double>(-800.0), -800.0, "logsigmoid(-800)"},
      {cg::unary_value<UnaryOp::Hardtanh, double>(5.0, {-1.0, 2.0}), 2.0, "hardtanh(5, -1, 2)"},
      {cg::binary_value<BinaryOp::Remainder, double>(-3.0, 2.0), 1.0, "remainder(-3, 2)"},
      {cg::binary_value<BinaryOp::Fmod, double>(-3.0, 2.0), -1.0, "fmod(-3, 2)"},
      {double(cg::binary_value<BinaryOp::Remainder, std::int64_t>(-7, 3)), 2.0, "remainder(-7, 3)"},
      {double(cg::binary_value<BinaryOp::Remainder, std::int64_t>(std::numeric_limits<std::int64_t>::min(), -1)), 0.0,
       "remainder(INT64_MIN, -1)"},
  };
  for (const auto& c : cases) {
    if (!near(c.got, c.want)) {
      std::printf("%s: %.17g, expected %.17g\n", c.what, c.got, c.want);
      ++failures;
    }
  }
}

}  // namespace

int main() {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> reals{-inf, -88.5, -2.5, -1.0, -1e-30, -0.0, 0.0, 1e-30,
                                  0.5,  1.0,   3.0,  20.0, 88.5,   inf,  nan};
  const std::vector<float> floats(reals.begin(), reals.end());
  const std::vector<std::int64_t> ints{std::numeric_limits<std::int64_t>::min(), -7, -2, -1, 0, 1, 2, 5, 9};
  // none, and each op's parameter slots filled (softplus (2, 3), gelu 'tanh', slopes and bounds)
  const std::vector<OpParams> params{{}, {1.0, 20.0}, {2.0, 3.0}, {1.0, 0.0}, {-1.0, 1.0}, {0.01, 0.0}};
  check_unary<double>(reals, params);
  check_unary<float>(floats, params);
  check_unary<std::int64_t>(ints, params);
  check_unary<bool>({false, true}, params);
  check_binary<double>(reals);
  check_binary<float>(floats);
  check_binary<std::int64_t>(ints);
  check_binary<bool>({false, true});
  check_values();
  std::printf(failures ? "FAILED (%d)\n" : "ok\n", failures);
  return failures ? 1 : 0;
}
