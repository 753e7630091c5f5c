// Runs the optimizers' per-element updates (cpp/kernels/optim_rules.h) as the CUDA kernels call them
// (flags known at run time) on the CPU, compiled by nvcc, for three steps of fixed parameters and
// gradients, and prints the parameters; tests/test_cuda_host.py compares them bit for bit with the
// CPU optimizers (cpp/kernels/cpu/optim.cpp, the same rules with compile-time flags, compiled by the
// C++ compiler). nvcc, no GPU.
#include <cstdio>
#include <vector>

#include "kernels/optim_rules.h"

namespace opt = chaingrad::optim;

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

/// kSteps steps over one parameter: update(step, i, p, g, s0, s1, s2) applies a rule to element i.
template <class T, class Update>
std::vector<T> run(Update update) {
  std::vector<T> p = initial_params<T>(), g = gradients<T>();
  std::vector<T> s0(kN, T(0)), s1(kN, T(0)), s2(kN, T(0));
  for (int step = 1; step <= kSteps; ++step) {
    for (int i = 0; i < kN; ++i) update(step, i, p.data(), g.data(), s0.data(), s1.data(), s2.data());
  }
  return p;
}

struct SgdCase {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};
struct RmspropCase {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
};
struct AdamCase {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled, amsgrad, maximize;
};

template <class T>
void all_cases() {
  const SgdCase sgd_cases[] = {{0.1, 0.9, 0.1, 0.01, true, false}, {0.05, 0.0, 0.0, 0.0, false, true}};
  for (int k = 0; k < 2; ++k) {
    const SgdCase& o = sgd_cases[k];
    const auto c = opt::sgd_constants<T>(o.lr, o.momentum, o.dampening, o.weight_decay);
    print(k == 0 ? "sgd0" : "sgd1", run<T>([&](int step, int i, T* p, const T* g, T* s0, T*, T*) {
            const opt::SgdFlags f = opt::sgd_flags(o.momentum, o.weight_decay, o.nesterov, o.maximize, step == 1);
            opt::sgd_update(c, f, i, p, g, s0);
          }));
  }
  const RmspropCase rms_cases[] = {{0.01, 0.99, 1e-8, 0.01, 0.5, true, false},
                                   {0.01, 0.9, 1e-6, 0.0, 0.0, false, true}};
  for (int k = 0; k < 2; ++k) {
    const RmspropCase& o = rms_cases[k];
    const auto c = opt::rmsprop_constants<T>(o.lr, o.alpha, o.eps, o.weight_decay, o.momentum);
    const opt::RmspropFlags f = opt::rmsprop_flags(o.weight_decay, o.momentum, o.centered, o.maximize);
    print(k == 0 ? "rmsprop0" : "rmsprop1", run<T>([&](int, int i, T* p, const T* g, T* s0, T* s1, T* s2) {
            opt::rmsprop_update(c, f, i, p, g, s0, s1, s2);
          }));
  }
  const AdamCase adam_cases[] = {{0.001, 0.9, 0.999, 1e-8, 0.01, false, true, false},
                                 {0.01, 0.8, 0.99, 1e-8, 0.1, true, false, true}};
  for (int k = 0; k < 2; ++k) {
    const AdamCase& o = adam_cases[k];
    const auto base = opt::adam_constants<T>(o.lr, o.beta1, o.beta2, o.eps, o.weight_decay);
    const opt::AdamFlags f = opt::adam_flags(o.weight_decay, o.decoupled, o.amsgrad, o.maximize);
    print(k == 0 ? "adam0" : "adam1", run<T>([&](int step, int i, T* p, const T* g, T* s0, T* s1, T* s2) {
            // per step and parameter, as kernels/cuda/optim.cu: double on the host, T in the kernel
            const opt::AdamBiasCorrections bc = opt::adam_bias_corrections(o.beta1, o.beta2, step);
            const auto c = opt::with_bias_corrections(base, opt::adam_step_size(o.lr, bc), bc.second_sqrt);
            opt::adam_update(c, f, i, p, g, s0, s1, s2);
          }));
  }
}

}  // namespace

int main() {
  all_cases<float>();
  all_cases<double>();
  return 0;
}
