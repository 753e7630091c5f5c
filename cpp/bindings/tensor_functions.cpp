// The tensor functions of chaingrad._core: factories, numpy interop, ops and autograd entry points.
#include "bindings/tensor_functions.h"

#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>

#include "bindings/dlpack.h"
#include "bindings/numpy.h"
#include "bindings/random.h"
#include "bindings/tensor_type.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cuda/backend.h"
#include "tensor/autograd.h"
#include "tensor/device.h"
#include "tensor/factories.h"
#include "tensor/ops.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

const char* dtype_rule_name(DTypeRule rule) {
  switch (rule) {
    case DTypeRule::Keep:
      return "keep";
    case DTypeRule::Float:
      return "float";
    case DTypeRule::FloatOnly:
      return "float_only";
    case DTypeRule::KeepNoBool:
      return "keep_no_bool";
    case DTypeRule::Compare:
      return "compare";
  }
  return "?";
}

using Dims = std::vector<std::int64_t>;

// --- argument helpers ------------------------------------------------------------------------

std::vector<TensorPtr> tensor_list(const py::sequence& seq, const char* what) {
  std::vector<TensorPtr> out;
  for (py::handle h : seq) out.push_back(require_tensor(h, what));
  return out;
}

/// A Python callable as a gradient hook. It runs with the GIL held: the sweep holds it between kernels.
GradHook python_hook(py::function fn) {
  return [fn = std::move(fn)](const TensorPtr& g) -> TensorPtr {
    py::object result = fn(wrap(g));
    if (result.is_none()) return TensorPtr();
    return require_tensor(result, "the value returned by a hook");
  };
}

/// Tensors or None (a null entry) from a Python sequence.
std::vector<TensorPtr> optional_tensor_list(const py::sequence& seq, const char* what) {
  std::vector<TensorPtr> out;
  for (py::handle h : seq) out.push_back(h.is_none() ? TensorPtr() : require_tensor(h, what));
  return out;
}

/// The chaingrad.cuda queries: they answer on a machine without CUDA too.
void bind_cuda(py::module_& m) {
  m.def("cuda_is_built", &cuda::is_built, "Whether the CUDA kernels were compiled in.");
  m.def("cuda_device_count", &cuda::device_count, "Usable CUDA devices (0 without driver or device).");
  m.def("cuda_unavailable_reason", &cuda::unavailable_reason, "Why no CUDA device can be used, or ''.");
  m.def("cuda_device_name", &cuda::device_name, "A device's name.");
  m.def(
      "cuda_synchronize",
      [](int index) {
        py::gil_scoped_release unlocked;
        cuda::synchronize(index);
      },
      "Waits for every kernel queued on the device.");
  m.def("cuda_stream_wait", &cuda::stream_wait, "Makes a foreign stream wait for chaingrad's queued kernels.");
  m.def("cuda_memory_allocated", &cuda::memory_allocated, "Bytes held by live tensors on the device.");
  m.def("cuda_max_memory_allocated", &cuda::max_memory_allocated, "The peak of cuda_memory_allocated.");
  m.def("cuda_empty_cache", &cuda::empty_cache, "Returns cached, unused device memory to the driver.");
  m.def("cuda_manual_seed", &cuda::manual_seed, "Seeds the generator of every CUDA device.");
  m.def("cuda_set_cublas_paths", &cuda::set_cublas_paths, "Where the first GPU matmul looks for cuBLAS.");
  m.def("cuda_cublas_status", &cuda::cublas_status, "'' when matmuls use cuBLAS, else why not.");
}

}  // namespace

