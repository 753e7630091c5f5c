// The differentiable elementwise ops of the op table (kernels/op_table.h): the forward is the
// kernel, the gradient formula below is written in differentiable ops (see Note [gradients as
// ops]).
#include <cmath>
#include <stdexcept>
#include <string>

#include "tensor/autograd.h"
#include "tensor/ops.h"

namespace chaingrad {

// Note [gradients as ops]
// Every gradient formula here is built from the differentiable ops (arith, apply_unary,
// pow_scalar, where_op, to_dtype, sum_to_op), never from raw kernels, so a backward pass run with
// grad mode on (create_graph=True) records the graph of the backward pass itself, which gives
// second derivatives. In an ordinary pass grad mode is off and the same ops run as plain kernels.
// Masks (comparisons) carry no gradient, and a masked gradient is selected with where_op, not
// multiplied by the mask, so an inf or NaN in g does not turn the masked-out places into NaN.
// Factors that are piecewise constant (the integer quotients in fmod's and remainder's gradients)
// are computed from detached operands: their derivative is 0, which is then exactly what the
// graph says. An op may also have a fused one-kernel gradient (relu_backward); the formula
// chooses it itself when grad mode is off, and tests/test_new_elementwise_ops.py checks that both
// give the same gradient for every op that has one (the `fused` list of _core.op_table()).

namespace {

using Grads = std::vector<TensorPtr>;
using Saved = std::vector<TensorPtr>;

DType common(const TensorPtr& a, const TensorPtr& b) { return promote(a->dtype(), b->dtype()); }
TensorPtr add(const TensorPtr& a, const TensorPtr& b) { return arith(BinaryOp::Add, a, b, common(a, b)); }
TensorPtr sub(const TensorPtr& a, const TensorPtr& b) { return arith(BinaryOp::Sub, a, b, common(a, b)); }
TensorPtr mul(const TensorPtr& a, const TensorPtr& b) { return arith(BinaryOp::Mul, a, b, common(a, b)); }
TensorPtr div(const TensorPtr& a, const TensorPtr& b) { return arith(BinaryOp::Div, a, b, common(a, b)); }
TensorPtr neg(const TensorPtr& a) { return apply_unary(UnaryOp::Neg, a); }
/// A comparison as a bool mask (no gradient flows through it).
TensorPtr cmp(BinaryOp op, const TensorPtr& a, const TensorPtr& b) { return arith(op, a, b, common(a, b)); }
/// mask ? a : b.
TensorPtr select(const TensorPtr& mask, const TensorPtr& a, const TensorPtr& b) {
  return where_op(mask, a, b, common(a, b));
}
/// The 0-d constant v in t's dtype.
TensorPtr k(double v, const TensorPtr& t) { return scalar_tensor(v, t->dtype()); }

/// Zeros shaped like g: a gradient that is 0 whatever g holds (g * 0 would be NaN where g is inf).
TensorPtr zeros_like(const TensorPtr& g) {
  TensorPtr zeros = empty(g->shape(), g->dtype(), g->device());
  fill(zeros, 0.0);
  return zeros;
}

/// The gradient for an input shaped and typed like `like`, summed over the dims broadcasting added.
TensorPtr reduce_to(const TensorPtr& g, const Shape& shape, DType dtype) {
  return to_dtype(sum_to_op(g, shape), dtype, false);
}

/// trunc(a / b) and PyTorch's floor division (div(rounding_mode='floor'), which corrects the
/// rounding of a / b: 1 // 0.1 is 9), from detached operands (see the Note).
TensorPtr trunc_div(const TensorPtr& a_in, const TensorPtr& b_in) {
  const TensorPtr a = detach_op(a_in), b = detach_op(b_in);
  const TensorPtr q = div(a, b);
  return sub(q, arith(BinaryOp::Fmod, q, k(1, q), q->dtype()));  // q minus its fraction: exact
}
TensorPtr floor_div(const TensorPtr& a_in, const TensorPtr& b_in) {
  const TensorPtr a = detach_op(a_in), b = detach_op(b_in);
  const DType dt = common(a, b);
  const TensorPtr mod = arith(BinaryOp::Fmod, a, b, dt);
  TensorPtr d = div(sub(a, mod), b);
  const TensorPtr zero = k(0, d);
  const TensorPtr adjust = cmp(BinaryOp::Mul, cmp(BinaryOp::Ne, mod, zero),
                               cmp(BinaryOp::Ne, cmp(BinaryOp::Lt, b, zero), cmp(BinaryOp::Lt, mod, zero)));
  d = select(adjust, sub(d, k(1, d)), d);
  TensorPtr fl = sub(d, arith(BinaryOp::Remainder, d, k(1, d), d->dtype()));
  fl = select(cmp(BinaryOp::Gt, sub(d, fl), k(0.5, d)), add(fl, k(1, fl)), fl);
  return select(cmp(BinaryOp::Eq, b, zero), div(a, b), fl);  // a / 0: inf or NaN, as PyTorch
}

constexpr double kSqrt2OverPi = 0.79788456080286535588;    // sqrt(2 / pi)
constexpr double kTwoOverSqrtPi = 1.12837916709551257390;  // 2 / sqrt(pi)
constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
constexpr double kLn2 = 0.69314718055994530942, kLn10 = 2.30258509299404568402;
constexpr double kGeluKappa = 0.044715;

/// What a unary op's gradient formula reads: its input x, its output y, or both.
enum class Reads : std::uint8_t { Nothing, Input, Output, Both };

Reads unary_reads(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg:
    case UnaryOp::Sign:
      return Reads::Nothing;
    case UnaryOp::Exp:
    case UnaryOp::Sqrt:
    case UnaryOp::Tanh:
    case UnaryOp::Sigmoid:
    case UnaryOp::Relu:
    case UnaryOp::Expm1:
    case UnaryOp::Rsqrt:
      return Reads::Output;
    default:
      return Reads::Input;
  }
}

/// The gradient of y = op(x) given dL/dy = g, in differentiable ops.
TensorPtr unary_grad(UnaryOp op, const OpParams& p, const TensorPtr& g, const TensorPtr& x, const TensorPtr& y) {
  switch (op) {
    case UnaryOp::Neg:
      return neg(g);
    case UnaryOp::Abs:
      return mul(g, apply_unary(UnaryOp::Sign, x));
    case UnaryOp::Exp:
      return mul(g, y);
    case UnaryOp::Log:
      return div(g, x);
    case UnaryOp::Sqrt:
      return div(g, mul(y, k(2, y)));
    case UnaryOp::Tanh:
      return mul(g, sub(k(1, y), apply_unary(UnaryOp::Square, y)));
    case UnaryOp::Sigmoid:
      return mul(g, mul(y, sub(k(1, y), y)));
    case UnaryOp::Relu:
      // PyTorch's threshold rule: where relu gave NaN the gradient passes. The fused kernel when
      // no graph of the backward pass is wanted (see the Note).
      if (!grad_enabled()) return relu_backward(g, y);
      return select(cmp(BinaryOp::Le, y, k(0, y)), k(0, g), g);
    case UnaryOp::Sign:
      return zeros_like(g);
    case UnaryOp::Square:
      return mul(g, mul(x, k(2, x)));
    case UnaryOp::Sin:
      return mul(g, apply_unary(UnaryOp::Cos, x));
    case UnaryOp::Cos:
      return neg(mul(g, apply_unary(UnaryOp::Sin, x)));
    case UnaryOp::Log1p:
      return div(g, add(x, k(1, x)));
    case UnaryOp::Expm1:
      return mul(g, add(y, k(1, y)));
    case UnaryOp::Log2:
      return div(g, mul(x, k(kLn2, x)));
    case UnaryOp::Log10:
      return div(g, mul(x, k(kLn10, x)));
    case UnaryOp::Rsqrt:
      return mul(mul(g, pow_scalar(y, 3)), k(-0.5, y));  // -y^3 / 2
    case UnaryOp::Erf:                                   // 2 / sqrt(pi) e^(-x^2)
      return mul(g, mul(k(kTwoOverSqrtPi, x), apply_unary(UnaryOp::Exp, neg(apply_unary(UnaryOp::Square, x)))));
    case UnaryOp::Softplus: {  // sigmoid(beta x), and g itself past the threshold (as the forward)
      const TensorPtr bx = mul(x, k(p.a, x));
      return select(cmp(BinaryOp::Gt, bx, k(p.b, x)), g, mul(g, apply_unary(UnaryOp::Sigmoid, bx)));
    }
    case UnaryOp::Silu: {  // s (1 + x (1 - s)), s = sigmoid(x)
      const TensorPtr s = apply_unary(UnaryOp::Sigmoid, x);
      return mul(g, mul(s, add(k(1, x), mul(x, sub(k(1, s), s)))));
    }
    case UnaryOp::Gelu: {
      if (p.a == 0.0) {  // Phi(x) + x phi(x)
        const TensorPtr cdf = mul(k(0.5, x), add(k(1, x), apply_unary(UnaryOp::Erf, mul(x, k(kInvSqrt2, x)))));
        const TensorPtr pdf =
            mul(k(kInvSqrt2Pi, x), apply_unary(UnaryOp::Exp, mul(k(-0.5, x), apply_unary(UnaryOp::Square, x))));
        return mul(g, add(cdf, mul(x, pdf)));
      }
      // PyTorch's derivative of 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + kappa x^3)
      const TensorPtr x2 = apply_unary(UnaryOp::Square, x);
      const TensorPtr u = mul(k(kSqrt2OverPi, x), add(x, mul(k(kGeluKappa, x), mul(x2, x))));
      const TensorPtr t = apply_unary(UnaryOp::Tanh, u);
      const TensorPtr right = add(k(1, x), t);
      const TensorPtr du = mul(k(kSqrt2OverPi, x), add(k(1, x), mul(k(3 * kGeluKappa, x), x2)));
      const TensorPtr dright = sub(k(1, x), apply_unary(UnaryOp::Square, t));
      return mul(g, add(mul(k(0.5, x), right), mul(mul(mul(k(0.5, x), x), dright), du)));
    }
    case UnaryOp::LeakyRelu:
      return select(cmp(BinaryOp::Gt, x, k(0, x)), g, mul(g, k(p.a, g)));
    case UnaryOp::Elu:
      return select(cmp(BinaryOp::Le, x, k(0, x)), mul(g, mul(k(p.a, x), apply_unary(UnaryOp::Exp, x))), g);
    case UnaryOp::Hardtanh: {  // 0 at and beyond the bounds, as PyTorch; a NaN input passes g
      const TensorPtr out = cmp(BinaryOp::Maximum, cmp(BinaryOp::Le, x, k(p.a, x)), cmp(BinaryOp::Ge, x, k(p.b, x)));
      return select(out, k(0, g), g);
    }
    case UnaryOp::LogSigmoid:
      return mul(g, apply_unary(UnaryOp::Sigmoid, neg(x)));
  }
  throw std::logic_error(std::string("no gradient formula for ") + unary_op_name(op));
}

}  // namespace

