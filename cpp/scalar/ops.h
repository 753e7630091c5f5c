// float64 scalar nodes: micrograd's Value ops and the fused weighted sum of a neuron.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
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
  ReluWeightedSum,
  Custom  ///< built by the user from children (micrograd's `Value(data, _children, _op)`)
};

class ScalarNode;
using ScalarPtr = Ref<ScalarNode>;

namespace detail {
/// Changes whenever any scalar node's data is set: see Note [weight values]. Process-wide because a
/// list's cache must notice a write through any node, from any thread; like the nodes' reference
/// counts it relies on its callers' serialization (the GIL), and relaxed atomics keep a missed
/// serialization from being undefined behaviour.
inline std::atomic<std::uint64_t> scalar_data_version{0};
}  // namespace detail

/// An immutable list of scalar nodes shared by many weighted sums: a neuron's bias and weights
/// (kept across calls by the binding) or a layer's inputs (read by every neuron of the layer). One
/// shared list instead of a reference per term is what makes a fused neuron cheap to build and to
/// free (see Note [scalar graph layout]).
class ScalarList final : public RefCounted {
 public:
  explicit ScalarList(std::vector<ScalarPtr> items);
  ScalarList(const ScalarList&) = delete;
  ScalarList& operator=(const ScalarList&) = delete;

  std::size_t size() const { return items_.size(); }
  const ScalarPtr& operator[](std::size_t i) const { return items_[i]; }
  /// True when no item has inputs: a traversal has nothing to visit in the list.
  bool all_leaves() const { return all_leaves_; }
  /// The items' data in order, gathered again only after some node's data was set since the last
  /// call (see Note [weight values]). Not for concurrent use: callers hold the GIL.
  const double* values() const;

 private:
  friend class ScalarNode;
  friend void scalar_backward(ScalarNode& root);

  std::vector<ScalarPtr> items_;
  bool all_leaves_ = true;
  std::uint64_t visit_mark_ = 0;  // see Note [scalar traversal]
  mutable std::vector<double> values_;
  mutable std::uint64_t values_version_ = 0;  // of scalar_data_version when values_ was filled
};

using ScalarListPtr = Ref<ScalarList>;

/// A gradient rule written by the user (micrograd's `out._backward = ...`). The core cannot call
/// Python; the binding implements run (taking the GIL) and may throw whatever the rule raised.
class ScalarUserBackward {
 public:
  virtual ~ScalarUserBackward() = default;
  virtual void run() = 0;
};

/// What few nodes carry besides their value, kept apart so a plain node pays one pointer for it:
/// micrograd's `label`, the `_op` of a custom node, and a user's gradient rule.
struct ScalarExtras {
  std::string label;
  std::string op_name;
  std::unique_ptr<ScalarUserBackward> user_backward;
};

/// A float64 value in the graph with its gradient. Every op's result and local derivative are
/// evaluated in the same order as micrograd's Python arithmetic, so values agree to the last bit.
/// Scalar nodes are a graph of their own, apart from core/graph.h's Node (see Note [scalar graph
/// layout]): they never mix with tensor nodes.
class ScalarNode final : public RefCounted {
 public:
  /// A leaf holding data.
  explicit ScalarNode(double data) : data_(data) {}
  /// The result of a unary or binary op (b null for a unary one); aux is the exponent of Pow.
  ScalarNode(ScalarOp op, ScalarPtr a, ScalarPtr b, double data, double aux = 0.0)
      : op_(op), data_(data), aux_(aux), a_(std::move(a)), b_(std::move(b)) {}
  /// A weighted sum (op WeightedSum or ReluWeightedSum) of params [b, w0, w1, ...] with xs.
  ScalarNode(ScalarOp op, ScalarListPtr params, ScalarListPtr xs, double data)
      : op_(op), data_(data), params_(std::move(params)), xs_(std::move(xs)) {}
  /// A custom node computed from children by the user's code; its gradient rule is the user's.
  ScalarNode(ScalarListPtr children, double data) : op_(ScalarOp::Custom), data_(data), params_(std::move(children)) {}
  ScalarNode(const ScalarNode&) = delete;
  ScalarNode& operator=(const ScalarNode&) = delete;
  ~ScalarNode();

  // Nodes come from a per-thread pool: see Note [scalar node pool].
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;

