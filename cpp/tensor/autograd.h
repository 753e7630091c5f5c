// Autograd for tensors on the shared graph core: gradient nodes, leaf accumulation, grad mode,
// and the backward entry points.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/graph.h"
#include "tensor/tensor.h"

namespace chaingrad {

/// Whether ops record gradient nodes on this thread (false inside `no_grad`).
bool grad_enabled();
void set_grad_enabled(bool enabled);

/// A node that turns the gradient of its output tensor into gradients of its inputs. Each
/// backward pass sums the gradients arriving from consumers in grad_, then apply() runs once.
class TensorNode : public Node {
 public:
  using Node::Node;
  /// PyTorch's name for the node ("MulBackward0"), shown by grad_fn.
  virtual const char* name() const = 0;
  /// Adds g to the gradient this node has received in the current pass, moved to device() first
  /// when it comes from an op on another device (a 0-d CPU tensor used as a scalar by a CUDA op).
  void add_grad(const TensorPtr& g);
  /// The device of the tensor whose gradient this node receives.
  virtual Device device() const = 0;
  /// The gradient received in the current pass (null before any arrived).
  const TensorPtr& received_grad() const { return grad_; }
  /// Frees saved tensors after a backward pass without retain_graph.
  virtual void release_saved() {}
  /// Forgets the received gradient once a pass is over: under create_graph it is part of a graph
  /// that may lead back to this node, and holding it would make a cycle.
  virtual void clear_received() { grad_.reset(); }
  /// The hooks run on the gradient as it arrives (Tensor.register_hook).
  virtual HookList& hooks() { return hooks_; }

  void begin_backward() override { grad_.reset(); }
  /// receive(), then push() when a gradient arrived.
  void backward() override;
  /// Runs the hooks on the gradient received in this pass; false when none arrived.
  bool receive();
  /// Applies the rule to the received gradient and adds the results to the inputs' nodes.
  void push();

 protected:
  /// Gradients for each input edge, in order (null where there is none).
  virtual std::vector<TensorPtr> apply(const TensorPtr& grad) = 0;

 private:
  TensorPtr grad_;
  HookList hooks_;
};

/// The sink for a leaf tensor that requires grad: adds the gradient into leaf.grad.
class AccumulateGrad final : public TensorNode {
 public:
  explicit AccumulateGrad(TensorPtr leaf);
  ~AccumulateGrad() override;
  const char* name() const override { return "AccumulateGrad"; }
  Device device() const override { return leaf_->device(); }
  const TensorPtr& leaf() const { return leaf_; }
  /// A leaf's hooks belong to the tensor: they outlive the graphs that use it.
  HookList& hooks() override { return leaf_->hooks; }

 protected:
  std::vector<TensorPtr> apply(const TensorPtr& grad) override;

 private:
  TensorPtr leaf_;
};

/// The data of a tensor kept for the backward pass (an alias without autograd state), with the
/// version it had when saved and where its gradient goes when a create_graph pass differentiates
/// through it: the node's input edge `input`, or the node itself for its own output, or nowhere
/// (a constant of the rule). See Note [saved tensors own no nodes].
struct SavedTensor {
  TensorPtr tensor;
  std::uint64_t version = 0;
  int input = -1;
  bool is_output = false;
};

/// The gradient rule of one op: gradients for each input from the output's gradient and the
/// saved tensors (in the order they were saved).
using GradRule = std::function<std::vector<TensorPtr>(const TensorPtr& grad, const std::vector<TensorPtr>& saved)>;

/// The node of an ordinary op: its name, input edges, saved tensors and gradient rule.
class FunctionNode final : public TensorNode {
 public:
  FunctionNode(const char* name, std::vector<NodePtr> edges, std::vector<SavedTensor> saved, GradRule rule,
               Device device)
      : TensorNode(std::move(edges)), name_(name), saved_(std::move(saved)), rule_(std::move(rule)), device_(device) {}
  const char* name() const override { return name_; }
  Device device() const override { return device_; }
  void release_saved() override;

 protected:
  std::vector<TensorPtr> apply(const TensorPtr& grad) override;

 private:
  const char* name_;
  std::vector<SavedTensor> saved_;
  GradRule rule_;
  Device device_;  // the output's
  bool released_ = false;
};

/// Gives a view whose base got a new history since the view's grad_fn was made (an in-place op on
/// the base or on another view of it) a grad_fn reading that history, as PyTorch regenerates it.
/// See Note [in-place ops on views].
void refresh_view_history(TensorImpl& view);
/// Records that an in-place op wrote `value` (the out-of-place result, requiring grad) into view:
/// the base gets a CopySlices node and the view a grad_fn reading the base's new history.
void record_view_write(const TensorPtr& view, const TensorPtr& value);

/// The node t's gradient flows into: its grad_fn, its leaf accumulator, or null when t does not
/// require grad (an op's input edge for t).
NodePtr gradient_edge(const TensorPtr& t);

/// True when ops should record a node for an op on these inputs.
bool any_requires_grad(std::initializer_list<const TensorPtr*> inputs);
bool any_requires_grad(const std::vector<TensorPtr>& inputs);

/// Makes `out` the result of a recorded op: the gradient flows to `inputs` through `rule`, which
/// receives `saved` back. Does nothing (returns out) when no input requires grad or grad mode is
/// off.
TensorPtr record(TensorPtr out, const char* name, const std::vector<TensorPtr>& inputs,
                 const std::vector<TensorPtr>& saved, GradRule rule);

// Note [one tensor backward at a time]
// Kernels inside a backward pass release the GIL; another thread's backward over a graph sharing
// nodes would meanwhile reset those nodes' gradient buffers (freeing what the kernel reads) and
// mix the two passes' sums. Callers therefore hold backward_mutex() for a whole pass, taking it
// with the GIL released so that neither lock waits on the other.
std::mutex& backward_mutex();
/// Throws when this thread is inside a backward pass (a gradient hook calling backward() or
/// autograd.grad): the inner pass would reset the gradients the outer one is summing. Callers check
/// before taking backward_mutex(), which this thread already holds then.
void check_not_in_pass(const char* what);

/// Backpropagates from each root, seeded with its gradient (ones for a one-element root when
/// null): leaves that require grad accumulate into .grad. Frees saved tensors unless
/// retain_graph. With create_graph the pass itself is recorded (see Note [create_graph]).
void backward(const std::vector<TensorPtr>& roots, std::vector<TensorPtr> gradients, bool retain_graph,
              bool create_graph);

/// The sum over roots of d root / d input (each root weighted by its gradient) for each input,
/// without touching any .grad (PyTorch's autograd.grad). A null entry means the input is not
/// reached (an error unless allow_unused).
std::vector<TensorPtr> grad(const std::vector<TensorPtr>& roots, std::vector<TensorPtr> gradients,
                            const std::vector<TensorPtr>& inputs, bool retain_graph, bool create_graph,
                            bool allow_unused);

/// Adds a gradient hook to t (to its grad_fn when t is not a leaf); returns its id.
std::uint64_t register_hook(const TensorPtr& t, GradHook hook, bool last);
/// Removes hook `id` from t (or its grad_fn); false when it is not there.
bool remove_hook(const TensorPtr& t, std::uint64_t id);

}  // namespace chaingrad
