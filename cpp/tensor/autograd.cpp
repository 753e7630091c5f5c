#include "tensor/autograd.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_set>

#include "core/engine.h"
#include "kernels/kernels.h"
#include "tensor/device.h"
#include "tensor/ops.h"

namespace chaingrad {
namespace {

// Note [grad mode]
// `no_grad` is per thread, as in PyTorch: a thread that switches it off must not change what
// another thread records. Hence thread_local, the only mutable state of the tensor autograd.
thread_local bool grad_mode = true;

// While autograd.grad runs, leaves keep their .grad: the accumulators only collect.
thread_local bool accumulate_into_leaves = true;

// Whether this thread is running a backward pass (see check_not_in_pass).
thread_local bool pass_running = false;

NodePtr edge_for(const TensorPtr& t) {
  refresh_view_history(*t);
  if (t->grad_fn) return t->grad_fn;
  if (!t->requires_grad) return nullptr;
  if (t->accumulator != nullptr) return NodePtr(t->accumulator);
  return make_ref<AccumulateGrad>(t);
}

std::string describe(const TensorPtr& t) {
  return std::string(dtype_name(t->dtype())) + " tensor of shape " + shape_str(t->shape());
}

}  // namespace

NodePtr gradient_edge(const TensorPtr& t) { return edge_for(t); }

// Note [in-place ops on views]
// A view (made by a view op) keeps its base, the tensor whose memory it shows, and its geometry
// there (sizes, strides, offset). An in-place op on a view that autograd records computes the
// out-of-place result r, writes it into the view's memory and records the write on the base: the
// base's new grad_fn is CopySlices, whose gradient goes to the base's old history with the view's
// region zeroed and to r read through the view's geometry (an as_strided scatter). The view's own
// grad_fn then reads the base's new history through its geometry (AsStridedBackward0). The nodes
// hold only the geometry, never a tensor: the base owns its new node, which owns the old history
// and r's, so no node owns what it produced.
// Other views of the base made before the write still hold grad_fns of the old history. Each
// tensor counts the new histories an in-place op gave it (history_version) and each view
// remembers its base's count when its grad_fn was made; a view that lags gets a fresh grad_fn
// reading the base's current history the next time autograd looks at it (edge_for,
// any_requires_grad), as PyTorch regenerates it lazily. A write into a view of a leaf that requires
// grad is refused, as PyTorch does; autograd follows a view's geometry only within a contiguous
// base and for views whose elements do not overlap, and refuses the rest (view_geometry).

namespace {

/// RAII: records ops whatever the grad mode (a view's fresh grad_fn is made when autograd asks for
/// it, maybe inside no_grad or a backward pass).
struct RecordingOn {
  bool was = grad_mode;
  RecordingOn() { grad_mode = true; }
  ~RecordingOn() { grad_mode = was; }
  RecordingOn(const RecordingOn&) = delete;
  RecordingOn& operator=(const RecordingOn&) = delete;
};

/// An alias of t's data carrying t's requires_grad and grad_fn (t's history as it is now).
TensorPtr history_alias(const TensorPtr& t) {
  TensorPtr alias = make_view(t, t->shape(), t->strides(), t->offset());
  alias->requires_grad = t->requires_grad;
  alias->grad_fn = t->grad_fn;
  return alias;
}

}  // namespace

void refresh_view_history(TensorImpl& view) {
  const TensorPtr& base = view.view_base;
  if (!base || view.history_version == base->history_version) return;
  const ViewGeometry geo = view_geometry(view, "autograd");
  view.history_version = base->history_version;
  RecordingOn on;
  const TensorPtr fresh = as_strided_op(history_alias(base), geo);
  view.requires_grad = fresh->requires_grad;
  view.grad_fn = fresh->grad_fn;
}

void record_view_write(const TensorPtr& view, const TensorPtr& value) {
  const TensorPtr base = view->view_base;
  const ViewGeometry geo = view_geometry(*view, "in-place op");
  // a leaf base that requires grad was refused by check_in_place: the old history is a node or none
  const TensorPtr after = make_view(base, base->shape(), base->strides(), base->offset());
  record_as_strided_scatter(after, "CopySlices", history_alias(base), value, geo);
  base->requires_grad = true;
  base->grad_fn = after->grad_fn;
  ++base->history_version;
  refresh_view_history(*view);
}

bool grad_enabled() { return grad_mode; }
void set_grad_enabled(bool enabled) { grad_mode = enabled; }

void TensorNode::add_grad(const TensorPtr& g_in) {
  const Device here = device();
  const TensorPtr g = g_in->device() == here ? g_in : to_device_op(g_in, here);
  grad_ = grad_ ? arith(BinaryOp::Add, grad_, g, grad_->dtype()) : g;
}

void TensorNode::backward() {
  if (receive()) push();
}

bool TensorNode::receive() {
  if (!grad_) return false;  // no gradient reached this node in this pass
  if (!hooks().empty()) grad_ = hooks().run(grad_);
  return true;
}

void TensorNode::push() {
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
  if (grad_enabled()) {
    // create_graph: .grad keeps the graph of the pass, and a second pass adds out of place so the
    // first one's graph stays intact (as PyTorch)
    const TensorPtr g = to_dtype(sum_to_op(grad, leaf_->shape()), leaf_->dtype(), false);
    leaf_->grad = leaf_->grad ? arith(BinaryOp::Add, leaf_->grad, g, leaf_->dtype()) : clone_op(g);
    return {};
  }
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
    throw std::runtime_error(std::string("Trying to backward through the graph a second time (or directly access saved "
                                         "tensors after they have already been freed) at ") +
                             name_ +
                             ". Saved intermediate values of the graph are freed when you call .backward() or "
                             "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a "
                             "second time.");
  }
  std::vector<TensorPtr> tensors;
  tensors.reserve(saved_.size());
  const bool differentiable = grad_enabled();  // a create_graph pass: see Note [create_graph]
  for (std::size_t i = 0; i < saved_.size(); ++i) {
    const SavedTensor& s = saved_[i];
    if (s.tensor->storage()->version() != s.version) {
      throw std::runtime_error(
          "one of the variables needed for gradient computation has been modified by an inplace "
          "operation: [" +
          describe(s.tensor) + "], saved by " + name_ + ", is at version " +
          std::to_string(s.tensor->storage()->version()) + "; expected version " + std::to_string(s.version) +
          " instead.");
    }
    NodePtr edge;
    if (differentiable)
      edge = s.is_output ? NodePtr(static_cast<Node*>(this)) : s.input >= 0 ? inputs()[s.input] : nullptr;
    if (!edge) {
      tensors.push_back(s.tensor);
      continue;
    }
    TensorPtr attached = make_view(s.tensor, s.tensor->shape(), s.tensor->strides(), s.tensor->offset());
    attached->requires_grad = true;
    attached->grad_fn = std::move(edge);
    tensors.push_back(std::move(attached));
  }
  return rule_(grad, tensors);
}

