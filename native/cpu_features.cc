// Run-time choice of the micro-kernel from the CPU's features (never -march=native).
// EMB_BENCH_KERNEL=generic|avx2|avx512 forces one (an unsupported choice falls back);
// fp32 or bf16 forces the arithmetic (cpu/bf16_prepare.cc), bf16-portable the bf16 path without
// the AVX512_BF16 kernel (its first stage rounds to bf16 and runs the fp32 kernel).
#include <cstdlib>
#include <cstring>
#include <thread>

#include "engine.h"
#include "kernels.h"

namespace embbench {
namespace {

const Kernel& detect() {
  const char* forced = std::getenv("EMB_BENCH_KERNEL");
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  // (its rescoring is the AVX2 kernel's code with AVX-512VL's 32 registers)
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && avx2;
  if (forced && std::strcmp(forced, "generic") == 0) return kernel_generic();
  if (forced && std::strcmp(forced, "avx2") == 0 && avx2) return kernel_avx2();
  if (avx512 && !(forced && std::strcmp(forced, "avx2") == 0)) return kernel_avx512();
  if (avx2) return kernel_avx2();
#else
  (void)forced;
#endif
  return kernel_generic();
}

}  // namespace

const Kernel& select_kernel() {
  static const Kernel& k = detect();
  return k;
}

const Kernel* kernel_for(ScoreRequest::Isa isa) {
  using I = ScoreRequest::Isa;
  if (isa == I::Auto) return &select_kernel();
  if (isa == I::Generic) return &kernel_generic();
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && avx2;
  if (isa == I::Avx2 && avx2) return &kernel_avx2();
  if (isa == I::Avx512 && avx512) return &kernel_avx512();
#endif
  return nullptr;
}

const Kernel* select_bf16_kernel() {
#if defined(__x86_64__) || defined(_M_X64)
  static const Kernel* k = [] {
    __builtin_cpu_init();
    const char* forced = std::getenv("EMB_BENCH_KERNEL");
    const bool portable = forced && std::strcmp(forced, "bf16-portable") == 0;
    return !portable && __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw")
               ? &kernel_avx512bf16()
               : nullptr;
  }();
  return k;
#else
  return nullptr;
#endif
}

const char* cpu_kernel_name() { return select_kernel().name; }

std::vector<std::string> cpu_kernels() {
  using I = ScoreRequest::Isa;
  std::vector<std::string> out;
  for (I isa : {I::Generic, I::Avx2, I::Avx512})
    if (const Kernel* k = kernel_for(isa)) out.push_back(k->name);
  return out;
}

const char* cpu_bf16_kernel_name() {
  const Kernel* k = select_bf16_kernel();
  return k ? k->name : nullptr;
}

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace embbench
