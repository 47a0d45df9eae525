// CPU engine: blocked prefix-dim product + per-(query, dim) top-k buffers, on a small thread pool.
// Memory beyond the inputs is O(nq x k x dims) (top-k buffers) plus O((nq + nc) x dims) (norms):
// the nq x nc score matrix never exists.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <thread>
#include <tuple>
#include <vector>

#include "engine.h"
#include "kernels.h"

namespace embbench {
namespace {

constexpr int kChunkPanels = 8;  // panels packed together; ~L2-sized at D = 768
constexpr int kMinQueriesPerTask = 48;
constexpr int kQueriesPerPack = 512;

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<float[], AlignedFree>;

AlignedBuffer aligned_floats(size_t n) {
  const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
  if (!p) throw std::bad_alloc();
  return AlignedBuffer(static_cast<float*>(p));
}

// Runs fn(i) for i in [0, n) on up to `threads` threads; the calling thread takes part.
// The first exception stops the remaining work and is rethrown once, after the join.
template <class Fn>
void parallel_for(int64_t n, int threads, Fn fn) {
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  auto worker = [&] {
    try {
      for (int64_t i; !failed.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < n;) fn(i);
    } catch (...) {
      if (!failed.exchange(true)) first_error = std::current_exception();
    }
  };
  const int extra = static_cast<int>(std::min<int64_t>(threads, n)) - 1;
  std::vector<std::thread> pool;
  pool.reserve(extra > 0 ? extra : 0);
  for (int t = 0; t < extra; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

// Ranking order: higher score first; equal scores, earlier corpus row first.
inline bool better(float s, int32_t i, float ts, int32_t ti) { return s > ts || (s == ts && i < ti); }

struct Hit {
  float score;
  int32_t index;
};

inline bool better_hit(const Hit& a, const Hit& b) { return better(a.score, a.index, b.score, b.index); }

// Top-k of a stream: candidates better than the threshold go into an unsorted buffer of
// 2k; when it fills, nth_element (in place) keeps the best k and the k-th becomes the
// threshold. O(1) amortised per candidate, no per-insert sifting.
struct Reservoir {
  Hit* hits;  // [2k]
  int32_t* n;
  Hit* threshold;  // worst kept hit once the buffer has been cut to k (else -inf)
  int k;

  bool passes(float score, int32_t c) const { return better(score, c, threshold->score, threshold->index); }

  void add(float score, int32_t c) const {
    hits[(*n)++] = Hit{score, c};
    if (*n == 2 * k) {
      std::nth_element(hits, hits + (k - 1), hits + *n, better_hit);
      *threshold = hits[k - 1];
      *n = k;
    }
  }
};

struct Plan {
  std::vector<int> bounds;        // sorted unique dims
  std::vector<int> out_of_bound;  // request.dims[i] -> index in bounds
  int k = 0;
  int64_t q_range = 0;  // queries per task
  int q_ranges = 0;
  int c_splits = 0;
  int threads = 1;
};

Plan make_plan(const ScoreRequest& r, const Kernel& kern) {
  Plan p;
  p.bounds = r.dims;
  std::sort(p.bounds.begin(), p.bounds.end());
  for (int d : r.dims)
    p.out_of_bound.push_back(
        static_cast<int>(std::lower_bound(p.bounds.begin(), p.bounds.end(), d) - p.bounds.begin()));
  p.k = effective_k(r);
  // More threads than cores only adds switching; a huge request must not spawn thousands.
  p.threads = r.threads > 0 ? std::min(r.threads, default_threads()) : default_threads();
  // Each query range packs the corpus once: ranges of kQueriesPerPack queries or more keep the
  // packing small beside the product. Then up to 4 ranges a thread, for balance.
  const int64_t per_thread = std::max<int64_t>(1, std::min<int64_t>(4, r.nq / (int64_t(kQueriesPerPack) * p.threads)));
  const int64_t target_tasks = per_thread * p.threads;
  const int64_t panels = (r.nc + kern.nr - 1) / kern.nr;
  // Query ranges of at least 48 (a range's rows stay in L2 while a packed corpus chunk passes);
  // measured better than giving every task all the queries over a corpus slice.
  const int64_t max_ranges = std::max<int64_t>(1, r.nq / kMinQueriesPerTask);
  p.q_ranges = static_cast<int>(std::min(target_tasks, max_ranges));
  p.q_range = (r.nq + p.q_ranges - 1) / p.q_ranges;
  p.q_range = ((p.q_range + kern.mr - 1) / kern.mr) * kern.mr;
  p.q_ranges = static_cast<int>((r.nq + p.q_range - 1) / p.q_range);
  // Few queries: split the corpus too, then merge the per-split top-k buffers.
  p.c_splits =
      static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((target_tasks + p.q_ranges - 1) / p.q_ranges, panels)));
  return p;
}

}  // namespace

// 1/|x[:bound]| for every row and bound, accumulated in double (0 for a zero prefix).
void inverse_prefix_norms(const float* x, int64_t n, int dim, const std::vector<int>& bounds, int threads,
                          float* out /* [nb x n] */) {
  const int nb = static_cast<int>(bounds.size());
  const int64_t block = 1024;
  parallel_for((n + block - 1) / block, threads, [&](int64_t blk) {
    const int64_t hi = std::min(n, (blk + 1) * block);
    for (int64_t r = blk * block; r < hi; ++r) {
      const float* row = x + r * dim;
      double ss = 0;
      int k = 0;
      for (int b = 0; b < nb; ++b) {
        for (; k < bounds[b]; ++k) ss += static_cast<double>(row[k]) * row[k];
        out[b * n + r] = ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.0f;
      }
    }
  });
}

EngineError validate(const ScoreRequest& r) {
  auto bad = [](std::string m) { return EngineError{"ERR_INVALID_ARG", std::move(m)}; };
  if (r.dim <= 0) return bad("embedding width must be positive");
  if (r.nq < 0 || r.nc <= 0) return bad("need at least one corpus row and a query count >= 0");
  if (r.nc > INT32_MAX) return bad("corpus has more rows than 2^31 - 1");
  if (r.k <= 0) return bad("k must be positive");
  if (r.dims.empty()) return bad("dims must not be empty");
  std::vector<int> sorted = r.dims;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] < 1 || sorted[i] > r.dim)
      return bad("dim " + std::to_string(sorted[i]) + " is outside [1, " + std::to_string(r.dim) + "]");
    if (i > 0 && sorted[i] == sorted[i - 1]) return bad("dim " + std::to_string(sorted[i]) + " is listed twice");
  }
  return {};
}

