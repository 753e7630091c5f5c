#include "scalar/ops.h"

#include <atomic>
#include <cmath>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace chaingrad {

// Note [scalar graph layout]
// micrograd-style training builds and frees tens of thousands of scalar nodes per step, so the
// cost per node and per edge is what counts. A scalar node is therefore not a core Node: it keeps
// a unary or binary op's inputs inline (no vector per node), comes from a per-thread free list,
// and a weighted sum refers to two shared ScalarLists instead of holding 2n+1 references: the
// neuron's weights (one list kept by the binding across calls) and the layer's inputs (one list
// for all neurons of the layer). Building or freeing a neuron then touches three reference counts
// instead of 2n+1. The graph is the same as before to every observer: input(i) lists a weighted
// sum's inputs as [b, w0, x0, w1, x1, ...], and the traversal visits them in that order.

// Note [scalar node pool]
// Freed nodes go onto a per-thread singly linked list and are handed out again by the next
// allocations: a training step frees its graph just before building the next one of the same
// size, so after the first step nodes cost no malloc or free. The list is capped (what a graph of
// kMaxPooled nodes frees beyond that goes back to malloc). Nodes are only created and freed with
// the GIL held, but any thread may hold it, hence one list per thread; a node freed on another
// thread than the one that made it simply joins that thread's list. The list head is trivially
// destructible, so a node freed during thread exit, after the list was drained, still finds it
// (marked closed) and goes to ::operator delete.
namespace {

constexpr std::size_t kMaxPooled = std::size_t{1} << 15;

struct FreeBlock {
  FreeBlock* next;
};

struct Pool {
  FreeBlock* head;
  std::size_t size;
  bool registered;
  bool closed;
};

thread_local Pool pool{nullptr, 0, false, false};

void drain_pool() {
  while (pool.head != nullptr) {
    FreeBlock* block = pool.head;
    pool.head = block->next;
    ::operator delete(static_cast<void*>(block));
  }
  pool.size = 0;
}

/// Drains this thread's pool when the thread ends.
struct PoolCloser {
  ~PoolCloser() {
    drain_pool();
    pool.closed = true;
  }
};

void register_pool_closer() {
  thread_local PoolCloser closer;
  (void)closer;
  pool.registered = true;
}

}  // namespace

void* ScalarNode::operator new(std::size_t size) {
  if (size == sizeof(ScalarNode) && pool.head != nullptr) {
    FreeBlock* block = pool.head;
    pool.head = block->next;
    --pool.size;
    return block;
  }
  return ::operator new(size);
}

void ScalarNode::operator delete(void* p, std::size_t size) noexcept {
  if (p == nullptr) return;
  if (size == sizeof(ScalarNode) && !pool.closed && pool.size < kMaxPooled) {
    if (!pool.registered) register_pool_closer();
    pool.head = new (p) FreeBlock{pool.head};
    ++pool.size;
    return;
  }
  ::operator delete(p);
}

ScalarList::ScalarList(std::vector<ScalarPtr> items) : items_(std::move(items)) {
  for (const ScalarPtr& item : items_) all_leaves_ = all_leaves_ && item->is_leaf();
}

std::size_t ScalarNode::input_count() const {
  if (weights_) return 1 + 2 * weights_->size();
  return (a_ ? 1 : 0) + (b_ ? 1 : 0);
}

const ScalarPtr& ScalarNode::input(std::size_t i) const {
  if (!weights_ || i == 0) return i == 0 ? a_ : b_;
  const std::size_t term = (i - 1) / 2;
  return (i % 2 == 1) ? (*weights_)[term] : (*xs_)[term];
}

// Note [iterative teardown] (scalar nodes)
// As for core nodes (see core/graph.cpp), freeing the last reference to a deep graph must not
// recurse once per node. The dying node releases its inputs into a local stack: an input whose
// count reaches zero there is not deleted but queued, and it releases its own inputs in turn
// before it is freed, so no destructor finds an input left to recurse into. A list dies the same
// way, its items queued. An input referenced twice (x * x) is simply released twice.
ScalarNode::~ScalarNode() {
  if (op_ == ScalarOp::Leaf) return;
  Dying dying;
  release_inputs(dying);
  while (!dying.empty()) {
    std::unique_ptr<ScalarNode> node = std::move(dying.back());
    dying.pop_back();
    node->release_inputs(dying);
  }  // `node` is freed here with no inputs left, so its destructor does not loop again
}