  double data() const { return data_; }
  void set_data(double value) {
    data_ = value;
    // A load and a store, not a locked increment: writers are serialized (see its comment).
    detail::scalar_data_version.store(detail::scalar_data_version.load(std::memory_order_relaxed) + 1,
                                      std::memory_order_relaxed);
  }
  double grad() const { return grad_; }
  void set_grad(double value) { grad_ = value; }
  ScalarOp op() const { return op_; }
  /// The exponent of a Pow node.
  double exponent() const { return aux_; }
  /// True for a value created by the user rather than by an op.
  bool is_leaf() const { return op_ == ScalarOp::Leaf; }

  /// How many inputs the op took: 0 for a leaf, 1 or 2 for an op, 2n+1 for a weighted sum.
  std::size_t input_count() const;
  /// The i-th input in the order the op took them: a weighted sum's are [b, w0, x0, w1, x1, ...].
  const ScalarPtr& input(std::size_t i) const;

  /// This node's own step of the backward pass: its inputs' grads grow by its local derivative
  /// times its grad (what micrograd's `node._backward()` does).
  void local_backward() { backward(); }

  /// The extras, or null when the node has none.
  const ScalarExtras* extras() const { return extras_.get(); }
  /// The extras, created on first use.
  ScalarExtras& mutable_extras();

  // Presentation flags kept for micrograd's printing: a value built from a Python int prints as
  // an int, and a gradient nobody has accumulated into prints as 0 (micrograd's int zero).
  bool data_is_int = false;
  bool grad_is_int = true;
  bool exponent_is_int = false;

 private:
  // Here, not with the other private members, so that it fills the padding after the flags: a
  // node stays 88 bytes (a 96-byte malloc chunk) with its extras pointer.
  ScalarOp op_ = ScalarOp::Leaf;

 public:
  /// The Python object currently wrapping this node, not owned (set and cleared by the binding),
  /// so that one node keeps one identity in Python, as micrograd's _prev and draw_dot expect.
  void* wrapper = nullptr;

 private:
  friend void scalar_backward(ScalarNode& root);

  using Dying = std::vector<std::unique_ptr<ScalarNode>>;
  /// Drops every input, moving those that die with this node onto dying instead of freeing them.
  void release_inputs(Dying& dying);
  void backward();
  void distribute_weighted_sum(double g);

  void accumulate(double delta) {
    grad_ += delta;
    grad_is_int = false;
  }

  double data_;
  double grad_ = 0.0;
  double aux_ = 0.0;
  ScalarPtr a_, b_;            // the inputs of a unary or binary op
  ScalarListPtr params_, xs_;  // a weighted sum's [b, w0, w1, ...] and [x0, x1, ...]; a custom
                               // node's children are params_, with xs_ null
  std::unique_ptr<ScalarExtras> extras_;
  std::uint64_t visit_mark_ = 0;  // see Note [scalar traversal]
};

inline std::size_t ScalarNode::input_count() const {
  if (params_) return xs_ ? 1 + 2 * xs_->size() : params_->size();
  return (a_ ? 1 : 0) + (b_ ? 1 : 0);
}

inline const ScalarPtr& ScalarNode::input(std::size_t i) const {
  if (!params_) return i == 0 ? a_ : b_;
  if (!xs_) return (*params_)[i];
  return (i % 2 == 1 || i == 0) ? (*params_)[(i + 1) / 2] : (*xs_)[i / 2 - 1];
}

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
/// params holds [b, w0, w1, ...]; throws std::invalid_argument unless it has one more item than xs.
ScalarPtr weighted_sum(ScalarListPtr params, ScalarListPtr xs, bool relu = false);

/// One neuron of a layer for weighted_sums: its [b, w0, w1, ...] and whether relu follows.
struct NeuronSpec {
  ScalarListPtr params;
  bool relu = false;
};

/// weighted_sum(neuron.params, xs, neuron.relu) for every neuron, appended to out in order: a
/// layer's neurons over the same inputs, computed four at a time (see Note [interleaved sums]).
void weighted_sums(const NeuronSpec* neurons, std::size_t count, const ScalarListPtr& xs, std::vector<ScalarPtr>& out);

/// Backward pass from root: root's gradient becomes 1 and every node reachable from it receives
/// d root / d node; leaves accumulate, non-leaf gradients are recomputed.
void scalar_backward(ScalarNode& root);

/// The op's name as micrograd's `_op` spells it ("+", "*", "ReLU", ...; Pow is handled by callers).
const char* scalar_op_name(ScalarOp op);

}  // namespace chaingrad