bool arith_saves_first(BinaryOp op, bool b_requires_grad) {
  switch (op) {
    case BinaryOp::Add:
    case BinaryOp::Sub:
      return false;
    case BinaryOp::Mul:
    case BinaryOp::Div:
    case BinaryOp::Fmod:
    case BinaryOp::Remainder:
      return b_requires_grad;  // only b's gradient reads a
    default:
      return true;  // pow, maximum, minimum, atan2
  }
}

TensorPtr arith(BinaryOp op, const TensorPtr& a, const TensorPtr& b, DType dtype, bool other_is_number) {
  TensorPtr out = binary(op, a, b, dtype);
  if (is_comparison(op) || !any_requires_grad({&a, &b})) return out;
  const bool ga = a->requires_grad, gb = b->requires_grad;
  const char* name = other_is_number ? op_info(op).extra : op_info(op).grad_fn;
  const Shape sa = a->shape(), sb = b->shape();
  const DType da = a->dtype(), db = b->dtype();
  switch (op) {
    case BinaryOp::Add:
    case BinaryOp::Sub:
      return record(out, name, {a, b}, {}, [=](const TensorPtr& g, const Saved&) {
        return Grads{ga ? reduce_to(g, sa, da) : nullptr,
                     gb ? reduce_to(op == BinaryOp::Sub ? neg(g) : g, sb, db) : nullptr};
      });
    case BinaryOp::Mul:
    case BinaryOp::Div: {
      // Save only the operands the gradients read, so in-place updates of the other are allowed
      // (`y /= c` may overwrite y).
      const bool is_mul = op == BinaryOp::Mul;
      const bool keep_a = arith_saves_first(op, gb), keep_b = !is_mul || ga;
      Saved saved;
      if (keep_a) saved.push_back(a);
      if (keep_b) saved.push_back(b);
      return record(out, name, {a, b}, saved, [=](const TensorPtr& g, const Saved& s) {
        const TensorPtr a_ = keep_a ? s[0] : nullptr;
        const TensorPtr b_ = keep_b ? s[keep_a ? 1 : 0] : nullptr;
        if (is_mul)
          return Grads{ga ? reduce_to(mul(g, b_), sa, da) : nullptr, gb ? reduce_to(mul(g, a_), sb, db) : nullptr};
        // b's gradient -g * ((a / b) / b): dividing first keeps a huge b from overflowing
        return Grads{ga ? reduce_to(div(g, b_), sa, da) : nullptr,
                     gb ? reduce_to(neg(mul(g, div(div(a_, b_), b_))), sb, db) : nullptr};
      });
    }
    case BinaryOp::Pow:
      return record(out, name, {a, b}, {a, b, out}, [=](const TensorPtr& g, const Saved& s) {
        const TensorPtr &a_ = s[0], &b_ = s[1], &o = s[2];
        TensorPtr grad_a, grad_b;
        if (ga) {  // g * b * a^(b-1), and 0 where b == 0 (0^0 included, as PyTorch)
          const TensorPtr e = sub(b_, k(1, b_));
          const TensorPtr term = mul(mul(g, b_), arith(BinaryOp::Pow, a_, e, common(a_, e)));
          grad_a = reduce_to(select(cmp(BinaryOp::Eq, b_, k(0, b_)), k(0, term), term), sa, da);
        }
        if (gb) {  // g * (a^b * log(a)), the factor 0 where a == 0 and b >= 0 (as PyTorch)
          const TensorPtr at_zero =
              cmp(BinaryOp::Mul, cmp(BinaryOp::Eq, a_, k(0, a_)), cmp(BinaryOp::Ge, b_, k(0, b_)));
          const TensorPtr factor = mul(o, apply_unary(UnaryOp::Log, a_));
          grad_b = reduce_to(mul(g, select(at_zero, k(0, factor), factor)), sb, db);
        }
        return Grads{grad_a, grad_b};
      });
    case BinaryOp::Maximum:
    case BinaryOp::Minimum: {
      const bool is_max = op == BinaryOp::Maximum;
      return record(out, name, {a, b}, {a, b}, [=](const TensorPtr& g, const Saved& s) {
        // PyTorch's rule: ties split the gradient evenly, and an operand gets none only where it
        // lost; where either is NaN, neither lost, and both get all of it
        const TensorPtr &a_ = s[0], &b_ = s[1];
        const TensorPtr tie = to_dtype(cmp(BinaryOp::Eq, a_, b_), g->dtype(), false);
        const TensorPtr shared = mul(g, sub(k(1, g), mul(tie, k(0.5, g))));
        // each operand's mask only when that operand wants a gradient
        const auto part = [&](BinaryOp lost_when) { return select(cmp(lost_when, a_, b_), k(0, g), shared); };
        return Grads{ga ? reduce_to(part(is_max ? BinaryOp::Lt : BinaryOp::Gt), sa, da) : nullptr,
                     gb ? reduce_to(part(is_max ? BinaryOp::Gt : BinaryOp::Lt), sb, db) : nullptr};
      });
    }
    case BinaryOp::Atan2:
      return record(out, name, {a, b}, {a, b}, [=](const TensorPtr& g, const Saved& s) {
        // d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)
        const TensorPtr &a_ = s[0], &b_ = s[1];
        const TensorPtr r = div(g, add(apply_unary(UnaryOp::Square, a_), apply_unary(UnaryOp::Square, b_)));
        return Grads{ga ? reduce_to(mul(r, b_), sa, da) : nullptr, gb ? reduce_to(neg(mul(r, a_)), sb, db) : nullptr};
      });
    case BinaryOp::Fmod:
    case BinaryOp::Remainder: {
      // a - b * q with q = trunc(a / b) (fmod) or floor(a / b) (remainder): g for a, -g q for b
      const bool is_fmod = op == BinaryOp::Fmod;
      Saved saved;
      if (gb) saved = {a, b};
      return record(out, name, {a, b}, saved, [=](const TensorPtr& g, const Saved& s) {
        TensorPtr grad_b;
        if (gb) grad_b = reduce_to(neg(mul(g, is_fmod ? trunc_div(s[0], s[1]) : floor_div(s[0], s[1]))), sb, db);
        return Grads{ga ? reduce_to(g, sa, da) : nullptr, grad_b};
      });
    }
    default:
      throw std::logic_error(std::string("no gradient formula for ") + binary_op_name(op));
  }
}

