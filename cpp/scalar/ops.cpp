#include "scalar/ops.h"

#include <cmath>

#include "core/engine.h"

namespace chaingrad {
namespace {

ScalarPtr make_unary(ScalarOp op, const ScalarPtr& a, double data, double aux = 0.0) {
  return make_ref<ScalarNode>(op, std::vector<NodePtr>{a}, data, aux);
}

ScalarPtr make_binary(ScalarOp op, const ScalarPtr& a, const ScalarPtr& b, double data) {
  return make_ref<ScalarNode>(op, std::vector<NodePtr>{a, b}, data);
}

}  // namespace

ScalarPtr add(const ScalarPtr& a, const ScalarPtr& b) {
  return make_binary(ScalarOp::Add, a, b, a->data() + b->data());
}

ScalarPtr sub(const ScalarPtr& a, const ScalarPtr& b) {
  return make_binary(ScalarOp::Sub, a, b, a->data() + (-b->data()));
}

ScalarPtr mul(const ScalarPtr& a, const ScalarPtr& b) {
  return make_binary(ScalarOp::Mul, a, b, a->data() * b->data());
}

ScalarPtr div(const ScalarPtr& a, const ScalarPtr& b) {
  return make_binary(ScalarOp::Div, a, b, a->data() * std::pow(b->data(), -1.0));
}

ScalarPtr neg(const ScalarPtr& a) { return make_unary(ScalarOp::Neg, a, -a->data()); }

ScalarPtr pow(const ScalarPtr& a, double exponent) {
  return make_unary(ScalarOp::Pow, a, std::pow(a->data(), exponent), exponent);
}

ScalarPtr relu(const ScalarPtr& a) {
  const double x = a->data();
  return make_unary(ScalarOp::Relu, a, x < 0 ? 0.0 : x);
}

ScalarPtr tanh(const ScalarPtr& a) { return make_unary(ScalarOp::Tanh, a, std::tanh(a->data())); }

ScalarPtr exp(const ScalarPtr& a) { return make_unary(ScalarOp::Exp, a, std::exp(a->data())); }

ScalarPtr log(const ScalarPtr& a) { return make_unary(ScalarOp::Log, a, std::log(a->data())); }

ScalarPtr sigmoid(const ScalarPtr& a) { return make_unary(ScalarOp::Sigmoid, a, 1.0 / (1.0 + std::exp(-a->data()))); }

ScalarPtr weighted_sum(std::vector<NodePtr> inputs, bool relu) {
  double acc = static_cast<const ScalarNode&>(*inputs[0]).data();
  for (std::size_t i = 1; i + 1 < inputs.size(); i += 2) {
    const double w = static_cast<const ScalarNode&>(*inputs[i]).data();
    const double x = static_cast<const ScalarNode&>(*inputs[i + 1]).data();
    acc = acc + w * x;
  }
  if (relu) {
    return make_ref<ScalarNode>(ScalarOp::ReluWeightedSum, std::move(inputs), acc < 0 ? 0.0 : acc);
  }
  return make_ref<ScalarNode>(ScalarOp::WeightedSum, std::move(inputs), acc);
}

void ScalarNode::begin_backward() {
  if (is_leaf()) return;
  grad_ = 0.0;
  grad_is_int = false;
}

// Note [micrograd's rounding]
// Each rule below is written as the product micrograd's Python closure computes, e.g. Div is
// micrograd's a * b**-1, whose b-gradient is (-1 * b**-2) * (a * g). Keeping the same operations
// in the same order (and no FMA contraction: see CMakeLists.txt) gives bit-identical gradients.
void ScalarNode::backward() {
  const double g = grad_;
  switch (op_) {
    case ScalarOp::Leaf:
      return;
    case ScalarOp::Add:
      input(0).accumulate(g);
      input(1).accumulate(g);
      return;
    case ScalarOp::Sub:
      input(0).accumulate(g);
      input(1).accumulate(-1.0 * g);
      return;
    case ScalarOp::Mul:
      input(0).accumulate(input(1).data_ * g);
      input(1).accumulate(input(0).data_ * g);
      return;
    case ScalarOp::Div: {
      const double a = input(0).data_, b = input(1).data_;
      input(0).accumulate(std::pow(b, -1.0) * g);
      input(1).accumulate((-1.0 * std::pow(b, -2.0)) * (a * g));
      return;
    }
    case ScalarOp::Neg:
      input(0).accumulate(-1.0 * g);
      return;
    case ScalarOp::Pow:
      input(0).accumulate((aux_ * std::pow(input(0).data_, aux_ - 1.0)) * g);
      return;
    case ScalarOp::Relu:
      input(0).accumulate((data_ > 0 ? 1.0 : 0.0) * g);
      return;
    case ScalarOp::Tanh:
      input(0).accumulate((1.0 - data_ * data_) * g);
      return;
    case ScalarOp::Exp:
      input(0).accumulate(data_ * g);
      return;
    case ScalarOp::Log:
      input(0).accumulate((1.0 / input(0).data_) * g);
      return;
    case ScalarOp::Sigmoid:
      input(0).accumulate(data_ * (1.0 - data_) * g);
      return;
    case ScalarOp::WeightedSum:
      distribute_weighted_sum(g);
      return;
    case ScalarOp::ReluWeightedSum:
      // micrograd's relu node hands (out > 0) * g to the sum node, which passes it on unchanged.
      distribute_weighted_sum((data_ > 0 ? 1.0 : 0.0) * g);
      return;
  }
}

void ScalarNode::distribute_weighted_sum(double g) {
  const std::size_t n = (inputs().size() - 1) / 2;
  input(0).accumulate(g);
  for (std::size_t i = n; i-- > 0;) {  // last term first, as micrograd's sweep visits them
    ScalarNode& w = input(1 + 2 * i);
    ScalarNode& x = input(2 + 2 * i);
    w.accumulate(x.data_ * g);
    x.accumulate(w.data_ * g);
  }
}

void scalar_backward(ScalarNode& root) {
  const std::vector<Node*> order = topological_order(root);
  begin_backward(order);
  if (root.is_leaf()) {
    root.accumulate(1.0);
  } else {
    root.grad_ = 1.0;
    root.grad_is_int = true;  // micrograd seeds the root with the int 1
  }
  sweep_backward(order);
}

const char* scalar_op_name(ScalarOp op) {
  switch (op) {
    case ScalarOp::Leaf:
      return "";
    case ScalarOp::Add:
      return "+";
    case ScalarOp::Sub:
      return "-";
    case ScalarOp::Mul:
      return "*";
    case ScalarOp::Div:
      return "/";
    case ScalarOp::Neg:
      return "neg";
    case ScalarOp::Pow:
      return "**";
    case ScalarOp::Relu:
      return "ReLU";
    case ScalarOp::Tanh:
      return "tanh";
    case ScalarOp::Exp:
      return "exp";
    case ScalarOp::Log:
      return "log";
    case ScalarOp::Sigmoid:
      return "sigmoid";
    case ScalarOp::WeightedSum:
      return "wsum";
    case ScalarOp::ReluWeightedSum:
      return "ReLU(wsum)";
  }
  return "?";
}

}  // namespace chaingrad
