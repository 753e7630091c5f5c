// autograd.Function's nodes. One output: one PythonFunctionNode is the output's grad_fn. Several
// outputs: each output's grad_fn is an OutputSlotNode that hands its gradient to the shared
// PythonFunctionNode (its one input edge) and pushes a 0-d zero to it, so that the node runs
// once, after every output's gradient has arrived, with all of them.
#include "bindings/python_function.h"

#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings/tensor_type.h"
#include "kernels/kernels.h"
#include "tensor/autograd.h"
#include "tensor/ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

/// Calls the Python rule with the outputs' gradients (None where none arrived) and takes one
/// gradient (or None) per input edge back; the Python side checks counts and shapes.
class PythonFunctionNode final : public TensorNode {
 public:
  PythonFunctionNode(std::string name, std::vector<NodePtr> edges, py::function rule, Device device,
                     std::size_t outputs, std::vector<TensorPtr> saved_outputs)
      : TensorNode(std::move(edges)),
        name_(std::move(name)),
        rule_(std::move(rule)),
        device_(device),
        slots_(outputs),
        saved_outputs_(std::move(saved_outputs)) {}
  ~PythonFunctionNode() override {
    py::gil_scoped_acquire gil;  // nodes are dropped with the GIL held (Note [graph refcounts]); this is cheap then
    rule_ = py::function();
    slots_.clear();
  }
  const char* name() const override { return name_.c_str(); }
  Device device() const override { return device_; }
  /// The Python rule holds ctx and its saved tensors: dropping it frees them, as release_saved should.
  void release_saved() override {
    rule_ = py::function();
    saved_outputs_.clear();
  }
  void begin_backward() override {
    TensorNode::begin_backward();
    clear_slots();
  }
  void clear_received() override {
    TensorNode::clear_received();
    clear_slots();  // under create_graph a slot's gradient may lead back to this node
  }
  /// Output `index`'s gradient for the current pass (several outputs only).
  void set_slot(std::size_t index, const TensorPtr& g) {
    slots_[index] = slots_[index] ? arith(BinaryOp::Add, slots_[index], g, slots_[index]->dtype()) : g;
  }

 protected:
  std::vector<TensorPtr> apply(const TensorPtr& grad) override {
    if (!rule_) {
      throw std::runtime_error(
          "Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed) at " +
          name_ +
          ". Specify retain_graph=True if you need to backward through the graph a "
          "second time.");
    }
    py::tuple grads(slots_.size());
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const TensorPtr& g = slots_.size() == 1 ? grad : slots_[i];
      grads[i] = g ? wrap_tensor(g) : py::none();
    }
    clear_slots();
    const py::function rule = rule_;  // the rule may run a retain_graph=False pass of its own: keep it alive
    // a create_graph pass differentiates through the saved output too: the rule gets aliases of it
    // attached to this node, for the pass only (see Note [saved tensors own no nodes])
    py::object attached = py::none();
    if (grad_enabled() && !saved_outputs_.empty()) {
      py::list views;
      for (const TensorPtr& t : saved_outputs_) {
        TensorPtr view = make_view(t, t->shape(), t->strides(), t->offset());
        view->requires_grad = true;
        view->grad_fn = NodePtr(static_cast<Node*>(this));
        views.append(wrap_tensor(view));
      }
      attached = std::move(views);
    }
    const py::object result = rule(grads, attached);
    std::vector<TensorPtr> out;
    for (py::handle h : result) out.push_back(h.is_none() ? TensorPtr() : require_tensor(h, "a backward gradient"));
    return out;
  }

 private:
  void clear_slots() {
    for (TensorPtr& s : slots_) s.reset();
  }

  std::string name_;
  py::function rule_;
  Device device_;
  std::vector<TensorPtr> slots_;          // the outputs' gradients (several outputs only)
  std::vector<TensorPtr> saved_outputs_;  // detached aliases of the output that ctx saved (one output only)
};

/// The grad_fn of one of several outputs: see the file's comment.
class OutputSlotNode final : public TensorNode {
 public:
  OutputSlotNode(const NodePtr& function, std::size_t index, Device device)
      : TensorNode({function}), index_(index), device_(device) {}
  const char* name() const override { return static_cast<const TensorNode&>(*inputs()[0]).name(); }
  Device device() const override { return device_; }

 protected:
  std::vector<TensorPtr> apply(const TensorPtr& grad) override {
    auto& function = static_cast<PythonFunctionNode&>(*inputs()[0]);
    function.set_slot(index_, grad);
    TensorPtr signal = empty({}, DType::Float32, function.device());
    fill(signal, 0.0);
    return {signal};
  }

 private:
  std::size_t index_;
  Device device_;
};

void function_attach(const std::string& name, const std::vector<py::handle>& outputs,
                     const std::vector<py::handle>& inputs, py::function rule,
                     const std::vector<py::handle>& saved_outputs) {
  if (outputs.empty()) throw py::value_error("function_attach: no outputs to attach");
  std::vector<TensorPtr> outs;
  for (py::handle h : outputs) {
    TensorPtr t = require_tensor(h, "an output");
    if (t->grad_fn || t->requires_grad) {
      throw std::runtime_error("function_attach: an output already belongs to a graph (pass a fresh alias)");
    }
    outs.push_back(std::move(t));
  }
  std::vector<NodePtr> edges;
  for (py::handle h : inputs) edges.push_back(gradient_edge(require_tensor(h, "an input")));
  std::vector<TensorPtr> saved;
  for (py::handle h : saved_outputs) {
    TensorPtr t = require_tensor(h, "a saved output");
    if (outs.size() != 1 || t->grad_fn || t->storage() != outs[0]->storage()) {
      throw std::runtime_error("function_attach: a saved output must be a detached alias of the one output");
    }
    saved.push_back(std::move(t));
  }
  const Device device = outs[0]->device();
  auto node =
      make_ref<PythonFunctionNode>(name, std::move(edges), std::move(rule), device, outs.size(), std::move(saved));
  for (std::size_t i = 0; i < outs.size(); ++i) {
    outs[i]->requires_grad = true;
    outs[i]->grad_fn = outs.size() == 1 ? NodePtr(node) : NodePtr(make_ref<OutputSlotNode>(node, i, outs[i]->device()));
  }
}

}  // namespace

void bind_python_function(py::module_& m) {
  m.def("function_attach", &function_attach, py::arg("name"), py::arg("outputs"), py::arg("inputs"), py::arg("rule"),
        py::arg("saved_outputs"),
        "Makes outputs the results of a node named name whose gradient rule is the Python callable rule "
        "(a tuple with each output's gradient or None, and in a create_graph pass the saved_outputs "
        "attached to the node, else None -> one gradient or None per input).");
}

}  // namespace chaingrad
