#include "core/graph.h"

#include <utility>

namespace chaingrad {

// Note [iterative teardown]
// Dropping the last reference to a deep graph would otherwise recurse once per node through
// nested destructors: a chain of 1,000,000 nodes overflows the C stack. Instead the first dying
// node takes over every input that would die with it: it moves them onto a local stack, and
// before releasing each one it steals that node's own sole-owned inputs, so every destructor the
// loop triggers finds no inputs left to recurse into. Inputs still owned elsewhere (by Python, or
// another graph) are only decremented. The common case, a node whose inputs all outlive it, costs
// one scan of use counts and no allocation.
Node::~Node() {
  std::vector<NodePtr> dying;
  for (NodePtr& input : inputs_) {
    if (input.use_count() == 1) dying.push_back(std::move(input));
  }
  while (!dying.empty()) {
    NodePtr node = std::move(dying.back());
    dying.pop_back();
    for (NodePtr& input : node->inputs_) {
      if (input.use_count() == 1) dying.push_back(std::move(input));
    }
    node->inputs_.clear();
  }  // `node` is released here with no inputs left, so its destructor does not loop again
}

}  // namespace chaingrad
