// The bf16 two-stage engine's shared parts (bf16_prepare.cc, two_stage.cc, bound_check.cc): the
// error bound of a pair, what the first stage reads, and when the engine runs.
#pragma once
#include <string>

#include "common.h"

namespace embbench {
namespace cpu {

// The bound above, with margins for the double arithmetic that computes it.
// PairErrorBound(d)(rq, rc); the terms that depend on d alone computed once.
struct PairErrorBound {
  static constexpr double u = 0x1p-24;
  double g32, g16;
  explicit PairErrorBound(int d) : g32(d * u / (1 - d * u)), g16(d * 2 * u / (1 - d * 2 * u)) {}
  double operator()(double rq, double rc) const {
    const double p = (1 + rq) * (1 + rc);
    const double e = (rq + rc + rq * rc) + g16 * p + g32 + (2 * u + u * u) * ((1 + g32) + p * (1 + g16));
    return e * (1 + u) * (1 + u) * (1 + 1e-9) + 0x1p-40;
  }
};

// What the bf16 first stage reads: for the AVX512_BF16 kernel, the queries' bf16 bits (the corpus
// is rounded as it is packed); for the portable stage, bf16-rounded float copies of both. Plus
// the inverse prefix norms (both stages scale by them) and each prefix's relative rounding error.
struct Bf16Inputs {
  const Kernel* hw = nullptr;
  std::vector<int> bounds;
  std::vector<float> inv_q, inv_c;
  AlignedBuffer q16, c16;
  std::vector<uint16_t> qbits;
  std::vector<float> rho_q, rho_c;  // [row * nb + bound], rounded up: 20 bytes a row at 5 dims
  std::vector<double> rho_c_max;    // [bound]: the largest over the corpus
  ScoreRequest stage1;              // the first stage's request: these inputs, dims = bounds
};

enum class Bf16Use { No, Forced, Auto };

// Whether this request takes the two-stage engine: forced by its precision (or EMB_BENCH_KERNEL),
// or chosen by the auto rule (tuning.h).
Bf16Use bf16_use(const ScoreRequest& r);
// The bf16 first-stage kernel for this request: the CPU's (AVX512_BF16; every dim even), else null.
const Kernel* bf16_kernel(const ScoreRequest& r);
// Stage 1 keeps k + k/2 + 16 candidates a (query, dim).
int64_t first_stage_k(const ScoreRequest& r);
// The request and outputs for queries [first, nq).
ScoreRequest queries_from(const ScoreRequest& r, int64_t first);
ScoreOutput rows_from(const ScoreOutput& o, int64_t first, int k);
// Kernel::rescore for a kernel without one.
void rescore_packed(const Kernel& kern, const RescoreArgs& a);
// The corpus half of `in` (the same for every query range of a request); "" or why the bf16 path cannot run.
std::string prepare_bf16_corpus(const ScoreRequest& r, Bf16Inputs& in);
// The query half of `in`, for r's queries; "" or why the bf16 path cannot run.
std::string prepare_bf16_queries(const ScoreRequest& r, Bf16Inputs& in);
// "" or why the candidates are too many for the two-stage engine to pay.
std::string too_many_candidates(const ScoreRequest& r);
// Runs the two stages into `out` (`in`: the corpus half prepared); "" on success, else why fp32 must run instead.
std::string score_two_stage(const ScoreRequest& r, const Kernel& kern, Bf16Inputs& in, const ScoreOutput& out,
                            ScoreStats& stats);

}  // namespace cpu
}  // namespace embbench
