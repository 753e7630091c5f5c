// The computation graph: reference-counted ownership (shared by scalar and tensor nodes), and the
// Node of tensor autograd with its inputs and gradient rule.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace chaingrad {

template <class T>
class Ref;

/// Base of every object owned through Ref: holds the reference count (see Note [graph refcounts]).
class RefCounted {
 protected:
  RefCounted() = default;
  ~RefCounted() = default;

 private:
  template <class T>
  friend class Ref;
  std::uint32_t use_count_ = 0;
};

/// A vertex of the computation graph: the op that produced it, its inputs in call order (never a
/// set: the order of gradient sums must not change between runs) and its gradient rule.
/// A node owns its inputs and never its consumers, so a graph is a DAG that is freed when the
/// last reference to its outputs goes. An input may be null: an operand the gradient does not
/// flow to (a tensor that does not require grad).
class Node : public RefCounted {
 public:
  Node() = default;
  explicit Node(std::vector<Ref<Node>> inputs);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node();

  /// The nodes this one was computed from, in the order the op received them.
  const std::vector<Ref<Node>>& inputs() const { return inputs_; }
  /// True for a node created by the user rather than by an op.
  bool is_leaf() const { return inputs_.empty(); }

  /// Prepares this node for a backward pass: a non-leaf forgets the gradient of an earlier pass.
  virtual void begin_backward() = 0;
  /// Adds this node's gradient, pushed through its local derivative, into its inputs' gradients.
  virtual void backward() = 0;

 private:
  friend std::vector<Node*> topological_order(Node& root);

  std::vector<Ref<Node>> inputs_;
  std::uint64_t visit_mark_ = 0;  // traversal stamp; see Note [visit marks] in core/engine.cpp
};

// Note [graph refcounts]
// Nodes (and tensors) are reference-counted intrusively and without atomic instructions. Every reference is
// taken or dropped while the Python GIL is held: ops are called from Python, and the backward
// sweep, which runs with the GIL released, walks raw pointers and never copies a Ref. A scalar
// training step takes and drops tens of thousands of references, so atomic counts
// (std::shared_ptr) would cost a large share of its time for no benefit. Code that handles Refs
// off the GIL must not share them across threads.

/// An owning pointer to a RefCounted object; the object is deleted when its last Ref goes.
template <class T>
class Ref {
 public:
  Ref() = default;
  Ref(std::nullptr_t) {}  // NOLINT: implicit, like a null smart pointer
  /// Takes a reference to node (which may already be referenced elsewhere).
  explicit Ref(T* node) : node_(node) { retain(); }
  Ref(const Ref& other) : node_(other.node_) { retain(); }
  Ref(Ref&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
  Ref(const Ref<U>& other) : node_(other.get()) {  // NOLINT: implicit upcast
    retain();
  }
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
  Ref(Ref<U>&& other) noexcept : node_(other.release()) {}  // NOLINT: implicit upcast
  ~Ref() { drop(); }

  Ref& operator=(Ref other) noexcept {
    std::swap(node_, other.node_);
    return *this;
  }

  T* get() const { return node_; }
  T& operator*() const { return *node_; }
  T* operator->() const { return node_; }
  explicit operator bool() const { return node_ != nullptr; }
  /// How many Refs share the node (0 for a null Ref).
  std::uint32_t use_count() const { return node_ ? node_->use_count_ : 0; }
  void reset() {
    drop();
    node_ = nullptr;
  }
  /// Gives up ownership without dropping the count: the caller must wrap it in a Ref again.
  T* release() { return std::exchange(node_, nullptr); }
  /// Drops this reference, but hands the object to the caller instead of deleting it when this
  /// was the last one, so that a teardown can free a deep graph in a loop (Note [iterative teardown]).
  std::unique_ptr<T> release_if_last() {
    T* node = std::exchange(node_, nullptr);
    if (node != nullptr && --node->use_count_ == 0) return std::unique_ptr<T>(node);
    return nullptr;
  }

 private:
  void retain() {
    if (node_) ++node_->use_count_;
  }
  void drop() {
    if (node_ && --node_->use_count_ == 0) delete node_;  // virtual destructor: see ~Node
  }

  T* node_ = nullptr;
};

/// A new node of type T, owned by the returned Ref.
template <class T, class... Args>
Ref<T> make_ref(Args&&... args) {
  return Ref<T>(new T(std::forward<Args>(args)...));
}

/// The same node seen as its derived type (the caller knows the type).
template <class T, class U>
Ref<T> static_ref_cast(const Ref<U>& ref) {
  return Ref<T>(static_cast<T*>(ref.get()));
}

inline Node::Node(std::vector<Ref<Node>> inputs) : inputs_(std::move(inputs)) {}

using NodePtr = Ref<Node>;

}  // namespace chaingrad