void ScalarNode::release_inputs(Dying& dying) {
  auto release = [&dying](ScalarPtr& input) {
    if (std::unique_ptr<ScalarNode> last = input.release_if_last()) dying.push_back(std::move(last));
  };
  release(a_);
  release(b_);
  for (ScalarListPtr* list : {&weights_, &xs_}) {
    if (std::unique_ptr<ScalarList> last = list->release_if_last()) {
      for (ScalarPtr& item : last->items_) release(item);
    }
  }
}

namespace {

ScalarPtr make_unary(ScalarOp op, const ScalarPtr& a, double data, double aux = 0.0) {
  return make_ref<ScalarNode>(op, a, nullptr, data, aux);
}

ScalarPtr make_binary(ScalarOp op, const ScalarPtr& a, const ScalarPtr& b, double data) {
  return make_ref<ScalarNode>(op, a, b, data);
}

}  // namespace

ScalarPtr add(const ScalarPtr& a, const ScalarPtr& b) {
  return make_binary(ScalarOp::Add, a, b, a->data() + b->data());
}

ScalarPtr sub(const ScalarPtr& a, const ScalarPtr& b) {
  return make_binary(ScalarOp::Sub, a, b, a->data() + (-b->data()));
}

ScalarPtr mul(const ScalarPtr& a, const ScalarPtr& b) {
  return make_binary(ScalarOp::Mul, a, b, a->data() * b->data());
}

ScalarPtr div(const ScalarPtr& a, const ScalarPtr& b) {
  return make_binary(ScalarOp::Div, a, b, a->data() * std::pow(b->data(), -1.0));
}

ScalarPtr neg(const ScalarPtr& a) { return make_unary(ScalarOp::Neg, a, -a->data()); }

ScalarPtr pow(const ScalarPtr& a, double exponent) {
  return make_unary(ScalarOp::Pow, a, std::pow(a->data(), exponent), exponent);
}

ScalarPtr relu(const ScalarPtr& a) {
  const double x = a->data();
  return make_unary(ScalarOp::Relu, a, x < 0 ? 0.0 : x);
}

ScalarPtr tanh(const ScalarPtr& a) { return make_unary(ScalarOp::Tanh, a, std::tanh(a->data())); }

ScalarPtr exp(const ScalarPtr& a) { return make_unary(ScalarOp::Exp, a, std::exp(a->data())); }

ScalarPtr log(const ScalarPtr& a) { return make_unary(ScalarOp::Log, a, std::log(a->data())); }

ScalarPtr sigmoid(const ScalarPtr& a) { return make_unary(ScalarOp::Sigmoid, a, 1.0 / (1.0 + std::exp(-a->data()))); }

ScalarPtr weighted_sum(ScalarPtr bias, ScalarListPtr weights, ScalarListPtr xs, bool relu) {
  if (weights->size() != xs->size()) {
    throw std::invalid_argument("weighted_sum: " + std::to_string(weights->size()) + " weights for " +
                                std::to_string(xs->size()) + " inputs");
  }
  double acc = bias->data();
  for (std::size_t i = 0; i < weights->size(); ++i) acc = acc + (*weights)[i]->data() * (*xs)[i]->data();
  const ScalarOp op = relu ? ScalarOp::ReluWeightedSum : ScalarOp::WeightedSum;
  if (relu && acc < 0) acc = 0.0;
  return make_ref<ScalarNode>(op, std::move(bias), std::move(weights), std::move(xs), acc);
}

// Note [micrograd's rounding]
// Each rule below is written as the product micrograd's Python closure computes, e.g. Div is
// micrograd's a * b**-1, whose b-gradient is (-1 * b**-2) * (a * g). Keeping the same operations
// in the same order (and no FMA contraction: see CMakeLists.txt) gives bit-identical gradients.
void ScalarNode::backward() {
  if (op_ == ScalarOp::Leaf) return;
  const double g = grad_;
  ScalarNode& in0 = *a_;
  ScalarNode& in1 = b_ ? *b_ : in0;  // only read by binary ops
  switch (op_) {
    case ScalarOp::Leaf:
      return;
    case ScalarOp::Add:
      in0.accumulate(g);
      in1.accumulate(g);
      return;
    case ScalarOp::Sub:
      in0.accumulate(g);
      in1.accumulate(-1.0 * g);
      return;
    case ScalarOp::Mul:
      in0.accumulate(in1.data_ * g);
      in1.accumulate(in0.data_ * g);
      return;
    case ScalarOp::Div: {
      const double a = in0.data_, b = in1.data_;
      in0.accumulate(std::pow(b, -1.0) * g);
      in1.accumulate((-1.0 * std::pow(b, -2.0)) * (a * g));
      return;
    }
    case ScalarOp::Neg:
      in0.accumulate(-1.0 * g);
      return;
    case ScalarOp::Pow:
      in0.accumulate((aux_ * std::pow(in0.data_, aux_ - 1.0)) * g);
      return;
    case ScalarOp::Relu:
      in0.accumulate((data_ > 0 ? 1.0 : 0.0) * g);
      return;
    case ScalarOp::Tanh:
      in0.accumulate((1.0 - data_ * data_) * g);
      return;
    case ScalarOp::Exp:
      in0.accumulate(data_ * g);
      return;
    case ScalarOp::Log:
      in0.accumulate((1.0 / in0.data_) * g);
      return;
    case ScalarOp::Sigmoid:
      in0.accumulate(data_ * (1.0 - data_) * g);
      return;
    case ScalarOp::WeightedSum:
      distribute_weighted_sum(g);
      return;
    case ScalarOp::ReluWeightedSum:
      // micrograd's relu node hands (out > 0) * g to the sum node, which passes it on unchanged.
      distribute_weighted_sum((data_ > 0 ? 1.0 : 0.0) * g);
      return;
  }
}