void bind_tensors(py::module_& m) {
  add_tensor_type(m);

  m.def(
      "from_numpy",
      [](py::array a, const std::string& copy) {
        if (copy != "always" && copy != "if_needed" && copy != "never") {
          throw py::value_error("from_numpy: copy must be 'always', 'if_needed' or 'never', not '" + copy + "'");
        }
        const NumpyCopy mode = copy == "always"  ? NumpyCopy::Always
                               : copy == "never" ? NumpyCopy::Never
                                                 : NumpyCopy::IfNeeded;
        return wrap(from_numpy(std::move(a), mode));
      },
      py::arg("array"), py::arg("copy"), "A tensor over the array's memory, or over a copy as `copy` says.");
  m.def("to_numpy", [](py::handle t) { return to_numpy(arg(t)); }, "An ndarray over the tensor's memory.");
  m.def(
      "storage_view",
      [](py::handle t, const Shape& shape, const Shape& strides, std::int64_t offset) {
        return wrap(storage_view(arg(t), shape, strides, offset));
      },
      "A view of the tensor's storage, checked to stay inside it (no gradient).");
  m.def(
      "reinterpret_dtype",
      [](py::handle t, py::handle dtype) {
        const TensorPtr& x = arg(t);
        const DType d = dtype_from(dtype);
        if (itemsize(d) != itemsize(x->dtype())) {
          throw std::runtime_error(std::string("reinterpret_dtype: ") + dtype_name(x->dtype()) + " and " +
                                   dtype_name(d) + " differ in size");
        }
        return wrap(make_ref<TensorImpl>(x->storage(), d, x->shape(), x->strides(), x->offset()));
      },
      "The same memory read as another dtype of the same size (no gradient).");
  m.def(
      "to_dlpack", [](py::handle t, bool versioned, bool copied) { return to_dlpack(arg(t), versioned, copied); },
      py::arg("t"), py::arg("versioned") = false, py::arg("copied") = false,
      "A DLPack capsule over the tensor's memory (DLPack 1.0 'dltensor_versioned' when versioned).");
  m.def(
      "from_dlpack", [](const py::capsule& c) { return wrap(from_dlpack(c)); },
      "A tensor over a DLPack capsule's memory (CPU or CUDA).");
  m.def("full", [](const Shape& shape, double value, py::handle dtype, const std::string& device) {
    return wrap(full(shape, value, dtype_from(dtype), parse_device(device)));
  });
  m.def("empty", [](const Shape& shape, py::handle dtype, const std::string& device) {
    return wrap(empty(shape, dtype_from(dtype), parse_device(device)));
  });
  m.def("arange", [](double start, double end, double step, py::handle dtype, const std::string& device) {
    return wrap(to_device(arange(start, end, step, dtype_from(dtype)), parse_device(device)));
  });
  m.def("linspace", [](double start, double end, std::int64_t steps, py::handle dtype, const std::string& device) {
    return wrap(to_device(linspace(start, end, steps, dtype_from(dtype)), parse_device(device)));
  });
  m.def(
      "to_device",
      [](py::handle t, const std::string& device) { return wrap(to_device_op(arg(t), parse_device(device))); },
      "The tensor on another device (differentiable).");
  m.def("device", [](py::handle t) { return arg(t)->device().str(); }, "'cpu' or 'cuda:N'.");
  bind_cuda(m);
  bind_random(m);
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1)
          throw py::value_error("set_num_threads: expected a positive number of threads, got " + std::to_string(n));
        set_num_threads(n);
      },
      "Threads for the parallel kernels and the GEMMs.");
  m.def("get_num_threads", &get_num_threads, "Threads the parallel kernels and the GEMMs use.");
  m.def("set_grad_enabled", &set_grad_enabled, "Turns recording of autograd nodes on or off for this thread.");
  m.def("is_grad_enabled", &grad_enabled, "Whether ops record autograd nodes on this thread.");
  m.def(
      "backward",
      [](const py::sequence& tensors, const py::sequence& gradients, bool retain_graph, bool create_graph) {
        const std::vector<TensorPtr> roots = tensor_list(tensors, "tensors");
        std::vector<TensorPtr> seeds = optional_tensor_list(gradients, "grad_tensors");
        check_not_in_pass("backward()");
        std::unique_lock<std::mutex> one_pass(backward_mutex(), std::defer_lock);
        {
          py::gil_scoped_release unlocked;
          one_pass.lock();
        }
        backward(roots, std::move(seeds), retain_graph, create_graph);
      },
      "Backpropagates from each tensor with its gradient (None: ones for a one-element tensor).");
  m.def(
      "backward_tensor",
      [](py::handle t, py::handle gradient, bool retain_graph) {
        // Tensor.backward() without create_graph: the training loop's call, with no lists to convert
        const TensorPtr root = arg(t);
        std::vector<TensorPtr> seeds{gradient.is_none() ? TensorPtr() : require_tensor(gradient, "gradient")};
        check_not_in_pass("backward()");
        std::unique_lock<std::mutex> one_pass(backward_mutex(), std::defer_lock);
        {
          py::gil_scoped_release unlocked;
          one_pass.lock();
        }
        backward({root}, std::move(seeds), retain_graph, false);
      },
      "Backpropagates from one tensor with its gradient (None: ones for a one-element tensor).");
  m.def(
      "grad",
      [](const py::sequence& outputs, const py::sequence& grad_outputs, const py::sequence& inputs, bool retain_graph,
         bool create_graph, bool allow_unused) {
        const std::vector<TensorPtr> roots = tensor_list(outputs, "outputs");
        std::vector<TensorPtr> seeds = optional_tensor_list(grad_outputs, "grad_outputs");
        const std::vector<TensorPtr> wrt = tensor_list(inputs, "inputs");
        check_not_in_pass("autograd.grad()");
        std::unique_lock<std::mutex> one_pass(backward_mutex(), std::defer_lock);
        {
          py::gil_scoped_release unlocked;
          one_pass.lock();
        }
        std::vector<TensorPtr> grads = grad(roots, std::move(seeds), wrt, retain_graph, create_graph, allow_unused);
        py::tuple out(grads.size());
        for (std::size_t i = 0; i < grads.size(); ++i) out[i] = grads[i] ? wrap(grads[i]) : py::none();
        return out;
      },
      "The gradients of the outputs (weighted by grad_outputs) with respect to the inputs.");
  m.def(
      "register_hook",
      [](py::handle t, py::function fn) { return register_hook(arg(t), python_hook(std::move(fn)), false); },
      "Adds a gradient hook to the tensor (its grad_fn's when it is not a leaf); returns its id.");
  m.def(
      "retain_grad",
      [](py::handle t, py::function fn) {
        const TensorPtr self = arg(t);
        if (self->retains_grad) return;
        register_hook(self, python_hook(std::move(fn)), true);  // after every other hook, as PyTorch
        self->retains_grad = true;
      },
      "Adds retain_grad's hook (fn stores the gradient) once per tensor, to run after the other hooks.");
  m.def(
      "set_grad", [](py::handle t, py::handle g) { assign_grad(arg(t), require_tensor(g, "grad"), true); },
      "Sets t.grad to g keeping g's graph (x.grad = g keeps its data only).");
  m.def(
      "remove_hook", [](py::handle t, std::uint64_t id) { return remove_hook(arg(t), id); },
      "Removes a hook added by register_hook; False when it is gone already.");

  // The op table's rows, by Python name (see Note [op table]).
  m.def(
      "op_table",
      [] {
        py::list rows;
        auto add = [&](const OpInfo& info, int arity, bool fused) {
          rows.append(py::make_tuple(info.name, arity, dtype_rule_name(info.rule), info.grad_fn,
                                     arity == 1 ? info.extra : "", info.expose, fused));
        };
        for (int i = 0; i < kUnaryOpCount; ++i) add(kUnaryOps[i], 1, static_cast<UnaryOp>(i) == UnaryOp::Relu);
        for (int i = 0; i < kBinaryOpCount; ++i) add(kBinaryOps[i], 2, false);
        return rows;
      },
      "The elementwise ops: (name, arity, dtype rule, grad_fn, params, expose, has a fused gradient).");
  // Ops are named by their index in the table (position among the rows of their arity), which the
  // generated Python methods embed: no string to convert or compare per call (the tiny-op rows).
  m.def(
      "unary",
      [](py::handle t, int op, py::handle params) {
        if (op < 0 || op >= kUnaryOpCount) throw py::value_error("unknown unary op index " + std::to_string(op));
        OpParams p;
        if (!params.is_none()) {
          const auto values = params.cast<std::vector<double>>();
          if (values.size() > 2) {
            throw py::value_error(std::string(kUnaryOps[op].name) + ": at most 2 op parameters, got " +
                                  std::to_string(values.size()));
          }
          if (values.size() > 0) p.a = values[0];
          if (values.size() > 1) p.b = values[1];
        }
        return wrap(apply_unary(static_cast<UnaryOp>(op), arg(t), p));
      },
      py::arg("t"), py::arg("op"), py::arg("params") = py::none(),
      "The table's unary op number `op` (its index among the unary rows of op_table()) with its parameters.");
  m.def(
      "binary",
      [](py::handle a, py::handle b, int op) {
        if (op < 0 || op >= kBinaryOpCount) throw py::value_error("unknown binary op index " + std::to_string(op));
        return binary_operands(static_cast<BinaryOp>(op), a, b);
      },
      "The table's binary op number `op` (its index among the binary rows), with numbers or tensors as operands "
      "and PyTorch's promotion.");
  m.def("maximum", [](py::handle a, py::handle b) {
    TensorPtr x = arg(a), y = arg(b);
    return wrap(arith(BinaryOp::Maximum, x, y, tensor_result_type(x, y)));
  });
  m.def("minimum", [](py::handle a, py::handle b) {
    TensorPtr x = arg(a), y = arg(b);
    return wrap(arith(BinaryOp::Minimum, x, y, tensor_result_type(x, y)));
  });
  m.def("pow", [](py::handle a, py::handle b) {
    TensorPtr x = arg(a), y = arg(b);
    return wrap(arith(BinaryOp::Pow, x, y, tensor_result_type(x, y)));
  });
  m.def("clamp", [](py::handle t, std::optional<double> lo, std::optional<double> hi) {
    return wrap(clamp_op(arg(t), lo, hi));
  });
  m.def("where", [](py::handle c, py::handle a, py::handle b) {
    TensorPtr x = arg(a), y = arg(b);
    return wrap(where_op(arg(c), x, y, tensor_result_type(x, y)));
  });
  m.def("to_dtype",
        [](py::handle t, py::handle dtype, bool copy) { return wrap(to_dtype(arg(t), dtype_from(dtype), copy)); });

  m.def("sum", [](py::handle t, const Dims& dims, bool keepdim) { return wrap(sum_op(arg(t), dims, keepdim)); });
  m.def("mean", [](py::handle t, const Dims& dims, bool keepdim) { return wrap(mean_op(arg(t), dims, keepdim)); });
  m.def("max_dim", [](py::handle t, std::int64_t dim, bool keepdim, bool smallest) {
    auto [values, indices] = max_dim_op(arg(t), dim, keepdim, smallest);
    return py::make_tuple(wrap(values), wrap(indices));
  });
  m.def("max_all", [](py::handle t, bool smallest) { return wrap(max_all_op(arg(t), smallest)); });
  m.def(
      "amax",
      [](py::handle t, const std::vector<std::int64_t>& dims, bool keepdim, bool smallest) {
        return wrap(amax_op(arg(t), dims, keepdim, smallest));
      },
      "The largest (smallest) element over dims, ties sharing the gradient.");
  m.def("argmax", [](py::handle t, std::optional<std::int64_t> dim, bool keepdim, bool smallest) {
    TensorPtr x = arg(t);
    if (!dim) return wrap(argmax_all(x, smallest));
    return wrap(max_along(x, *dim, keepdim, smallest).second);
  });
  m.def("norm",
        [](py::handle t, double p, const Dims& dims, bool keepdim) { return wrap(norm_op(arg(t), p, dims, keepdim)); });
  m.def("var", [](py::handle t, const Dims& dims, double correction, bool keepdim, bool take_sqrt) {
    return wrap(var_op(arg(t), dims, correction, keepdim, take_sqrt));
  });
  m.def("softmax", [](py::handle t, std::int64_t dim, bool log) { return wrap(softmax_op(arg(t), dim, log)); });
  m.def(
      "cross_entropy",
      [](py::handle x, py::handle target, const std::string& reduction) {
        const LossReduction r = reduction == "none"   ? LossReduction::None
                                : reduction == "mean" ? LossReduction::Mean
                                : reduction == "sum"  ? LossReduction::Sum
                                                      : throw std::invalid_argument(
                                                            "cross_entropy: reduction must be "
                                                            "'mean', 'sum' or 'none', got '" +
                                                            reduction + "'");
        return wrap(cross_entropy_op(contiguous_op(arg(x)), contiguous(require_tensor(target, "target")), r));
      },
      "Softmax cross-entropy of CPU logits (N, C) against int64 class indices (N,), fused.");
  m.def(
      "linear",
      [](py::handle x, py::handle w, py::handle b) {
        return wrap(linear_op(arg(x), arg(w), b.is_none() ? TensorPtr() : require_tensor(b, "bias")));
      },
      "x @ weight.T + bias as one GEMM (nn.Linear).");
  m.def(
      "mse_loss",
      [](py::handle input, py::handle target, int reduction) {
        if (reduction < 0 || reduction > 2) throw std::invalid_argument("mse_loss: reduction must be 0, 1 or 2");
        return wrap(mse_loss_op(arg(input), arg(target), static_cast<Reduction>(reduction)));
      },
      "(input - target)^2 reduced (0 none, 1 mean, 2 sum) as one op (nn.functional.mse_loss).");
  m.def("matmul", [](py::handle a, py::handle b) { return wrap(matmul_op(arg(a), arg(b))); });

  m.def("reshape",
        [](py::handle t, const Shape& shape, bool must_view) { return wrap(reshape_op(arg(t), shape, must_view)); });
  m.def("flatten", [](py::handle t, std::int64_t start_dim, std::int64_t end_dim) {
    return wrap(flatten_op(arg(t), start_dim, end_dim));
  });
  m.def("permute", [](py::handle t, const Dims& dims) { return wrap(permute_op(arg(t), dims)); });
  m.def("transpose", [](py::handle t, std::int64_t a, std::int64_t b) { return wrap(transpose_op(arg(t), a, b)); });
  m.def("unsqueeze", [](py::handle t, std::int64_t dim) { return wrap(unsqueeze_op(arg(t), dim)); });
  m.def("squeeze", [](py::handle t, std::optional<Dims> dims) { return wrap(squeeze_op(arg(t), dims)); });
  m.def("expand", [](py::handle t, const Shape& sizes) { return wrap(expand_op(arg(t), sizes)); });
  m.def("contiguous", [](py::handle t) { return wrap(contiguous_op(arg(t))); });
  m.def("clone", [](py::handle t) { return wrap(clone_op(arg(t))); });
  m.def("cat", [](const py::sequence& ts, std::int64_t dim) { return wrap(cat_op(tensor_list(ts, "tensors"), dim)); });
  m.def("stack",
        [](const py::sequence& ts, std::int64_t dim) { return wrap(stack_op(tensor_list(ts, "tensors"), dim)); });
  m.def("is_contiguous", [](py::handle t) { return arg(t)->is_contiguous(); });
  m.def("strides", [](py::handle t) { return arg(t)->strides(); });
  m.def("storage_offset", [](py::handle t) { return arg(t)->offset(); });
  m.def("fill_", [](py::handle t, double value) {
    TensorPtr x = arg(t);
    check_in_place(x, false, "fill_");
    check_untracked_write(x, "fill_");
    fill(x, value);
    x->storage()->bump_version();
  });
  m.def("copy_", [](py::handle t, py::handle src) {
    TensorPtr x = arg(t), s = require_tensor(src, "src");
    assign_in_place(x, s, "copy_");
  });
  m.def(
      "as_subclass",
      [](py::handle t, py::handle cls, bool requires_grad) {
        return make_subclass(require_tensor(t, "data"), cls, requires_grad);
      },
      "A new tensor object of class cls sharing t's data, outside the graph (nn.Parameter).");
  m.def(
      "set_data", [](py::handle t, py::handle data) { replace_data(t, require_tensor(data, "data")); },
      "Makes the Python tensor t stand for data's storage, shape and dtype (t.data = ...).");
  m.def(
      "assign", [](py::handle t, py::handle value) { assign_in_place(arg(t), arg(value), "in-place op"); },
      "Writes value into t as an in-place op does (version bump, history rebased).");
}

}  // namespace chaingrad
