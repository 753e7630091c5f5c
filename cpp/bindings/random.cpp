#include "bindings/random.h"

#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "bindings/tensor_type.h"
#include "tensor/device.h"
#include "tensor/ops.h"
#include "tensor/random.h"

namespace py = pybind11;

namespace chaingrad {
namespace {

// An in-place fill: refused where autograd could not record it, and a new version for the
// tensors that saved self.
template <class Fill>
void fill_in_place(py::handle t, const char* op, Fill&& fill) {
  TensorPtr x = require_tensor(t, op);
  check_in_place(x, false, op);
  check_untracked_write(x, op);
  fill(x);
  x->storage()->bump_version();
}

}  // namespace

void bind_random(py::module_& m) {
  py::class_<Generator, std::shared_ptr<Generator>>(m, "GeneratorBase",
                                                    "A Mersenne Twister drawing PyTorch's CPU stream.")
      .def(py::init<>())
      .def("_manual_seed", &Generator::manual_seed, py::arg("seed"))
      .def("_seed", &Generator::seed)
      .def("_initial_seed", &Generator::initial_seed)
      .def("_state_bytes",
           [](const Generator& g) {
             const std::vector<std::uint8_t> b = g.get_state();
             return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
           })
      .def(
          "_set_state_bytes",
          [](Generator& g, const py::bytes& state) {
            const std::string b = state;
            g.set_state(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
          },
          py::arg("state"));

  m.def(
      "randn",
      [](const Shape& shape, py::handle dtype, const std::string& device, Generator& gen) {
        return wrap_tensor(random_tensor(shape, dtype_from(dtype), true, parse_device(device), gen));
      },
      py::arg("shape"), py::arg("dtype"), py::arg("device"), py::arg("generator"), "Standard normal samples.");
  m.def(
      "rand",
      [](const Shape& shape, py::handle dtype, const std::string& device, Generator& gen) {
        return wrap_tensor(random_tensor(shape, dtype_from(dtype), false, parse_device(device), gen));
      },
      py::arg("shape"), py::arg("dtype"), py::arg("device"), py::arg("generator"), "Uniform [0, 1) samples.");
  m.def(
      "randint",
      [](std::int64_t low, std::int64_t high, const Shape& shape, py::handle dtype, const std::string& device,
         Generator& gen) {
        return wrap_tensor(randint(low, high, shape, dtype_from(dtype), parse_device(device), gen));
      },
      py::arg("low"), py::arg("high"), py::arg("shape"), py::arg("dtype"), py::arg("device"), py::arg("generator"),
      "Integers uniform in [low, high).");
  m.def(
      "randperm",
      [](std::int64_t n, py::handle dtype, const std::string& device, Generator& gen) {
        return wrap_tensor(randperm(n, dtype_from(dtype), parse_device(device), gen));
      },
      py::arg("n"), py::arg("dtype"), py::arg("device"), py::arg("generator"), "A random permutation of 0..n-1.");
  m.def(
      "multinomial",
      [](py::handle probs, std::int64_t num_samples, bool replacement, Generator& gen) {
        return wrap_tensor(multinomial(require_tensor(probs, "input"), num_samples, replacement, gen));
      },
      py::arg("probs"), py::arg("num_samples"), py::arg("replacement"), py::arg("generator"),
      "Category indices drawn from each row of weights.");
  m.def(
      "dropout_noise",
      [](py::handle input, double p, Generator& gen) {
        return wrap_tensor(dropout_noise(require_tensor(input, "input"), p, gen));
      },
      py::arg("input"), py::arg("p"), py::arg("generator"),
      "dropout's mask: 0 or 1/(1-p), in input's dtype and layout.");
  m.def(
      "uniform_",
      [](py::handle t, double from, double to, Generator& gen) {
        fill_in_place(t, "uniform_", [&](const TensorPtr& x) { uniform_(x, from, to, gen); });
      },
      py::arg("t"), py::arg("low"), py::arg("high"), py::arg("generator"), "Fills with U(from, to).");
  m.def(
      "normal_",
      [](py::handle t, double mean, double std, Generator& gen) {
        fill_in_place(t, "normal_", [&](const TensorPtr& x) { normal_(x, mean, std, gen); });
      },
      py::arg("t"), py::arg("mean"), py::arg("std"), py::arg("generator"), "Fills with N(mean, std^2).");
  m.def(
      "random_",
      [](py::handle t, std::int64_t low, std::uint64_t range, Generator& gen) {
        fill_in_place(t, "random_", [&](const TensorPtr& x) { random_from_to_(x, low, range, gen); });
      },
      py::arg("t"), py::arg("low"), py::arg("range"), py::arg("generator"),
      "Fills with integers uniform in [low, low + range).");
  m.def(
      "exponential_",
      [](py::handle t, double lambd, Generator& gen) {
        fill_in_place(t, "exponential_", [&](const TensorPtr& x) { exponential_(x, lambd, gen); });
      },
      py::arg("t"), py::arg("lambd"), py::arg("generator"), "Fills with exponential samples of rate lambd.");
  m.def(
      "bernoulli_",
      [](py::handle t, double p, Generator& gen) {
        fill_in_place(t, "bernoulli_", [&](const TensorPtr& x) { bernoulli_(x, p, gen); });
      },
      py::arg("t"), py::arg("p"), py::arg("generator"), "Fills with 1 (probability p) or 0.");
  m.def(
      "bernoulli_tensor_",
      [](py::handle t, py::handle p, Generator& gen) {
        const TensorPtr probs = require_tensor(p, "p");
        fill_in_place(t, "bernoulli_", [&](const TensorPtr& x) { bernoulli_tensor_(x, probs, gen); });
      },
      py::arg("t"), py::arg("p"), py::arg("generator"), "Fills with 1 (probability p[i], p broadcast) or 0.");
}

}  // namespace chaingrad
