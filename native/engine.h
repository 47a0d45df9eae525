// emb-bench's scoring engine: exact cosine top-k at several Matryoshka dimensions in one pass.
// Plain C++: no Node types here (addon.cc is the only N-API file).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace embbench {

struct ScoreRequest {
  const float* queries = nullptr;  // [nq x dim], row-major
  int64_t nq = 0;
  const float* corpus = nullptr;  // [nc x dim], row-major
  int64_t nc = 0;
  int dim = 0;            // row stride (embedding width)
  std::vector<int> dims;  // Matryoshka prefixes to score, each in [1, dim], unique
  int k = 0;              // top-k per query; clamped to nc
  int threads = 0;        // 0: all cores
};

// Caller-owned outputs, one pair per entry of request.dims (same order), each [nq x kEff].
// Rows are sorted by score descending, ties by corpus index ascending.
struct ScoreOutput {
  std::vector<int32_t*> indices;
  std::vector<float*> scores;
};

// Error codes surface in JavaScript as error.code.
struct EngineError {
  std::string code;  // ERR_INVALID_ARG, ERR_NON_FINITE, ERR_OOM, ERR_CUDA, ERR_NO_DEVICE, ERR_NO_CUDA_BUILD
                     // (lib/errors.ts lists them all)
  std::string message;
  bool ok() const { return code.empty(); }
};

inline int effective_k(const ScoreRequest& r) { return static_cast<int>(r.k < r.nc ? r.k : r.nc); }

// Shapes and options (cheap; the addon calls it before queueing the work).
EngineError validate(const ScoreRequest& r);
// Every input value finite (one pass over the data; the engines call it off the JS thread).
EngineError validate_values(const ScoreRequest& r);
// 1/|x[:bound]| for every row and bound (0 for a zero prefix), into out[b * n + row];
// shared by the CPU and GPU engines.
void inverse_prefix_norms(const float* x, int64_t n, int dim, const std::vector<int>& bounds, int threads, float* out);
EngineError score_cpu(const ScoreRequest& r, const ScoreOutput& out);
// Name of the micro-kernel chosen from this CPU's features: "avx512", "avx2" or "generic".
const char* cpu_kernel_name();
int default_threads();

// GPU engine (native/cuda); compiled only when CUDA is found at build time.
bool cuda_compiled();
EngineError cuda_device_info(std::string& name, int& count);
EngineError score_cuda(const ScoreRequest& r, const ScoreOutput& out);

}  // namespace embbench
