#include "graph.h"

#include <utility>

namespace chaingrad {

// Note [iterative teardown]
// Dropping the last reference to a deep graph would otherwise recurse once per node through
// nested shared_ptr destructors: a chain of 1,000,000 nodes overflows the C stack. Instead a dying
// node hands the inputs it solely owns to a per-thread queue, and only the outermost destructor on
// the stack drains that queue, so teardown runs in a loop with constant stack depth. The queue is
// thread-local because destruction can happen on any thread; it is empty between teardowns.
Node::~Node() {
  thread_local std::vector<NodePtr> orphans;
  thread_local bool draining = false;

  for (NodePtr& input : inputs_) {
    if (input.use_count() == 1) orphans.push_back(std::move(input));
  }
  inputs_.clear();
  if (draining) return;

  draining = true;
  while (!orphans.empty()) {
    NodePtr last = std::move(orphans.back());
    orphans.pop_back();
    last.reset();  // may push more orphans; they are handled by this same loop
  }
  draining = false;
}

}  // namespace chaingrad
