// The engine's input checks: shapes and options (validate), and every value finite with
// |x| <= kMaxMagnitude (common.h says why).
#include "common.h"

namespace embbench {

EngineError validate(const ScoreRequest& r) {
  if (!kernel_for(r.isa)) return {"ERR_INVALID_ARG", "kernel: this CPU cannot run the kernel asked for"};
  return cpu::check_request_shape(r.dim, r.nq, r.nc, r.k, r.dims, r.queries, r.corpus);
}

namespace cpu {

EngineError check_request_shape(int dim, int64_t nq, int64_t nc, int k, const std::vector<int>& dims,
                                const void* queries, const void* corpus) {
  auto bad = [](std::string m) { return EngineError{"ERR_INVALID_ARG", std::move(m)}; };
  if (dim <= 0) return bad("embedding width must be positive");
  if (nq < 0 || nc <= 0) return bad("need at least one corpus row and a query count >= 0");
  if (nc > INT32_MAX) return bad("corpus has more rows than 2^31 - 1");
  if (k <= 0) return bad("k must be positive");
  if (dims.empty()) return bad("dims must not be empty");
  if (nq > 0 && queries == nullptr) return bad("query data is missing");
  if (corpus == nullptr) return bad("corpus data is missing");
  std::vector<int> sorted = dims;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] < 1 || sorted[i] > dim)
      return bad("dim " + std::to_string(sorted[i]) + " is outside [1, " + std::to_string(dim) + "]");
    if (i > 0 && sorted[i] == sorted[i - 1]) return bad("dim " + std::to_string(sorted[i]) + " is listed twice");
  }
  return {};
}

// The first value of x[0, n x dim) that fails values_ok, named; none: ok. `what`: "query" or
// "corpus" (validate has checked that the data is there).
EngineError first_bad_value(const char* what, const float* x, int64_t n, int dim) {
  const int64_t total = n * dim;
  constexpr int64_t kBlock = 4096;
  for (int64_t lo = 0; lo < total; lo += kBlock) {
    if (values_ok(x + lo, std::min(total, lo + kBlock) - lo)) continue;
    int64_t i = lo;
    while (std::fabs(x[i]) <= kMaxMagnitude) ++i;
    return EngineError{"ERR_NON_FINITE", std::string(what) + " embeddings: row " + std::to_string(i / dim) +
                                             " has a value that is not finite or exceeds 1e15 in magnitude at column " +
                                             std::to_string(i % dim)};
  }
  return {};
}

}  // namespace cpu

EngineError validate_values(const ScoreRequest& r) {
  EngineError err = cpu::first_bad_value("query", r.queries, r.nq, r.dim);
  return err.ok() ? cpu::first_bad_value("corpus", r.corpus, r.nc, r.dim) : err;
}

}  // namespace embbench
