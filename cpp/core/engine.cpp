#include "core/engine.h"

#include <atomic>
#include <cstdint>
#include <utility>

namespace chaingrad {

// Note [visit marks]
// Each traversal takes a fresh stamp from a process-wide counter and marks the nodes it reaches
// with it, so "already visited" is one integer compare instead of a hash-set lookup (the set
// costs more than the whole gradient rule of a scalar node). The counter is the only global
// mutable state of the engine; it is atomic so concurrent traversals of disjoint graphs are safe.
std::vector<Node*> topological_order(Node& root) {
  static std::atomic<std::uint64_t> next_stamp{0};
  const std::uint64_t stamp = ++next_stamp;

  std::vector<Node*> order;
  std::vector<std::pair<Node*, std::size_t>> stack;  // (node, index of the next input to visit)
  root.visit_mark_ = stamp;
  stack.emplace_back(&root, 0);
  while (!stack.empty()) {
    Node* node = stack.back().first;
    std::size_t next = stack.back().second;
    if (next < node->inputs_.size()) {
      stack.back().second = next + 1;
      Node* input = node->inputs_[next].get();
      if (input != nullptr && input->visit_mark_ != stamp) {
        input->visit_mark_ = stamp;
        if (input->inputs_.empty()) {
          order.push_back(input);  // a leaf is finished as soon as it is reached
        } else {
          stack.emplace_back(input, 0);
        }
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

void begin_backward(const std::vector<Node*>& order) {
  for (Node* node : order) node->begin_backward();
}

void sweep_backward(const std::vector<Node*>& order) {
  for (auto it = order.rbegin(); it != order.rend(); ++it) (*it)->backward();
}

}  // namespace chaingrad
