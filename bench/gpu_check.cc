// GPU check: the CUDA engine against the CPU engine, then its speed. Plain C++ over engine.h,
// so it runs where Node.js is not installed. Two builds of the same file:
//  - on a GPU host (bench/gpu-check.sh, CMake EMB_BENCH_GPU_CHECK): the real device;
//  - anywhere (CMake EMB_BENCH_CUDA_EMU, test/97.gpu.test.ts): the GPU engine's own source
//    run by the host emulation in native/cuda/emu, with smaller sizes and no timing.
// Checks, each against score_cpu on the same request:
//   1. random data (GPU: nq 1,000 x nc 20,000 x 768; emulated: 400 x 9,000 x 96), several dims;
//   2. edge cases: k larger than the corpus with odd dims, k at the engine's maximum, a zero
//      row, duplicated rows (exact ties), and the errors for k and for device memory;
//   3. the golden random-768 embeddings (argv[1], if given), whose metrics the test suite
//      checks against sentence-transformers';
//   4. (GPU only) timing of nq 10,000 x nc 1,000,000 x 768 at five dims against the fp32 peak,
//      against one dim, and against the CPU engine on a 1,000-query slice; then one profiled
//      run (EMB_BENCH_CUDA_PROFILE) that says how the time splits between host copies,
//      uploads, the product kernel and the top-k kernel.
// With --quick: checks 1 (emulated sizes) and 2 only, for compute-sanitizer's slow runs.
// Each check prints PASS or FAIL, the top-k slots that differ without a near-tie to explain
// them, and whether the answers are bitwise identical (they should be where the CPU kernel uses
// FMA: both accumulate each dot product in dimension order with fused multiply-adds).
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../native/engine.h"

using namespace embbench;

namespace {

#ifdef EMB_BENCH_CUDA_EMU
constexpr bool kEmulated = true;
#else
constexpr bool kEmulated = false;
#endif

struct Result {
  std::vector<std::vector<int32_t>> idx;
  std::vector<std::vector<float>> sc;
  ScoreOutput out;
  Result(size_t dims, size_t n) : idx(dims, std::vector<int32_t>(n)), sc(dims, std::vector<float>(n)) {
    for (size_t o = 0; o < dims; ++o) {
      out.indices.push_back(idx[o].data());
      out.scores.push_back(sc[o].data());
    }
  }
};

std::vector<float> random_matrix(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

bool read_npy(const std::string& path, std::vector<float>& data, int64_t& rows, int& cols) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  char magic[10];
  f.read(magic, 10);
  const uint16_t header_len = static_cast<uint8_t>(magic[8]) | (static_cast<uint8_t>(magic[9]) << 8);
  std::string header(header_len, ' ');
  f.read(&header[0], header_len);
  if (header.find("'<f4'") == std::string::npos) return false;
  const size_t s = header.find("'shape': (");
  if (s == std::string::npos || sscanf(header.c_str() + s + 10, "%ld, %d", &rows, &cols) != 2) return false;
  data.resize(size_t(rows) * cols);
  f.read(reinterpret_cast<char*>(data.data()), data.size() * sizeof(float));
  return bool(f);
}

struct Diff {
  long unexplained = 0;   // differing top-k slots with no near-tie beside them
  float worst = 0;        // largest score difference
  bool identical = true;  // same indices and bitwise the same scores
};

Diff compare(const ScoreRequest& r, const Result& cpu, const Result& gpu) {
  const int k = effective_k(r);
  Diff d;
  for (size_t o = 0; o < r.dims.size(); ++o)
    for (int64_t i = 0; i < r.nq * k; ++i) {
      d.worst = std::max(d.worst, std::fabs(cpu.sc[o][i] - gpu.sc[o][i]));
      if (std::memcmp(&cpu.sc[o][i], &gpu.sc[o][i], sizeof(float)) != 0) d.identical = false;
      if (cpu.idx[o][i] == gpu.idx[o][i]) continue;
      d.identical = false;
      const auto& s = cpu.sc[o];
      const bool near =
          (i % k > 0 && std::fabs(s[i] - s[i - 1]) < 1e-5f) || (i % k + 1 < k && std::fabs(s[i] - s[i + 1]) < 1e-5f);
      if (!near) ++d.unexplained;
    }
  return d;
}

int failures = 0;
bool all_identical = true;

void check(const std::string& label, const ScoreRequest& r) {
  const size_t n = size_t(r.nq) * effective_k(r);
  Result cpu(r.dims.size(), n), gpu(r.dims.size(), n);
  EngineError e = score_cpu(r, cpu.out);
  if (e.ok()) e = score_cuda(r, gpu.out);
  if (!e.ok()) {
    printf("%s: FAIL %s %s\n", label.c_str(), e.code.c_str(), e.message.c_str());
    ++failures;
    return;
  }
  const Diff d = compare(r, cpu, gpu);
  const bool pass = d.unexplained == 0 && d.worst < 1e-4f;
  failures += !pass;
  all_identical &= d.identical;
  printf("%s: %s (unexplained top-k differences %ld, max score difference %.2e, bitwise identical: %s)\n",
         label.c_str(), pass ? "PASS" : "FAIL", d.unexplained, d.worst, d.identical ? "yes" : "no");
}

void expect_error(const std::string& label, const ScoreRequest& r, const std::string& code) {
  Result gpu(r.dims.size(), size_t(r.nq) * effective_k(r));
  const EngineError e = score_cuda(r, gpu.out);
  const bool pass = e.code == code;
  failures += !pass;
  printf("%s: %s (%s: %s)\n", label.c_str(), pass ? "PASS" : "FAIL", e.ok() ? "no error" : e.code.c_str(),
         e.message.c_str());
}

double seconds_of(const ScoreRequest& r, EngineError (*engine)(const ScoreRequest&, const ScoreOutput&)) {
  Result res(r.dims.size(), size_t(r.nq) * effective_k(r));
  const auto t0 = std::chrono::steady_clock::now();
  const EngineError e = engine(r, res.out);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!e.ok()) {
    printf("timing: FAIL %s %s\n", e.code.c_str(), e.message.c_str());
    ++failures;
    return NAN;
  }
  return s;
}

