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
// neuron's bias and weights (one list kept by the binding across calls) and the layer's inputs
// (one list for all neurons of the layer). Building or freeing a neuron then touches two
// reference counts instead of 2n+1. The graph is the same as before to every observer: input(i) lists a weighted
// sum's inputs as [b, w0, x0, w1, x1, ...], and the traversal visits them in that order.

// Note [scalar node pool]
// Freed nodes go onto a per-thread stack and are handed out again by the next allocations: a
// training step frees its graph just before building the next one of the same size, so after the
// first step nodes cost no malloc or free. The stack is an array of addresses rather than a list
// threaded through the free nodes, so that an allocation can prefetch the node it will hand out
// kPrefetch allocations later without reading a cold node to find it: a benchmark that collects
// garbage between steps (as chaingrad.bench does) evicts the pool from the caches, and waiting for
// each node's cache line in turn then cost a third of the forward pass. The stack is capped (what
// a graph frees beyond kMaxPooled nodes goes back to malloc). Nodes are only created and freed
// with the GIL held, but any thread may hold it, hence one stack per thread; a node freed on
// another thread than the one that made it simply joins that thread's stack. The stack's header
// is trivially destructible, so a node freed during thread exit, after the stack was drained,
// still finds it (marked closed) and goes to ::operator delete.
namespace {

static_assert(sizeof(ScalarNode) <= 88 || sizeof(void*) != 8,
              "a scalar node outgrew its 96-byte malloc chunk: see the comment on ScalarNode::op_");

constexpr std::size_t kMaxPooled = std::size_t{1} << 14;
constexpr std::size_t kPrefetch = 8;

struct Pool {
  void** slots;  // kMaxPooled addresses, allocated by the first free
  std::size_t size;
  bool closed;
};

thread_local Pool pool{nullptr, 0, false};

/// Frees this thread's pooled nodes and its stack when the thread ends.
struct PoolCloser {
  ~PoolCloser() {
    while (pool.size > 0) ::operator delete(pool.slots[--pool.size]);
    ::operator delete(static_cast<void*>(pool.slots));
    pool.slots = nullptr;
    pool.closed = true;
  }
};

/// Allocates this thread's stack; false when memory is short (the node then goes to malloc).
bool open_pool() noexcept {
  pool.slots = static_cast<void**>(::operator new(kMaxPooled * sizeof(void*), std::nothrow));
  if (pool.slots == nullptr) return false;
  thread_local PoolCloser closer;
  (void)closer;
  return true;
}

void prefetch_for_write(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1);
#else
  (void)p;
#endif
}

}  // namespace

void* ScalarNode::operator new(std::size_t size) {
  if (size == sizeof(ScalarNode) && pool.size > 0) {
    void* node = pool.slots[--pool.size];
    if (pool.size >= kPrefetch) prefetch_for_write(pool.slots[pool.size - kPrefetch]);
    return node;
  }
  return ::operator new(size);
}

void ScalarNode::operator delete(void* p, std::size_t size) noexcept {
  if (p == nullptr) return;
  if (size == sizeof(ScalarNode) && !pool.closed && pool.size < kMaxPooled && (pool.slots != nullptr || open_pool())) {
    pool.slots[pool.size++] = p;
    return;
  }
  ::operator delete(p);
}

ScalarList::ScalarList(std::vector<ScalarPtr> items) : items_(std::move(items)) {
  for (const ScalarPtr& item : items_) all_leaves_ = all_leaves_ && item->is_leaf();
}

// Note [weight values]
// Every sample of a batch reads the same weights: a neuron's weighted sum loads each weight's
// address from its list and then the weight's data from its node, scattered over memory. A list
// therefore keeps its items' data side by side, valid while scalar_data_version has not moved: a
// node's data is fixed when it is made and changes only through set_data, which moves the
// version. A training step writes the weights once (the update), so the first forward sample of
// the next step gathers them again and the others read the copy. Versions start at 1 for a list
// so that a new list gathers on its first call whatever the counter reads.
const double* ScalarList::values() const {
  const std::uint64_t version = detail::scalar_data_version.load(std::memory_order_relaxed) + 1;
  if (values_version_ != version || values_.size() != items_.size()) {
    values_.resize(items_.size());
    for (std::size_t i = 0; i < items_.size(); ++i) values_[i] = items_[i]->data();
    values_version_ = version;
  }
  return values_.data();
}

