// This host's fused multiply-add peak in float32 (`npm run bench -- exact` compiles and runs it):
// 16 independent accumulator chains per thread (enough to hide the FMA latency), the widest
// vector the compile flags allow. Prints GFLOP/s for the given thread count, best of 3.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#if defined(__AVX512F__)
constexpr int kWidth = 16;
#else
constexpr int kWidth = 8;
#endif
// A vector of kWidth floats; a * b + c compiles to one vfmadd (GCC contracts by default in gnu++).
typedef float reg __attribute__((vector_size(kWidth * sizeof(float))));

float chains(long iterations) {
  reg acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = reg{} + (1.0f + i * 1e-7f);
  const reg m = reg{} + 0.9999999f, c = reg{} + 1e-7f;
  for (long t = 0; t < iterations; ++t) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = acc[i] * m + c;
  }
  float s = 0;
  for (int i = 0; i < 16; ++i) s += acc[i][0];
  return s;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const long iterations = 20000000;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::thread> pool;
    std::vector<float> sink(threads);
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { sink[t] = chains(iterations); });
    for (auto& t : pool) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double gflops = 2.0 * kWidth * 16 * iterations * threads / s / 1e9;
    if (gflops > best) best = gflops;
    if (sink[0] == 12345.0f) std::printf("%f\n", sink[0]);  // keeps the chains live
  }
  std::printf("{\"gflops\": %.1f, \"width\": %d}\n", best, kWidth);
}
