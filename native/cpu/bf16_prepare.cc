// The bf16 two-stage engine's choice and inputs: when it runs, its first stage's kernel and
// candidate count, the bf16 roundings and error terms of queries and corpus.
#include "bf16.h"

namespace embbench {
namespace cpu {

bool all_even(const std::vector<int>& dims) {
  return std::all_of(dims.begin(), dims.end(), [](int d) { return d % 2 == 0; });
}

// The bf16 first-stage kernel for this request: the CPU's (AVX512_BF16; every dim even), else null
// (the portable stage: bf16-rounded floats through the fp32 kernel).
const Kernel* bf16_kernel(const ScoreRequest& r) {
  return r.precision != ScoreRequest::Precision::Bf16Portable && all_even(r.dims) ? select_bf16_kernel() : nullptr;
}

// Stage 1 keeps k + k/2 + 16: on random 768-dim data at k = 100 about 121 of them are within the
// bound of the k-th score; the certification needs a few more.
int64_t first_stage_k(const ScoreRequest& r) {
  const int K = effective_k(r);
  return std::min<int64_t>(r.nc, int64_t(K) + K / 2 + 16);
}

Bf16Use bf16_use(const ScoreRequest& r) {
  if (r.precision == ScoreRequest::Precision::Bf16 || r.precision == ScoreRequest::Precision::Bf16Portable)
    return Bf16Use::Forced;
  if (r.precision == ScoreRequest::Precision::Fp32) return Bf16Use::No;
  const char* forced = std::getenv("EMB_BENCH_KERNEL");
  if (forced && std::strcmp(forced, "fp32") == 0) return Bf16Use::No;
  if (forced && (std::strcmp(forced, "bf16") == 0 || std::strcmp(forced, "bf16-portable") == 0)) return Bf16Use::Forced;
  const int64_t share = r.nq >= kAutoBf16ManyQueries ? kAutoBf16ManyQueriesShare : kAutoBf16Share;
  const bool large = r.nq >= kAutoBf16MinQueries &&
                     static_cast<double>(r.nq) * static_cast<double>(r.nc) >= kAutoBf16MinPairs &&
                     first_stage_k(r) * share <= r.nc;
  return bf16_kernel(r) != nullptr && large ? Bf16Use::Auto : Bf16Use::No;
}

// The request and outputs for queries [first, nq).
ScoreRequest queries_from(const ScoreRequest& r, int64_t first) {
  ScoreRequest t = r;
  t.queries = r.queries + first * r.dim;
  t.nq = r.nq - first;
  return t;
}

ScoreOutput rows_from(const ScoreOutput& o, int64_t first, int k) {
  ScoreOutput t = o;
  for (auto& p : t.indices) p += first * k;
  for (auto& p : t.scores) p += first * k;
  return t;
}

// Kernel::rescore for a kernel without one: each run of pairs that share their x, its y packed
// NR at a time as a panel and x as tile1's query row, with unit norms (so each score is the
// accumulator itself).
void rescore_packed(const Kernel& kern, const RescoreArgs& a) {
  const int NR = kern.nr;
  const int depth = a.bounds[a.nb - 1];
  AlignedBuffer panel = aligned_floats(static_cast<size_t>(depth) * NR);
  AlignedBuffer ones = aligned_floats(static_cast<size_t>(a.nb) * NR);
  AlignedBuffer scores = aligned_floats(static_cast<size_t>(a.nb) * NR);
  std::fill(ones.get(), ones.get() + static_cast<size_t>(a.nb) * NR, 1.0f);
  for (int t0 = 0; t0 < a.n;) {
    int valid = 1;
    while (valid < NR && t0 + valid < a.n && a.x[t0 + valid] == a.x[t0]) ++valid;
    for (int j = 0; j < NR; ++j)
      for (int k = 0; k < depth; ++k) panel[static_cast<size_t>(k) * NR + j] = j < valid ? a.y[t0 + j][k] : 0.0f;
    const float* rows[1] = {a.x[t0]};
    kern.tile1(TileArgs{rows, panel.get(), a.bounds, a.nb, ones.get(), ones.get(), 0, valid, scores.get()});
    for (int j = 0; j < valid; ++j)
      for (int b = 0; b < a.nb; ++b) a.out[(t0 + j) * a.nb + b] = scores[static_cast<size_t>(b) * NR + j];
    t0 += valid;
  }
}

// The corpus half of `in` (the same for every query range of a request); "" or why the bf16 path
// cannot run.
std::string prepare_bf16_corpus(const ScoreRequest& r, Bf16Inputs& in) {
  in.bounds = sorted_bounds(r);
  const int nb = static_cast<int>(in.bounds.size());
  const int max_dim = in.bounds.back();
  const Kernel* hw = in.hw = bf16_kernel(r);
  in.inv_c.resize(static_cast<size_t>(nb) * r.nc);
  in.c16 = aligned_floats(hw ? 0 : static_cast<size_t>(r.nc) * max_dim);
  in.rho_c.resize(static_cast<size_t>(nb) * r.nc);
  if (!round_rows(r.corpus, r.nc, r.dim, in.bounds, thread_count(r), hw ? nullptr : in.c16.get(), nullptr,
                  in.rho_c.data(), in.inv_c.data()))
    return "an embedding prefix is tiny (norm below 2^-30)";
  in.rho_c_max.assign(nb, 0.0);
  for (int64_t c = 0; c < r.nc; ++c)
    for (int b = 0; b < nb; ++b) in.rho_c_max[b] = std::max<double>(in.rho_c_max[b], in.rho_c[c * nb + b]);
  return "";
}

// The query half of `in`, for r's queries; "" or why the bf16 path cannot run.
std::string prepare_bf16_queries(const ScoreRequest& r, Bf16Inputs& in) {
  const int nb = static_cast<int>(in.bounds.size());
  const int max_dim = in.bounds.back();
  const Kernel* hw = in.hw;
  in.inv_q.resize(static_cast<size_t>(nb) * r.nq);
  in.q16 = aligned_floats(hw ? 0 : static_cast<size_t>(r.nq) * max_dim);
  in.qbits.resize(hw ? static_cast<size_t>(r.nq) * r.dim : 0);
  in.rho_q.resize(static_cast<size_t>(nb) * r.nq);
  if (!round_rows(r.queries, r.nq, r.dim, in.bounds, thread_count(r), hw ? nullptr : in.q16.get(),
                  hw ? in.qbits.data() : nullptr, in.rho_q.data(), in.inv_q.data()))
    return "an embedding prefix is tiny (norm below 2^-30)";
  in.stage1 = r;
  in.stage1.dims = in.bounds;
  if (hw) {
    in.stage1.queries = reinterpret_cast<const float*>(in.qbits.data());
  } else {
    in.stage1.queries = in.q16.get();
    in.stage1.corpus = in.c16.get();
    in.stage1.dim = max_dim;
  }
  return "";
}

// "" or why the candidates are too many for the two-stage engine to pay.
std::string too_many_candidates(const ScoreRequest& r) {
  const int64_t K1 = first_stage_k(r);
  if (static_cast<double>(K1) <= r.bf16_max_candidate_fraction * static_cast<double>(r.nc)) return "";
  return "the candidates (" + std::to_string(K1) + " per query) exceed " +
         std::to_string(r.bf16_max_candidate_fraction * 100) + "% of the corpus";
}

}  // namespace cpu
}  // namespace embbench