bool any_requires_grad(std::initializer_list<const TensorPtr*> inputs) {
  if (!grad_mode) return false;
  for (const TensorPtr* t : inputs) {
    refresh_view_history(**t);
    if ((*t)->requires_grad) return true;
  }
  return false;
}

bool any_requires_grad(const std::vector<TensorPtr>& inputs) {
  if (!grad_mode) return false;
  for (const TensorPtr& t : inputs) {
    refresh_view_history(*t);
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
// A create_graph pass needs the saved tensors attached to the graph again, so that the gradient
// of a gradient flows through them: the node remembers which of its inputs a saved tensor was (or
// that it was its own output) and re-attaches an alias to that input's edge (or to itself) only
// while such a pass runs. The edges are the node's own inputs, so this adds no ownership either.
// A saved tensor that is neither (an intermediate the op computed) is a constant of the rule: ops
// whose second derivative needs one save their input or output instead.
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
    SavedTensor s{make_view(t, t->shape(), t->strides(), t->offset()), t->storage()->version()};
    s.is_output = t.get() == out.get();
    for (std::size_t k = 0; k < inputs.size() && !s.is_output && s.input < 0; ++k) {
      if (inputs[k].get() == t.get() && edges[k]) s.input = static_cast<int>(k);
    }
    kept.push_back(std::move(s));
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
      throw std::runtime_error("grad can be implicitly created only for scalar outputs (got a " + describe(root) +
                               "); pass gradient=");
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
  return to_dtype(gradient, root->dtype(), false);  // differentiable: a vjp's seed may require grad
}

/// The node a pass starts from: it hands each root its seed gradient.
class GraphRoot final : public TensorNode {
 public:
  GraphRoot(std::vector<NodePtr> edges, std::vector<TensorPtr> seeds)
      : TensorNode(std::move(edges)), seeds_(std::move(seeds)) {}
  const char* name() const override { return "GraphRoot"; }
  Device device() const override { return {}; }
  void backward() override {
    for (std::size_t i = 0; i < seeds_.size(); ++i) static_cast<TensorNode&>(*inputs()[i]).add_grad(seeds_[i]);
  }

 protected:
  std::vector<TensorPtr> apply(const TensorPtr&) override { return {}; }

 private:
  std::vector<TensorPtr> seeds_;
};

/// Where a pass starts: the one root's node and its seed, or a GraphRoot holding several seeds.
struct Start {
  NodePtr node;
  TensorPtr seed;  // null when node is a GraphRoot
};

Start graph_start(const std::vector<TensorPtr>& roots, std::vector<TensorPtr>& gradients) {
  if (roots.empty()) throw std::runtime_error("backward: expected at least one tensor to differentiate");
  if (gradients.size() != roots.size()) {
    throw std::runtime_error("backward: got " + std::to_string(gradients.size()) + " gradients for " +
                             std::to_string(roots.size()) + " tensors");
  }
  std::vector<NodePtr> edges;
  std::vector<TensorPtr> seeds;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (!roots[i]->requires_grad) {
      throw std::runtime_error("element " + std::to_string(i) +
                               " of tensors does not require grad and does not have a grad_fn");
    }
    edges.push_back(edge_for(roots[i]));
    seeds.push_back(seed_gradient(roots[i], std::move(gradients[i])));
  }
  if (roots.size() == 1) return {std::move(edges[0]), std::move(seeds[0])};  // no extra node for the usual case
  return {make_ref<GraphRoot>(std::move(edges), std::move(seeds)), nullptr};
}

