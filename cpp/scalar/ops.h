// float64 scalar nodes: micrograd's Value ops and the fused weighted sum of a neuron.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace chaingrad {

/// The op that produced a scalar node; Leaf for values created by the user.
enum class ScalarOp : std::uint8_t {
  Leaf,
  Add,
  Sub,
  Mul,
  Div,
  Neg,
  Pow,
  Relu,
  Tanh,
  Exp,
  Log,
  Sigmoid,
  WeightedSum,
  ReluWeightedSum
};

/// A float64 value in the graph with its gradient. Every op's result and local derivative are
/// evaluated in the same order as micrograd's Python arithmetic, so values agree to the last bit.
class ScalarNode final : public Node {
 public:
  /// A leaf holding data.
  explicit ScalarNode(double data) : data_(data) {}
  /// The result of op on inputs; aux is the exponent of Pow.
  ScalarNode(ScalarOp op, std::vector<NodePtr> inputs, double data, double aux = 0.0)
      : Node(std::move(inputs)), data_(data), aux_(aux), op_(op) {}

  double data() const { return data_; }
  void set_data(double value) { data_ = value; }
  double grad() const { return grad_; }
  void set_grad(double value) { grad_ = value; }
  ScalarOp op() const { return op_; }
  /// The exponent of a Pow node.
  double exponent() const { return aux_; }

  /// The i-th input as a scalar node (scalar nodes only ever take scalar inputs).
  ScalarNode& input(std::size_t i) const { return static_cast<ScalarNode&>(*inputs()[i]); }

  void begin_backward() override;
  void backward() override;

  /// The Python object currently wrapping this node, not owned (set and cleared by the binding),
  /// so that one node keeps one identity in Python, as micrograd's _prev and draw_dot expect.
  void* wrapper = nullptr;

  // Presentation flags kept for micrograd's printing: a value built from a Python int prints as
  // an int, and a gradient nobody has accumulated into prints as 0 (micrograd's int zero).
  bool data_is_int = false;
  bool grad_is_int = true;
  bool exponent_is_int = false;

 private:
  friend void scalar_backward(ScalarNode& root);

  void distribute_weighted_sum(double g);

  void accumulate(double delta) {
    grad_ += delta;
    grad_is_int = false;
  }

  double data_;
  double grad_ = 0.0;
  double aux_ = 0.0;
  ScalarOp op_ = ScalarOp::Leaf;
};

using ScalarPtr = Ref<ScalarNode>;

/// a + b, a - b, a * b, a / b (evaluated as micrograd does: a * b**-1).
ScalarPtr add(const ScalarPtr& a, const ScalarPtr& b);
ScalarPtr sub(const ScalarPtr& a, const ScalarPtr& b);
ScalarPtr mul(const ScalarPtr& a, const ScalarPtr& b);
ScalarPtr div(const ScalarPtr& a, const ScalarPtr& b);
/// -a, a**exponent, and the unary functions.
ScalarPtr neg(const ScalarPtr& a);
ScalarPtr pow(const ScalarPtr& a, double exponent);
ScalarPtr relu(const ScalarPtr& a);
ScalarPtr tanh(const ScalarPtr& a);
ScalarPtr exp(const ScalarPtr& a);
ScalarPtr log(const ScalarPtr& a);
ScalarPtr sigmoid(const ScalarPtr& a);

/// b + w0*x0 + w1*x1 + ... summed left to right (micrograd's `sum(wi*xi, b)`) as one node, and
/// with relu applied when `relu` (micrograd's neuron: two of its nodes fused into one).
/// inputs holds scalar nodes in the order [b, w0, x0, w1, x1, ...] (an odd count).
ScalarPtr weighted_sum(std::vector<NodePtr> inputs, bool relu = false);

/// Backward pass from root: root's gradient becomes 1 and every node reachable from it receives
/// d root / d node; leaves accumulate, non-leaf gradients are recomputed.
void scalar_backward(ScalarNode& root);

/// The op's name as micrograd's `_op` spells it ("+", "*", "ReLU", ...; Pow is handled by callers).
const char* scalar_op_name(ScalarOp op);

}  // namespace chaingrad
