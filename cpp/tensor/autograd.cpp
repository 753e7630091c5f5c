#include "tensor/autograd.h"

#include <stdexcept>
#include <mutex>
#include <string>
#include <unordered_set>

#include "core/engine.h"
#include "tensor/device.h"
#include "kernels/kernels.h"

namespace chaingrad {
namespace {

// Note [grad mode]
// `no_grad` is per thread, as in PyTorch: a thread that switches it off must not change what
// another thread records. Hence thread_local, the only mutable state of the tensor autograd.
thread_local bool grad_mode = true;

// While autograd.grad runs, leaves keep their .grad: the accumulators only collect.
thread_local bool accumulate_into_leaves = true;

NodePtr edge_for(const TensorPtr& t) {
  if (t->grad_fn) return t->grad_fn;
  if (!t->requires_grad) return nullptr;
  if (t->accumulator != nullptr) return NodePtr(t->accumulator);
  return make_ref<AccumulateGrad>(t);
}

std::string describe(const TensorPtr& t) {
  return std::string(dtype_name(t->dtype())) + " tensor of shape " + shape_str(t->shape());
}

}  // namespace

bool grad_enabled() { return grad_mode; }
void set_grad_enabled(bool enabled) { grad_mode = enabled; }

void TensorNode::add_grad(const TensorPtr& g_in) {
  const Device here = device();
  const TensorPtr g = g_in->device() == here ? g_in : to_device(g_in, here);
  grad_ = grad_ ? binary(BinaryOp::Add, grad_, g, grad_->dtype()) : g;
}

void TensorNode::backward() {
  if (!grad_) return;  // no gradient reached this node in this pass
  const std::vector<TensorPtr> grads = apply(grad_);
  const auto& edges = inputs();
  for (std::size_t i = 0; i < edges.size() && i < grads.size(); ++i) {
    if (edges[i] && grads[i]) static_cast<TensorNode&>(*edges[i]).add_grad(grads[i]);
  }
}

AccumulateGrad::AccumulateGrad(TensorPtr leaf) : leaf_(std::move(leaf)) { leaf_->accumulator = this; }

AccumulateGrad::~AccumulateGrad() {
  if (leaf_->accumulator == this) leaf_->accumulator = nullptr;
}

std::vector<TensorPtr> AccumulateGrad::apply(const TensorPtr& grad) {
  if (!accumulate_into_leaves) return {};
  TensorPtr g = grad->shape() == leaf_->shape() ? grad : sum_to(grad, leaf_->shape());
  if (!leaf_->grad) {
    // Adopt a gradient nothing else can see (the usual case: a fresh result of the rule above);
    // copy anything shared, so .grad never aliases a tensor of the graph.
    const std::uint32_t holders = g.get() == grad.get() ? 2 : 1;  // `grad` is the node's own buffer
    const bool sole = g.use_count() == holders && g->storage().use_count() == 1 && g->is_contiguous() &&
                      g->offset() == 0 && g->dtype() == leaf_->dtype() && !g->requires_grad;
    leaf_->grad = sole ? g : cast(g, leaf_->dtype(), /*copy=*/true);
  } else {
    // In place, as PyTorch: a reference to x.grad taken earlier sees the sum. The kernels may
    // release the GIL, and another thread may meanwhile replace x.grad (zero_grad sets it to
    // None): hold the current gradient here so its memory outlives the kernels (the sum then
    // lands in the gradient that was replaced, as if the replacement came after this pass).
    const TensorPtr current = leaf_->grad;
    copy_into(current, binary(BinaryOp::Add, current, g, current->dtype()));
  }
  return {};
}

void FunctionNode::release_saved() {
  saved_.clear();
  released_ = true;
}

std::vector<TensorPtr> FunctionNode::apply(const TensorPtr& grad) {
  if (released_) {
    throw std::runtime_error(
        std::string("Trying to backward through the graph a second time (or directly access saved "
                    "tensors after they have already been freed) at ") +
        name_ +
        ". Saved intermediate values of the graph are freed when you call .backward() or "
        "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a "
        "second time.");
  }
  std::vector<TensorPtr> tensors;
  tensors.reserve(saved_.size());
  for (std::size_t i = 0; i < saved_.size(); ++i) {
    const SavedTensor& s = saved_[i];
    if (s.tensor->storage()->version() != s.version) {
      throw std::runtime_error(
          "one of the variables needed for gradient computation has been modified by an inplace "
          "operation: [" + describe(s.tensor) + "], saved by " + name_ + ", is at version " +
          std::to_string(s.tensor->storage()->version()) + "; expected version " +
          std::to_string(s.version) + " instead.");
    }
    tensors.push_back(s.tensor);
  }
  return rule_(grad, tensors);
}

bool any_requires_grad(std::initializer_list<const TensorPtr*> inputs) {
  if (!grad_mode) return false;
  for (const TensorPtr* t : inputs) {
    if ((*t)->requires_grad) return true;
  }
  return false;
}

bool any_requires_grad(const std::vector<TensorPtr>& inputs) {
  if (!grad_mode) return false;
  for (const TensorPtr& t : inputs) {
    if (t->requires_grad) return true;
  }
  return false;
}

// Note [saved tensors own no nodes]
// A node keeps, for its gradient rule, only the data of the tensors it saves: an alias of their
// storage, shape and strides without requires_grad or grad_fn. Saving the tensors themselves
// would let a node own itself (exp saves its own output, whose grad_fn is the node) or its
// consumers (x.copy_(f(x)) gives x a grad_fn that leads back to f's node), and such a cycle keeps
// the whole graph alive until a backward without retain_graph happens to break it. The alias
// shares the storage, so the version check still sees in-place writes.
TensorPtr record(TensorPtr out, const char* name, const std::vector<TensorPtr>& inputs,
                 const std::vector<TensorPtr>& saved, GradRule rule) {
  if (!any_requires_grad(inputs)) return out;
  std::vector<NodePtr> edges;
  edges.reserve(inputs.size());
  for (const TensorPtr& t : inputs) edges.push_back(edge_for(t));
  // See Note [saved tensors own no nodes].
  std::vector<SavedTensor> kept;
  kept.reserve(saved.size());
  for (const TensorPtr& t : saved) {
    kept.push_back({make_view(t, t->shape(), t->strides(), t->offset()), t->storage()->version()});
  }
  out->requires_grad = true;
  const Device device = out->device();
  out->grad_fn = make_ref<FunctionNode>(name, std::move(edges), std::move(kept), std::move(rule), device);
  return out;
}

namespace {

TensorPtr seed_gradient(const TensorPtr& root, TensorPtr gradient) {
  if (!gradient) {
    if (root->numel() != 1) {
      throw std::runtime_error("grad can be implicitly created only for scalar outputs (got a " +
                               describe(root) + "); pass gradient=");
    }
    TensorPtr ones = empty(root->shape(), root->dtype(), root->device());
    fill(ones, 1.0);
    return ones;
  }
  if (gradient->device() != root->device()) {
    throw std::runtime_error("backward: gradient is on " + gradient->device().str() + " but the output is on " +
                             root->device().str());
  }
  if (gradient->shape() != root->shape()) {
    throw std::runtime_error("backward: gradient has shape " + shape_str(gradient->shape()) +
                             " but the output has shape " + shape_str(root->shape()));
  }
  return cast(gradient, root->dtype());
}

NodePtr root_node(const TensorPtr& root) {
  if (!root->requires_grad) {
    throw std::runtime_error(
        "element 0 of tensors does not require grad and does not have a grad_fn");
  }
  return edge_for(root);
}

/// One pass from root with gradient: every reached node ends with its received gradient.
std::vector<Node*> sweep(const NodePtr& root, const TensorPtr& gradient) {
  std::vector<Node*> order = topological_order(*root);
  begin_backward(order);
  static_cast<TensorNode&>(*root).add_grad(gradient);
  sweep_backward(order);
  return order;
}

void release_all(const std::vector<Node*>& order) {
  for (Node* n : order) static_cast<TensorNode*>(n)->release_saved();
}

/// Restores leaf accumulation however autograd.grad leaves.
class CollectOnly {
 public:
  CollectOnly() { accumulate_into_leaves = false; }
  ~CollectOnly() { accumulate_into_leaves = true; }
};

}  // namespace

std::mutex& backward_mutex() {
  static std::mutex m;  // see Note [one tensor backward at a time] in tensor/autograd.h
  return m;
}

void backward(const TensorPtr& root, TensorPtr gradient, bool retain_graph) {
  NodePtr node = root_node(root);
  const TensorPtr seed = seed_gradient(root, std::move(gradient));
  const std::vector<Node*> order = sweep(node, seed);
  if (!retain_graph) release_all(order);
}

std::vector<TensorPtr> grad(const TensorPtr& root, const std::vector<TensorPtr>& inputs,
                            TensorPtr gradient, bool retain_graph, bool allow_unused) {
  NodePtr node = root_node(root);
  const TensorPtr seed = seed_gradient(root, std::move(gradient));
  // Hold the inputs' nodes so the leaves' accumulators stay the ones the graph uses.
  std::vector<NodePtr> targets;
  for (const TensorPtr& t : inputs) {
    if (!t->requires_grad) throw std::runtime_error("One of the differentiated Tensors does not require grad");
    targets.push_back(t->grad_fn ? t->grad_fn : (t->accumulator ? NodePtr(t->accumulator) : nullptr));
  }
  std::vector<TensorPtr> out;
  {
    CollectOnly collect;
    const std::vector<Node*> order = sweep(node, seed);
    const std::unordered_set<Node*> reached(order.begin(), order.end());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const bool in_pass = targets[i] && reached.count(targets[i].get()) != 0;
      TensorPtr g = in_pass ? static_cast<TensorNode&>(*targets[i]).received_grad() : TensorPtr();
      if (g && g->shape() != inputs[i]->shape()) g = sum_to(g, inputs[i]->shape());
      if (!g && !allow_unused) {
        throw std::runtime_error(
            "One of the differentiated Tensors appears to not have been used in the graph. Set "
            "allow_unused=True if this is the desired behavior.");
      }
      out.push_back(g);
    }
    if (!retain_graph) release_all(order);
  }
  return out;
}

}  // namespace chaingrad