// Note [create_graph]
// A pass runs with grad mode set to create_graph. Gradient rules are written in the differentiable
// ops, so with grad mode off they only compute, and with it on they record the backward pass as a
// graph of its own: grad of grad, Hessian-vector products and gradient penalties follow. Saved
// tensors are re-attached for such a pass (Note [saved tensors own no nodes]), and the received
// gradients are dropped when it ends, since under create_graph they may lead back to their node.
class PassMode {
 public:
  explicit PassMode(bool create_graph) : previous_(grad_mode) {
    grad_mode = create_graph;
    pass_running = true;
  }
  PassMode(const PassMode&) = delete;
  PassMode& operator=(const PassMode&) = delete;
  ~PassMode() {
    grad_mode = previous_;
    pass_running = false;
  }

 private:
  bool previous_;
};

/// The nodes of one pass, whose received gradients are dropped however the pass ends.
class Pass {
 public:
  explicit Pass(const Start& start) : order_(topological_order(*start.node)), seed_(start.seed) {}
  Pass(const Pass&) = delete;
  Pass& operator=(const Pass&) = delete;
  ~Pass() {
    for (Node* n : order_) static_cast<TensorNode*>(n)->clear_received();
  }
  const std::vector<Node*>& order() const { return order_; }
  void run() {
    begin_backward(order_);
    if (seed_) static_cast<TensorNode&>(*order_.back()).add_grad(seed_);  // the root comes last
    sweep_backward(order_);
  }
  /// The pass autograd.grad makes: only the nodes on a path to a target run their rule, so parts of
  /// the graph beyond the targets (freed, modified in place, or with leaf hooks) are not touched.
  /// A target still receives its gradient and runs its hooks.
  void run_towards(const std::vector<NodePtr>& targets) {
    const std::unordered_set<Node*> wanted = [&] {
      std::unordered_set<Node*> set;
      for (const NodePtr& t : targets) set.insert(t.get());
      return set;
    }();
    std::unordered_set<Node*> leads;  // nodes from which a target is reachable (themselves included)
    for (Node* n : order_) {          // inputs come before their consumers
      bool reaches = wanted.count(n) != 0;
      for (const NodePtr& in : n->inputs()) reaches = reaches || (in && leads.count(in.get()) != 0);
      if (reaches) leads.insert(n);
    }
    begin_backward(order_);
    auto it = order_.rbegin();
    if (seed_) {
      static_cast<TensorNode&>(**it).add_grad(seed_);
    } else {
      (*it++)->backward();  // a GraphRoot hands out its seeds
    }
    for (; it != order_.rend(); ++it) {
      if (leads.count(*it) == 0) continue;
      auto& node = static_cast<TensorNode&>(**it);
      bool feeds = false;  // whether some input leads on to a target: only then is the rule needed
      for (const NodePtr& in : node.inputs()) feeds = feeds || (in && leads.count(in.get()) != 0);
      if (node.receive() && feeds) node.push();
    }
  }
  void release_saved() {
    for (Node* n : order_) static_cast<TensorNode*>(n)->release_saved();
  }