void timing(double peak) {
  const int64_t nq = 10000, nc = 1000000;
  const int D = 768;
  const std::vector<int> dims = {768, 512, 256, 128, 64};
  auto q = random_matrix(size_t(nq) * D, 3), c = random_matrix(size_t(nc) * D, 4);
  ScoreRequest r{q.data(), nq, c.data(), nc, D, dims, 100, 0};
  ScoreRequest warm = r;
  warm.nq = 100;
  warm.nc = 8192;
  seconds_of(warm, score_cuda);
  const double five = seconds_of(r, score_cuda);
  ScoreRequest one_dim = r;
  one_dim.dims = {768};
  const double one = seconds_of(one_dim, score_cuda);
  const double flops = 2.0 * nq * nc * D;
  printf(
      "timing nq=%ld nc=%ld D=%d dims=768,512,256,128,64 k=100: %.3f s, %.1f TFLOP/s (2*nq*nc*768) = %.0f%% of fp32 "
      "peak\n",
      long(nq), long(nc), D, five, flops / five / 1e12, 100.0 * flops / five / peak);
  printf("timing same, dim 768 only: %.3f s (five dims cost %.2fx one)\n", one, five / one);
  ScoreRequest slice = r;
  slice.nq = 1000;
  const double gpu_slice = seconds_of(slice, score_cuda), cpu_slice = seconds_of(slice, score_cpu);
  printf("timing nq=1000 slice, five dims: GPU %.3f s, CPU engine (%s, %d threads) %.3f s: GPU %.1fx faster\n",
         gpu_slice, cpu_kernel_name(), default_threads(), cpu_slice, cpu_slice / gpu_slice);
  setenv("EMB_BENCH_CUDA_PROFILE", "1", 1);  // where the time goes (a wait after every step)
  seconds_of(r, score_cuda);
  unsetenv("EMB_BENCH_CUDA_PROFILE");
}

}  // namespace