EngineError validate_values(const ScoreRequest& r) {
  // A NaN score would break the ranking's total order (and the sorts that rely on it). NaN and
  // infinite inputs make NaN scores, and so do finite ones whose squares overflow float32 in a
  // norm: refuse them all here, for every caller. |x| <= kMaxMagnitude keeps a sum of 2^31
  // squares below FLT_MAX. (lib/score/engine.ts applies the same rule.)
  constexpr float kMaxMagnitude = 1e15f;
  for (const auto& [what, x, n] : {std::tuple{"query", r.queries, r.nq}, std::tuple{"corpus", r.corpus, r.nc}}) {
    if (n > 0 && x == nullptr) return EngineError{"ERR_INVALID_ARG", std::string(what) + " data is missing"};
    const int64_t total = n * r.dim;
    for (int64_t i = 0; i < total; ++i)
      if (!(std::fabs(x[i]) <= kMaxMagnitude))
        return EngineError{"ERR_NON_FINITE",
                           std::string(what) + " embeddings: row " + std::to_string(i / r.dim) +
                               " has a value that is not finite or exceeds 1e15 in magnitude at column " +
                               std::to_string(i % r.dim)};
  }
  return {};
}

EngineError score_cpu(const ScoreRequest& r, const ScoreOutput& out) {
  EngineError err = validate(r);
  if (err.ok()) err = validate_values(r);
  if (!err.ok()) return err;
  if (out.indices.size() != r.dims.size() || out.scores.size() != r.dims.size())
    return {"ERR_INVALID_ARG", "one output pair per dim is required"};
  if (r.nq == 0) return {};
  try {
    const Kernel& kern = select_kernel();
    const Plan plan = make_plan(r, kern);
    const int nb = static_cast<int>(plan.bounds.size());
    const int K = plan.k, MR = kern.mr, NR = kern.nr;
    const int max_dim = plan.bounds.back();

    std::vector<float> inv_q(static_cast<size_t>(nb) * r.nq), inv_c(static_cast<size_t>(nb) * r.nc);
    inverse_prefix_norms(r.queries, r.nq, r.dim, plan.bounds, plan.threads, inv_q.data());
    inverse_prefix_norms(r.corpus, r.nc, r.dim, plan.bounds, plan.threads, inv_c.data());

    const size_t slots = static_cast<size_t>(r.nq) * nb * plan.c_splits;
    std::vector<Hit> res_hits(slots * 2 * K);
    std::vector<int32_t> res_n(slots, 0);
    std::vector<Hit> res_thr(slots, Hit{-std::numeric_limits<float>::infinity(), std::numeric_limits<int32_t>::max()});
    auto reservoir = [&](int split, int64_t q, int b) {
      const size_t slot = (static_cast<size_t>(split) * r.nq + q) * nb + b;
      return Reservoir{&res_hits[slot * 2 * K], &res_n[slot], &res_thr[slot], K};
    };

    const int64_t panels_total = (r.nc + NR - 1) / NR;
    const int64_t tasks = static_cast<int64_t>(plan.q_ranges) * plan.c_splits;
    parallel_for(tasks, plan.threads, [&](int64_t task) {
      const int split = static_cast<int>(task % plan.c_splits);
      const int64_t q_lo = (task / plan.c_splits) * plan.q_range;
      const int64_t q_hi = std::min(r.nq, q_lo + plan.q_range);
      const int64_t p_lo = panels_total * split / plan.c_splits;
      const int64_t p_hi = panels_total * (split + 1) / plan.c_splits;

      AlignedBuffer panel = aligned_floats(static_cast<size_t>(kChunkPanels) * max_dim * NR);
      AlignedBuffer panel_inv = aligned_floats(static_cast<size_t>(kChunkPanels) * nb * NR);
      AlignedBuffer scores = aligned_floats(static_cast<size_t>(nb) * MR * NR);
      std::vector<float> row_max(static_cast<size_t>(nb) * MR), tile_inv_q(static_cast<size_t>(nb) * MR);
      std::vector<const float*> rows(MR);

      for (int64_t chunk = p_lo; chunk < p_hi; chunk += kChunkPanels) {
        const int n_panels = static_cast<int>(std::min<int64_t>(kChunkPanels, p_hi - chunk));
        for (int p = 0; p < n_panels; ++p) {  // pack: panel[k * NR + j] = corpus[c0 + j][k]
          const int64_t c0 = (chunk + p) * NR;
          const int valid = static_cast<int>(std::min<int64_t>(NR, r.nc - c0));
          float* dst = panel.get() + static_cast<size_t>(p) * max_dim * NR;
          float* inv = panel_inv.get() + static_cast<size_t>(p) * nb * NR;
          for (int j = 0; j < NR; ++j) {
            if (j < valid) {
              const float* src = r.corpus + (c0 + j) * r.dim;
              for (int k = 0; k < max_dim; ++k) dst[static_cast<size_t>(k) * NR + j] = src[k];
              for (int b = 0; b < nb; ++b) inv[b * NR + j] = inv_c[b * r.nc + c0 + j];
            } else {
              for (int k = 0; k < max_dim; ++k) dst[static_cast<size_t>(k) * NR + j] = 0.0f;
              for (int b = 0; b < nb; ++b) inv[b * NR + j] = 0.0f;
            }
          }
        }
        for (int64_t q0 = q_lo; q0 < q_hi; q0 += MR) {
          const int mr = static_cast<int>(std::min<int64_t>(MR, q_hi - q0));
          for (int i = 0; i < MR; ++i) {
            const int64_t q = q0 + std::min(i, mr - 1);
            rows[i] = r.queries + q * r.dim;
            for (int b = 0; b < nb; ++b) tile_inv_q[b * MR + i] = inv_q[b * r.nq + q];
          }
          for (int p = 0; p < n_panels; ++p) {
            const int64_t c0 = (chunk + p) * NR;
            const int valid = static_cast<int>(std::min<int64_t>(NR, r.nc - c0));
            const TileArgs args{rows.data(),        panel.get() + static_cast<size_t>(p) * max_dim * NR,
                                plan.bounds.data(), nb,
                                tile_inv_q.data(),  panel_inv.get() + static_cast<size_t>(p) * nb * NR,
                                scores.get(),       row_max.data()};
            kern.tile(args);
            for (int b = 0; b < nb; ++b) {
              for (int i = 0; i < mr; ++i) {
                const Reservoir res = reservoir(split, q0 + i, b);
                if (row_max[b * MR + i] < res.threshold->score) continue;
                const float* s = scores.get() + static_cast<size_t>(b * MR + i) * NR;
                // Branch-free pre-filter, then only the (few) set bits take the exact test.
                const float t = res.threshold->score;
                uint64_t mask = 0;
                for (int j = 0; j < valid; ++j) mask |= static_cast<uint64_t>(s[j] >= t) << j;
                while (mask) {
                  const int j = __builtin_ctzll(mask);
                  mask &= mask - 1;
                  const int32_t c = static_cast<int32_t>(c0 + j);
                  if (res.passes(s[j], c)) res.add(s[j], c);
                }
              }
            }
          }
        }
      }
    });

    // Merge the splits' buffers and write each (query, dim) row best first.
    parallel_for(r.nq, plan.threads, [&](int64_t q) {
      std::vector<Hit> hits;
      for (size_t o = 0; o < r.dims.size(); ++o) {
        const int b = plan.out_of_bound[o];
        hits.clear();
        for (int split = 0; split < plan.c_splits; ++split) {
          const Reservoir res = reservoir(split, q, b);
          hits.insert(hits.end(), res.hits, res.hits + *res.n);
        }
        std::partial_sort(hits.begin(), hits.begin() + K, hits.end(), better_hit);
        float* s_out = out.scores[o] + q * K;
        int32_t* i_out = out.indices[o] + q * K;
        for (int j = 0; j < K; ++j) {
          s_out[j] = hits[j].score;
          i_out[j] = hits[j].index;
        }
      }
    });
  } catch (const std::bad_alloc&) {
    return {"ERR_OOM", "out of memory while scoring"};
  }
  return {};
}

}  // namespace embbench