void ScalarNode::distribute_weighted_sum(double g) {
  a_->accumulate(g);
  const ScalarList& weights = *weights_;
  const ScalarList& xs = *xs_;
  for (std::size_t i = weights.size(); i-- > 0;) {  // last term first, as micrograd's sweep visits them
    ScalarNode& w = *weights[i];
    ScalarNode& x = *xs[i];
    w.accumulate(x.data_ * g);
    x.accumulate(w.data_ * g);
  }
}

// Note [scalar traversal]
// The backward order is the same depth-first post-order over inputs (in the order the op took
// them) as before, so gradients are summed in the same order, but leaves are left out: they have
// no rule to apply and nothing to reset, and they are most of a network's inputs (its weights).
// Each traversal takes a fresh stamp from a process-wide counter (atomic, so concurrent traversals
// of disjoint graphs are safe) and marks what it reaches. A layer's input list is marked too: the
// first neuron to read it visits its items, and the other neurons of the layer skip the whole list
// in one compare (in a DAG every item is finished by then). A node is reset for the pass when it
// is finished, which is before any gradient flows.
void scalar_backward(ScalarNode& root) {
  if (root.is_leaf()) {
    root.accumulate(1.0);
    return;
  }
  static std::atomic<std::uint64_t> next_stamp{0};
  const std::uint64_t stamp = ++next_stamp;

  struct Frame {
    ScalarNode* node;
    std::size_t next;  // index of the next input to visit
    std::size_t count;
  };
  std::vector<ScalarNode*> order;
  std::vector<Frame> stack;
  auto enter = [&](ScalarNode* node) {
    node->visit_mark_ = stamp;
    std::size_t count = node->input_count();
    if (node->weights_ && node->weights_->all_leaves()) {
      ScalarList& xs = *node->xs_;
      if (xs.visit_mark_ == stamp || xs.all_leaves()) count = 1;  // only the bias is left to visit
      xs.visit_mark_ = stamp;
    }
    stack.push_back(Frame{node, 0, count});
  };
  enter(&root);
  while (!stack.empty()) {
    Frame& frame = stack.back();
    if (frame.next < frame.count) {
      ScalarNode* input = frame.node->input(frame.next++).get();
      if (!input->is_leaf() && input->visit_mark_ != stamp) enter(input);
    } else {
      ScalarNode* node = frame.node;
      stack.pop_back();
      node->grad_ = 0.0;
      node->grad_is_int = false;
      order.push_back(node);
    }
  }
  root.grad_ = 1.0;
  root.grad_is_int = true;  // micrograd seeds the root with the int 1
  for (auto it = order.rbegin(); it != order.rend(); ++it) (*it)->backward();
}

const char* scalar_op_name(ScalarOp op) {
  switch (op) {
    case ScalarOp::Leaf:
      return "";
    case ScalarOp::Add:
      return "+";
    case ScalarOp::Sub:
      return "-";
    case ScalarOp::Mul:
      return "*";
    case ScalarOp::Div:
      return "/";
    case ScalarOp::Neg:
      return "neg";
    case ScalarOp::Pow:
      return "**";
    case ScalarOp::Relu:
      return "ReLU";
    case ScalarOp::Tanh:
      return "tanh";
    case ScalarOp::Exp:
      return "exp";
    case ScalarOp::Log:
      return "log";
    case ScalarOp::Sigmoid:
      return "sigmoid";
    case ScalarOp::WeightedSum:
      return "wsum";
    case ScalarOp::ReluWeightedSum:
      return "ReLU(wsum)";
  }
  return "?";
}

}  // namespace chaingrad