int main(int argc, char** argv) {
  // --quick: small checks only (no golden, no timing), for compute-sanitizer in gpu-check.sh
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const char* golden = argc > 1 && !quick ? argv[1] : nullptr;
  std::string device;
  int count = 0;
  EngineError e = cuda_device_info(device, count);
  if (!e.ok()) {
    printf("no GPU: %s\n", e.message.c_str());
    return 1;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  const int fp32_per_sm = prop.major >= 9 || (prop.major == 8 && prop.minor != 0) ? 128 : 64;
  int clock_khz = 0;
  cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0);
  const double peak = 2.0 * prop.multiProcessorCount * fp32_per_sm * clock_khz * 1e3;
  printf("device: %s, %d SMs, fp32 peak %.1f TFLOP/s, CPU kernel %s\n", device.c_str(), prop.multiProcessorCount,
         kEmulated ? 0.0 : peak / 1e12, cpu_kernel_name());

  {
    const bool small = kEmulated || quick;
    const int64_t nq = small ? 400 : 1000, nc = small ? 9000 : 20000;
    const int D = small ? 96 : 768;
    const std::vector<int> dims = small ? std::vector<int>{96, 64, 17} : std::vector<int>{768, 512, 256, 128, 64};
    auto q = random_matrix(size_t(nq) * D, 1), c = random_matrix(size_t(nc) * D, 2);
    ScoreRequest r{q.data(), nq, c.data(), nc, D, dims, 50, 0};
    check("random " + std::to_string(nq) + " x " + std::to_string(nc) + " x " + std::to_string(D) + ", k 50", r);
  }
  {
    auto q = random_matrix(size_t(7) * 40, 5), c = random_matrix(size_t(6000) * 40, 6);
    ScoreRequest tiny{q.data(), 7, c.data(), 50, 40, {33, 40, 5}, 100, 0};
    check("k 100 > corpus 50, dims 33,40,5 (unsorted)", tiny);
    std::fill(q.begin(), q.begin() + 40, 0.0f);  // a zero query scores 0 against everything
    for (int j = 0; j < 40; ++j) c[size_t(4100) * 40 + j] = c[size_t(17) * 40 + j];  // exact tie across corpus blocks
    for (int j = 0; j < 40; ++j) c[size_t(30) * 40 + j] = c[size_t(17) * 40 + j];
    ScoreRequest big_k{q.data(), 3, c.data(), 6000, 40, {24, 8}, 4096, 0};
    check("k 4096 (the GPU maximum), dims 24,8 of 40, zero query, exact ties", big_k);
    ScoreRequest too_many = big_k;
    too_many.k = 4097;
    expect_error("k 4097: clear error", too_many, "ERR_INVALID_ARG");
#ifdef EMB_BENCH_CUDA_EMU
    setenv("EMB_EMU_MEMORY", "100000", 1);
    expect_error("device memory exhausted: ERR_OOM", big_k, "ERR_OOM");
    unsetenv("EMB_EMU_MEMORY");
    setenv("EMB_EMU_DEVICES", "0", 1);
    expect_error("no device: ERR_NO_DEVICE", big_k, "ERR_NO_DEVICE");
    unsetenv("EMB_EMU_DEVICES");
#endif
  }
  if (golden) {
    std::vector<float> q, c;
    int64_t nq, nc;
    int dq, dc;
    const std::string dir = golden;
    if (read_npy(dir + "/query_embeddings.npy", q, nq, dq) && read_npy(dir + "/corpus_embeddings.npy", c, nc, dc) &&
        dq == dc) {
      ScoreRequest r{q.data(), nq, c.data(), nc, dq, {768, 512, 256, 128, 64}, 100, 0};
      check("golden random-768, k 100", r);
    } else {
      printf("golden random-768: FAIL cannot read %s\n", dir.c_str());
      ++failures;
    }
  }
  printf("bitwise identical to the CPU engine in every check: %s\n", all_identical ? "yes" : "no");
  if (!kEmulated && !quick && failures == 0) timing(peak);
  printf("%s\n", failures == 0 ? "GPU CHECK PASSED" : "GPU CHECK FAILED");
  return failures == 0 ? 0 : 1;
}
