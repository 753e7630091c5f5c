// Runs the CUDA optimizers' per-element updates (cpp/kernels/cuda/optim_rules.cuh) on the CPU for three
// steps of fixed parameters and gradients, and prints the parameters; tests/test_cuda_host.py
// compares them bit for bit with the CPU optimizers (cpp/kernels/cpu/optim.cpp). nvcc, no GPU.
#include <cmath>
#include <cstdio>
#include <vector>

#include "kernels/cuda/optim_rules.cuh"

namespace cg = chaingrad::cuda;

namespace {

constexpr int kN = 7, kSteps = 3;

template <class T>
std::vector<T> initial_params() {
  std::vector<T> p(kN);
  for (int i = 0; i < kN; ++i) p[i] = T((i - 3) * 0.25 + 0.125);
  return p;
}

template <class T>
std::vector<T> gradients() {
  std::vector<T> g(kN);
  for (int i = 0; i < kN; ++i) g[i] = T((i % 3 - 1) * 0.5 + i * 0.0625);
  return g;
}

template <class T>
void print(const char* name, const std::vector<T>& p) {
  std::printf("%s %s", name, sizeof(T) == 4 ? "float32" : "float64");
  for (T v : p) std::printf(" %.17g", static_cast<double>(v));
  std::printf("\n");
}

/// kSteps steps of update over one parameter: make_update(step) gives each step's update,
/// step_size(step) and bc2_sqrt(step) Adam's per-step constants.
template <class T, class MakeUpdate, class StepSize, class Bc2>
std::vector<T> run(MakeUpdate make_update, StepSize step_size, Bc2 bc2_sqrt) {
  std::vector<T> p = initial_params<T>(), g = gradients<T>();
  std::vector<T> s0(kN, T(0)), s1(kN, T(0)), s2(kN, T(0));
  for (int step = 1; step <= kSteps; ++step) {
    const cg::DeviceSlot slot{p.data(), g.data(), {s0.data(), s1.data(), s2.data()}, step_size(step), bc2_sqrt(step)};
    const auto update = make_update(step);
    for (int i = 0; i < kN; ++i) update(slot, i);
  }
  return p;
}

double zero(int) { return 0.0; }  // SGD and RMSprop have no per-step constants

template <class T>
void all_cases() {
  const cg::SgdOptions sgd_cases[] = {{0.1, 0.9, 0.1, 0.01, true, false, false}, {0.05, 0.0, 0.0, 0.0, false, true, false}};
  for (int c = 0; c < 2; ++c) {
    print(c == 0 ? "sgd0" : "sgd1", run<T>([&](int step) {
            cg::SgdOptions o = sgd_cases[c];
            o.first = step == 1;
            return cg::sgd_update<T>(o);
          }, zero, zero));
  }
  const cg::RmspropOptions rms_cases[] = {{0.01, 0.99, 1e-8, 0.01, 0.5, true, false},
                                          {0.01, 0.9, 1e-6, 0.0, 0.0, false, true}};
  for (int c = 0; c < 2; ++c) {
    print(c == 0 ? "rmsprop0" : "rmsprop1",
          run<T>([&](int) { return cg::rmsprop_update<T>(rms_cases[c]); }, zero, zero));
  }
  const cg::AdamOptions adam_cases[] = {{0.001, 0.9, 0.999, 1e-8, 0.01, false, true, false},
                                        {0.01, 0.8, 0.99, 1e-8, 0.1, true, false, true}};
  for (int c = 0; c < 2; ++c) {
    const cg::AdamOptions& o = adam_cases[c];
    print(c == 0 ? "adam0" : "adam1", run<T>(
        [&](int) { return cg::adam_update<T>(o); },
        [&](int step) {  // as kernels/cpu/optim.cpp computes the bias corrections
          cg::ParamSlot s;
          s.bias_correction1 = 1 - std::pow(o.beta1, step);
          return cg::adam_step_size(o, s);
        },
        [&](int step) { return std::sqrt(1 - std::pow(o.beta2, step)); }));
  }
}

}  // namespace

int main() {
  all_cases<float>();
  all_cases<double>();
  return 0;
}