namespace {

/// x^e for the exponents PyTorch computes without pow (x * x, x * x * x, 1 / (x * x), 1 / x, sqrt,
/// rsqrt), and 4 as a square squared, 1 as a copy and 0 as ones; null for any other exponent. A
/// pow per element costs six times a multiply (15 us for 2000 float32 elements against 2.5). x is
/// floating; raw kernels, so nothing is recorded.
TensorPtr power_without_pow(const TensorPtr& x, double e) {
  const DType dt = x->dtype();
  if (e == 2) return unary(UnaryOp::Square, x);
  if (e == 3) return binary(BinaryOp::Mul, unary(UnaryOp::Square, x), x, dt);
  if (e == 4) {
    const TensorPtr square = unary(UnaryOp::Square, x);
    return binary(BinaryOp::Mul, square, square, dt);
  }
  if (e == 1) return cast(x, dt, /*copy=*/true);
  if (e == 0.5) return unary(UnaryOp::Sqrt, x);
  if (e == -0.5) return unary(UnaryOp::Rsqrt, x);
  if (e == -1) return binary(BinaryOp::Div, scalar_tensor(1.0, dt), x, dt);
  if (e == -2) return binary(BinaryOp::Div, scalar_tensor(1.0, dt), unary(UnaryOp::Square, x), dt);
  if (e == 0) {
    TensorPtr ones = empty(x->shape(), dt, x->device());
    fill(ones, 1.0);
    return ones;
  }
  return nullptr;
}

}  // namespace

