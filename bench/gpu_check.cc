// GPU check (bench/gpu-check.sh): the CUDA engine against the CPU engine, then its speed.
// Plain C++ over engine.h, so it runs where Node.js is not installed.
//   1. random data, nq 1,000 x nc 20,000 x 768, five dims, k 100: same top-k as the CPU
//      engine except float near-ties;
//   2. the golden random-768 embeddings (argv[1], if given): same top-k lists as the CPU
//      engine, so the metrics (checked against sentence-transformers' by the test suite) match;
//   3. timing: nq 10,000 x nc 1,000,000 x 768, five dims, TFLOP/s against the fp32 peak.
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../native/engine.h"

using namespace embbench;

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

static std::vector<float> random_matrix(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

static bool read_npy(const std::string& path, std::vector<float>& data, int64_t& rows, int& cols) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  char magic[10];
  f.read(magic, 10);
  const uint16_t header_len = static_cast<uint8_t>(magic[8]) | (static_cast<uint8_t>(magic[9]) << 8);
  std::string header(header_len, ' ');
  f.read(&header[0], header_len);
  if (header.find("'<f4'") == std::string::npos) return false;
  const size_t s = header.find("'shape': (");
  if (sscanf(header.c_str() + s + 10, "%ld, %d", &rows, &cols) != 2) return false;
  data.resize(size_t(rows) * cols);
  f.read(reinterpret_cast<char*>(data.data()), data.size() * sizeof(float));
  return bool(f);
}

// Mismatched slots that are not explained by a near-tie, and the largest score difference.
static std::pair<long, float> compare(const ScoreRequest& r, const Result& cpu, const Result& gpu) {
  const int k = effective_k(r);
  long bad = 0;
  float worst = 0;
  for (size_t o = 0; o < r.dims.size(); ++o)
    for (int64_t i = 0; i < r.nq * k; ++i) {
      worst = std::max(worst, std::fabs(cpu.sc[o][i] - gpu.sc[o][i]));
      if (cpu.idx[o][i] == gpu.idx[o][i]) continue;
      const auto& s = cpu.sc[o];
      const bool near = (i % k > 0 && std::fabs(s[i] - s[i - 1]) < 1e-5f) || (i % k + 1 < k && std::fabs(s[i] - s[i + 1]) < 1e-5f);
      if (!near) ++bad;
    }
  return {bad, worst};
}

static bool check(const char* label, const ScoreRequest& r) {
  const size_t n = size_t(r.nq) * effective_k(r);
  Result cpu(r.dims.size(), n), gpu(r.dims.size(), n);
  EngineError e = score_cpu(r, cpu.out);
  if (e.ok()) e = score_cuda(r, gpu.out);
  if (!e.ok()) {
    printf("%s: FAIL %s %s\n", label, e.code.c_str(), e.message.c_str());
    return false;
  }
  auto [bad, worst] = compare(r, cpu, gpu);
  const bool pass = bad == 0 && worst < 1e-4f;
  printf("%s: %s (unexplained top-k differences %ld, max score difference %.2e)\n", label, pass ? "PASS" : "FAIL", bad, worst);
  return pass;
}

int main(int argc, char** argv) {
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
  printf("device: %s, %d SMs, fp32 peak %.1f TFLOP/s, CPU kernel %s\n", device.c_str(), prop.multiProcessorCount, peak / 1e12, cpu_kernel_name());

  const std::vector<int> dims = {768, 512, 256, 128, 64};
  bool ok = true;
  {
    auto q = random_matrix(size_t(1000) * 768, 1), c = random_matrix(size_t(20000) * 768, 2);
    ScoreRequest r{q.data(), 1000, c.data(), 20000, 768, dims, 100, 0};
    ok &= check("random 1000 x 20000 x 768", r);
    ScoreRequest tiny{q.data(), 7, c.data(), 50, 768, {768, 33, 5}, 100, 0};  // k > corpus, odd dims
    ok &= check("random 7 x 50, dims 768,33,5, k 100", tiny);
  }
  if (argc > 1) {
    std::vector<float> q, c;
    int64_t nq, nc;
    int dq, dc;
    const std::string dir = argv[1];
    if (read_npy(dir + "/query_embeddings.npy", q, nq, dq) && read_npy(dir + "/corpus_embeddings.npy", c, nc, dc) && dq == dc) {
      ScoreRequest r{q.data(), nq, c.data(), nc, dq, dims, 100, 0};
      ok &= check("golden random-768", r);
    } else {
      printf("golden random-768: cannot read %s\n", dir.c_str());
      ok = false;
    }
  }
  {
    const int64_t nq = 10000, nc = 1000000;
    auto q = random_matrix(size_t(nq) * 768, 3), c = random_matrix(size_t(nc) * 768, 4);
    ScoreRequest r{q.data(), nq, c.data(), nc, 768, dims, 100, 0};
    const size_t n = size_t(nq) * 100;
    Result gpu(dims.size(), n);
    ScoreRequest warm = r;
    warm.nq = 100;
    warm.nc = 8192;
    Result w(dims.size(), size_t(100) * 100);
    score_cuda(warm, w.out);
    const auto t0 = std::chrono::steady_clock::now();
    e = score_cuda(r, gpu.out);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!e.ok()) {
      printf("timing: FAIL %s\n", e.message.c_str());
      return 1;
    }
    const double flops = 2.0 * nq * nc * 768;
    printf("timing nq=%ld nc=%ld D=768 dims=768,512,256,128,64 k=100: %.3f s, %.1f TFLOP/s (2*nq*nc*768) = %.0f%% of fp32 peak\n", long(nq), long(nc), s,
           flops / s / 1e12, 100.0 * flops / s / peak);
  }
  printf("%s\n", ok ? "GPU CHECK PASSED" : "GPU CHECK FAILED");
  return ok ? 0 : 1;
}