 private:
  std::vector<Node*> order_;
  TensorPtr seed_;
};

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

void check_not_in_pass(const char* what) {
  if (pass_running) {
    throw std::runtime_error(std::string(what) +
                             " was called from inside a backward pass (a gradient hook): compute what the hook "
                             "needs after the pass, or with autograd.grad before it");
  }
}

void backward(const std::vector<TensorPtr>& roots, std::vector<TensorPtr> gradients, bool retain_graph,
              bool create_graph) {
  const Start start = graph_start(roots, gradients);
  PassMode mode(create_graph);
  Pass pass(start);
  pass.run();
  if (!retain_graph) pass.release_saved();
}

std::vector<TensorPtr> grad(const std::vector<TensorPtr>& roots, std::vector<TensorPtr> gradients,
                            const std::vector<TensorPtr>& inputs, bool retain_graph, bool create_graph,
                            bool allow_unused) {
  const Start start = graph_start(roots, gradients);
  // Hold the inputs' nodes so the leaves' accumulators stay the ones the graph uses.
  std::vector<NodePtr> targets;
  for (const TensorPtr& t : inputs) {
    if (!t->requires_grad) throw std::runtime_error("One of the differentiated Tensors does not require grad");
    targets.push_back(t->grad_fn ? t->grad_fn : (t->accumulator ? NodePtr(t->accumulator) : nullptr));
  }
  std::vector<TensorPtr> out;
  CollectOnly collect;
  PassMode mode(create_graph);
  Pass pass(start);
  pass.run_towards(targets);
  const std::unordered_set<Node*> reached(pass.order().begin(), pass.order().end());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const bool in_pass = targets[i] && reached.count(targets[i].get()) != 0;
    TensorPtr g = in_pass ? static_cast<TensorNode&>(*targets[i]).received_grad() : TensorPtr();
    if (g && g->shape() != inputs[i]->shape()) g = sum_to_op(g, inputs[i]->shape());
    if (!g && !allow_unused) {
      throw std::runtime_error(
          "One of the differentiated Tensors appears to not have been used in the graph. Set "
          "allow_unused=True if this is the desired behavior.");
    }
    out.push_back(g);
  }
  if (!retain_graph) pass.release_saved();
  return out;
}

std::uint64_t register_hook(const TensorPtr& t, GradHook hook, bool last) {
  if (!t->requires_grad) {
    throw std::runtime_error("cannot register a hook on a tensor that doesn't require gradient");
  }
  HookList& list = t->grad_fn ? static_cast<TensorNode&>(*t->grad_fn).hooks() : t->hooks;
  return list.add(std::move(hook), last);
}

bool remove_hook(const TensorPtr& t, std::uint64_t id) {
  if (t->grad_fn && static_cast<TensorNode&>(*t->grad_fn).hooks().remove(id)) return true;
  return t->hooks.remove(id);
}

}  // namespace chaingrad