TensorPtr pow_scalar(const TensorPtr& a, double exponent) {
  const DType dtype = is_floating(a->dtype()) || exponent != std::floor(exponent) || exponent < 0
                          ? (is_floating(a->dtype()) ? a->dtype() : DType::Float32)
                          : a->dtype();
  // An exponent float32 cannot hold (5e-324 would round to 0) is applied in double, as PyTorch does.
  // float16 and bfloat16 compute in float32 and round once (see Note [storage dtypes])
  const DType wide = compute_dtype(dtype);
  const DType compute =
      wide == DType::Float32 && static_cast<double>(static_cast<float>(exponent)) != exponent ? DType::Float64 : wide;
  TensorPtr out = is_floating(compute) ? power_without_pow(cast(a, compute), exponent) : nullptr;
  if (!out) out = binary(BinaryOp::Pow, a, scalar_tensor(exponent, compute), compute);
  out = cast(out, dtype);
  return record(out, "PowBackward0", {a}, {a}, [exponent, compute](const TensorPtr& g, const Saved& s) {
    if (exponent == 0.0) return Grads{zeros_like(g)};
    // g * a^(e-1) * e, in the dtype the forward computed in; a^(e-1) by pow_scalar itself, so that
    // the small exponents' gradients call no pow either (and a graph of this pass records it)
    const TensorPtr x = to_dtype(s[0], compute, false);
    const TensorPtr p = pow_scalar(x, exponent - 1);
    return Grads{to_dtype(mul(mul(g, p), scalar_tensor(exponent, compute)), g->dtype(), false)};
  });
}

TensorPtr apply_unary(UnaryOp op, const TensorPtr& t, OpParams params) {
  TensorPtr out = unary(op, t, params);
  if (!any_requires_grad({&t})) return out;
  const Reads reads = unary_reads(op);
  Saved saved;
  if (reads == Reads::Input || reads == Reads::Both) saved.push_back(t);
  if (reads == Reads::Output || reads == Reads::Both) saved.push_back(out);
  return record(out, op_info(op).grad_fn, {t}, saved, [op, params, reads](const TensorPtr& g, const Saved& s) {
    const bool has_x = reads == Reads::Input || reads == Reads::Both;
    const TensorPtr x = has_x ? s[0] : nullptr;
    const TensorPtr y = reads == Reads::Output ? s[0] : reads == Reads::Both ? s[1] : nullptr;
    return Grads{unary_grad(op, params, g, x, y)};
  });
}

}  // namespace chaingrad