// Note [iterative teardown] (scalar nodes)
// As for core nodes (see core/graph.cpp), freeing the last reference to a deep graph must not
// recurse once per node. The dying node releases its inputs into a local stack: an input whose
// count reaches zero there is not deleted but queued, and it releases its own inputs in turn
// before it is freed, so no destructor finds an input left to recurse into. A list dies the same
// way, its items queued. An input referenced twice (x * x) is simply released twice.
ScalarNode::~ScalarNode() {
  if (!a_ && !b_ && !params_) return;  // a leaf, or a node the loop below has already emptied
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
    std::unique_ptr<ScalarNode> last = input.release_if_last();
    if (last && !last->is_leaf()) {  // a leaf has nothing to recurse into
      // Its count, just decremented, shares a cache line with a_ and b_; the lists lie further.
      prefetch_for_write(&last->params_);
      dying.push_back(std::move(last));
    }
  };
  release(a_);
  release(b_);
  for (ScalarListPtr* list : {&params_, &xs_}) {
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

ScalarPtr tanh(const ScalarPtr& a) {
  // The micrograd lecture's formula, so its printed values agree to the last bit; where e^2x
  // overflows the formula would give inf/inf, and the limit 1 is exact in double.
  const double e2x = std::exp(2.0 * a->data());
  return make_unary(ScalarOp::Tanh, a, std::isinf(e2x) ? 1.0 : (e2x - 1.0) / (e2x + 1.0));
}

ScalarPtr exp(const ScalarPtr& a) { return make_unary(ScalarOp::Exp, a, std::exp(a->data())); }

ScalarPtr log(const ScalarPtr& a) { return make_unary(ScalarOp::Log, a, std::log(a->data())); }

ScalarPtr sigmoid(const ScalarPtr& a) { return make_unary(ScalarOp::Sigmoid, a, 1.0 / (1.0 + std::exp(-a->data()))); }

namespace {

void check_terms(const ScalarList& params, const ScalarList& xs) {
  if (params.size() != xs.size() + 1) {
    throw std::invalid_argument("weighted_sum: " + std::to_string(params.size()) +
                                " parameters (bias and weights) for " + std::to_string(xs.size()) + " inputs");
  }
}

/// The node of a weighted sum whose sum is acc.
ScalarPtr make_weighted_sum(ScalarListPtr params, ScalarListPtr xs, double acc, bool relu) {
  const ScalarOp op = relu ? ScalarOp::ReluWeightedSum : ScalarOp::WeightedSum;
  if (relu && acc < 0) acc = 0.0;
  return make_ref<ScalarNode>(op, std::move(params), std::move(xs), acc);
}

}  // namespace

ScalarPtr weighted_sum(ScalarListPtr params, ScalarListPtr xs, bool relu) {
  check_terms(*params, *xs);
  const ScalarList& p = *params;
  const ScalarList& x = *xs;
  double acc = p[0]->data();
  for (std::size_t i = 0; i < x.size(); ++i) acc = acc + p[i + 1]->data() * x[i]->data();
  return make_weighted_sum(std::move(params), std::move(xs), acc, relu);
}

// Note [interleaved sums]
// A weighted sum must add its terms one after the other, left to right, to give micrograd's
// value to the last bit, so one neuron's sum is a chain of dependent additions whose latency,
// not the arithmetic, sets its speed. The neurons of a layer are independent of each other,
// though: summing four of them in the same loop keeps four chains in flight, each in its own
// order, so every value is unchanged. The inputs' values are gathered once per layer.
void weighted_sums(const NeuronSpec* neurons, std::size_t count, const ScalarListPtr& xs, std::vector<ScalarPtr>& out) {
  if (count == 0) return;
  const ScalarList& x = *xs;
  const std::size_t n = x.size();
  for (std::size_t k = 0; k < count; ++k) check_terms(*neurons[k].params, x);
  constexpr std::size_t kOnStack = 64;  // a layer this wide or narrower needs no allocation
  double on_stack[kOnStack];
  std::vector<double> on_heap(n > kOnStack ? n : 0);
  double* xd = n > kOnStack ? on_heap.data() : on_stack;
  for (std::size_t i = 0; i < n; ++i) xd[i] = x[i]->data();
  std::size_t k = 0;
  for (; k + 4 <= count; k += 4) {
    const double* p0 = neurons[k].params->values();
    const double* p1 = neurons[k + 1].params->values();
    const double* p2 = neurons[k + 2].params->values();
    const double* p3 = neurons[k + 3].params->values();
    double a0 = p0[0], a1 = p1[0], a2 = p2[0], a3 = p3[0];
    for (std::size_t i = 0; i < n; ++i) {
      a0 = a0 + p0[i + 1] * xd[i];
      a1 = a1 + p1[i + 1] * xd[i];
      a2 = a2 + p2[i + 1] * xd[i];
      a3 = a3 + p3[i + 1] * xd[i];
    }
    const double sums[4] = {a0, a1, a2, a3};
    for (std::size_t j = 0; j < 4; ++j) {
      out.push_back(make_weighted_sum(neurons[k + j].params, xs, sums[j], neurons[k + j].relu));
    }
  }
  for (; k < count; ++k) {
    const double* p = neurons[k].params->values();
    double acc = p[0];
    for (std::size_t i = 0; i < n; ++i) acc = acc + p[i + 1] * xd[i];
    out.push_back(make_weighted_sum(neurons[k].params, xs, acc, neurons[k].relu));
  }
}

// Note [micrograd's rounding]
// Each rule below is written as the product micrograd's Python closure computes, e.g. Div is
// micrograd's a * b**-1, whose b-gradient is (-1 * b**-2) * (a * g). Keeping the same operations
// in the same order (and no FMA contraction: see CMakeLists.txt) gives bit-identical gradients.
ScalarExtras& ScalarNode::mutable_extras() {
  if (!extras_) extras_ = std::make_unique<ScalarExtras>();
  return *extras_;
}

void ScalarNode::backward() {
  if (extras_ && extras_->user_backward) {
    extras_->user_backward->run();
    return;
  }
  const double g = grad_;
  switch (op_) {  // a weighted sum's inputs are its lists: a_ and b_ are null there
    case ScalarOp::Leaf:
    case ScalarOp::Custom:  // without a user's rule, nothing flows through it (as in micrograd)
      return;
    case ScalarOp::WeightedSum:
      distribute_weighted_sum(g);
      return;
    case ScalarOp::ReluWeightedSum:
      // micrograd's relu node hands (out > 0) * g to the sum node, which passes it on unchanged.
      distribute_weighted_sum((data_ > 0 ? 1.0 : 0.0) * g);
      return;
    default:
      break;
  }
  ScalarNode& in0 = *a_;
  ScalarNode& in1 = b_ ? *b_ : in0;  // only read by binary ops
  switch (op_) {
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
    case ScalarOp::Leaf:
    case ScalarOp::WeightedSum:
    case ScalarOp::ReluWeightedSum:
    case ScalarOp::Custom:
      return;  // handled above
  }
}

void ScalarNode::distribute_weighted_sum(double g) {
  const ScalarList& params = *params_;
  const ScalarList& xs = *xs_;
  params[0]->accumulate(g);
  for (std::size_t i = xs.size(); i-- > 0;) {  // last term first, as micrograd's sweep visits them
    ScalarNode& w = *params[i + 1];
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
// in one compare. That holds only when the neuron's parameters are all leaves: then every node
// reached while its inputs are visited descends from an item of the list, so (the graph being
// acyclic) cannot read the list itself, and every item is finished when the next reader comes. A
// non-leaf parameter, visited between items, could lead to another reader of the list too early.
// A node is reset for the pass when it is finished, which is before any gradient flows.
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
  // The order and the stack keep their capacity for this thread's next pass: a training loop's
  // passes are all the same size, and growing both from empty cost a few percent of a pass. They
  // are moved into locals for the pass, which the compiler knows no node write can change (used
  // in place, they were reloaded after every write and the pass got slower), and moved back at
  // the end, unless far larger than usual.
  thread_local std::vector<ScalarNode*> kept_order;
  thread_local std::vector<Frame> kept_stack;
  std::vector<ScalarNode*> order = std::move(kept_order);
  std::vector<Frame> stack = std::move(kept_stack);
  order.clear();
  stack.clear();
  auto enter = [&](ScalarNode* node) {
    node->visit_mark_ = stamp;
    std::size_t count = node->input_count();
    if (node->xs_ && node->params_->all_leaves()) {
      ScalarList& xs = *node->xs_;
      if (xs.visit_mark_ == stamp || xs.all_leaves()) count = 0;  // nothing left to visit
      xs.visit_mark_ = stamp;
    }
    // The loop below reads each input's mark and op one after the other; asking for all of their
    // cache lines first lets the loads overlap.
    for (std::size_t i = 0; i < count; ++i) prefetch_for_write(&node->input(i)->visit_mark_);
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
  constexpr std::size_t kKept = std::size_t{1} << 16;
  if (order.capacity() <= kKept && stack.capacity() <= kKept) {
    kept_order = std::move(order);
    kept_stack = std::move(stack);
  }
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
    case ScalarOp::Custom:
      return "";  // the binding shows the user's name, kept in the node's extras
  }
  return "?";
}

}  // namespace chaingrad
