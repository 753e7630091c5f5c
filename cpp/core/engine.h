// Graph traversal and the backward sweep of core Nodes (tensor autograd; scalar nodes have their
// own, see Note [scalar graph layout] in scalar/ops.cpp).
#pragma once

#include <vector>

#include "core/graph.h"

namespace chaingrad {

/// The nodes reachable from root, each listed after all of its inputs. Depth-first over the
/// inputs in order, without recursion, so any depth of graph is safe.
std::vector<Node*> topological_order(Node& root);

/// Prepares every node in order for a pass (see Node::begin_backward).
void begin_backward(const std::vector<Node*>& order);

/// Applies each node's gradient rule in reverse topological order: every node's gradient is
/// complete before it is pushed to its inputs.
void sweep_backward(const std::vector<Node*>& order);

}  // namespace chaingrad
