// CPU engine: blocked prefix-dim product + per-(query, dim) top-k buffers, on a small thread pool.
// Memory beyond the inputs is O(nq x k x dims) (top-k buffers) plus O((nq + nc) x dims) (norms)
// and, for the bf16 two-stage engine, O(nc) a thread (its candidate unions): the nq x nc score
// matrix never exists.
// The entry of the CPU engine: checks, the choice between the fp32 pass and the bf16 two-stage
// engine (with auto's pilot), and fp32 for what bf16 leaves. The parts are in native/cpu/.
#include "cpu/bf16.h"

namespace embbench {

using namespace cpu;

EngineError score_cpu(const ScoreRequest& r, const ScoreOutput& out) {
  EngineError err = validate(r);
  // The queries' values here; the corpus's as its norms are summed (round_rows), before any
  // product, or here when there is nothing to score.
  if (err.ok()) err = r.nq == 0 ? validate_values(r) : first_bad_value("query", r.queries, r.nq, r.dim);
  if (!err.ok()) return err;
  if (out.indices.size() != r.dims.size() || out.scores.size() != r.dims.size())
    return {"ERR_INVALID_ARG", "one output pair per dim is required"};
  const Kernel& kern = *kernel_for(r.isa);
  ScoreStats local;
  ScoreStats& stats = out.stats ? *out.stats : local;
  stats.engine = std::string("cpu-") + kern.name;
  if (r.nq == 0) return {};
  try {
    const Bf16Use use = bf16_use(r);
    const int K = effective_k(r);
    int64_t done = 0;  // queries answered by the two-stage engine
    Bf16Inputs in;     // its corpus half, prepared once for every query range (and fp32's norms)
    bool prepared = false;
    if (use != Bf16Use::No) {
      stats.fallback = too_many_candidates(r);
      if (stats.fallback.empty()) stats.fallback = prepare_bf16_corpus(r, in);
      prepared = stats.fallback.empty();
      // Auto runs a pilot first: where bf16 cannot separate the scores (cosines crowded closer
      // than its resolution, as in strongly anisotropic embeddings) most queries would be scored
      // twice, so past one uncertified pilot query in ten fp32 takes the rest.
      const int64_t pilot = use == Bf16Use::Auto && r.nq > 2 * kPilotQueries ? kPilotQueries : r.nq;
      if (prepared) {
        ScoreRequest head = r;
        head.nq = pilot;
        stats.fallback = score_two_stage(head, kern, in, out, stats);
        if (stats.fallback.empty()) done = pilot;
      }
      if (done > 0 && done < r.nq) {
        if (stats.fallback_queries * 10 > pilot) {
          stats.fallback = "bf16 could not certify " + std::to_string(stats.fallback_queries) + " of the first " +
                           std::to_string(pilot) + " queries (scores closer than its resolution): fp32 for the rest";
        } else {
          ScoreStats tail;
          const std::string why = score_two_stage(queries_from(r, done), kern, in, rows_from(out, done, K), tail);
          if (why.empty()) {
            done = r.nq;
            stats.pairs += tail.pairs;
            stats.rescored += tail.rescored;
            stats.needed += tail.needed;
            stats.fallback_queries += tail.fallback_queries;
            stats.restarted_queries += tail.restarted_queries;
          } else {
            stats.fallback = why;
          }
        }
      }
      if (done == r.nq) return {};
      stats.engine = std::string("cpu-") + kern.name;
    }
    const ScoreRequest rest = queries_from(r, done);
    const std::vector<int> sorted = sorted_bounds(rest);
    const int threads = thread_count(rest);
    const size_t nb = sorted.size();
    std::vector<float> inv_q(nb * rest.nq);
    inverse_prefix_norms(rest.queries, rest.nq, rest.dim, sorted, threads, inv_q.data());
    if (!prepared) {  // else the bf16 preparation's, the same values
      in.inv_c.resize(nb * rest.nc);
      inverse_prefix_norms(rest.corpus, rest.nc, rest.dim, sorted, threads, in.inv_c.data());
    }
    topk_pass(rest, kern, K, inv_q.data(), in.inv_c.data(), rows_from(out, done, K),
              PassOptions{true, true, &stats.restarted_queries});
  } catch (const std::bad_alloc&) {
    return {"ERR_OOM", "out of memory while scoring"};
  } catch (const BadValue&) {
    return first_bad_value("corpus", r.corpus, r.nc, r.dim);
  }
  return {};
}

}  // namespace embbench
