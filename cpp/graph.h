// The computation graph shared by every node type: ownership, inputs and gradient rules.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace chaingrad {

class Node;
using NodePtr = std::shared_ptr<Node>;

/// A vertex of the computation graph: the op that produced it, its inputs in call order (never a
/// set: the order of gradient sums must not change between runs) and its gradient rule.
/// A node owns its inputs and never its consumers, so a graph is a DAG of shared_ptrs that is
/// freed when the last reference to its outputs goes.
class Node {
 public:
  Node() = default;
  explicit Node(std::vector<NodePtr> inputs) : inputs_(std::move(inputs)) {}
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node();

  /// The nodes this one was computed from, in the order the op received them.
  const std::vector<NodePtr>& inputs() const { return inputs_; }
  /// True for a node created by the user rather than by an op.
  bool is_leaf() const { return inputs_.empty(); }

  /// Prepares this node for a backward pass: a non-leaf forgets the gradient of an earlier pass.
  virtual void begin_backward() = 0;
  /// Adds this node's gradient, pushed through its local derivative, into its inputs' gradients.
  virtual void backward() = 0;

 private:
  friend std::vector<Node*> topological_order(Node& root);

  std::vector<NodePtr> inputs_;
  std::uint64_t visit_mark_ = 0;  // traversal stamp; see Note [visit marks] in engine.cpp
};

}  // namespace chaingrad
