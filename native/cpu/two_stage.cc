// ---- bf16 first stage, exact fp32 second stage ----
//
// Stage 1 scores bf16-rounded vectors (fp32 accumulation, the same kernel and norms) and keeps
// each (query, dim)'s top K1 > k. Stage 2 rescores those of the K1 that the bound cannot exclude
// (pruning, below) with the fp32 kernel's arithmetic per pair (Kernel::rescore: each score is the
// fp32 engine's bits), selects the top k in the same total order, and certifies that no row
// outside the K1 could have entered the fp32 top k.
//
// The bound. For one query q and corpus row c at prefix length d, let q~, c~ be the bf16
// roundings (denormals read as zero, as AVX512_BF16 reads them), rq = |q~ - q| / |q| and
// rc = |c~ - c| / |c| (measured per prefix in double, kept rounded up to float), D = |q| |c|, u = 2^-24. Then
//   |<q~,c~> - <q,c>| = |<q~-q, c> + <q, c~-c> + <q~-q, c~-c>| <= D (rq + rc + rq rc)
// (Cauchy-Schwarz). A dot product of d terms accumulated one term at a time in fp32, each
// addition rounded once with relative error at most v, is within g(v) sum|x_i y_i| of the exact
// one, g(v) = d v / (1 - d v), and sum|x_i y_i| <= |x| |y|. The fp32 engine rounds to nearest
// (v = u); for the bf16 stage v = 2u allows any faithful rounding of vdpbf16ps. With
// P = (1+rq)(1+rc) >= |q~| |c~| / D, g32 = g(u), g16 = g(2u):
//   |dot16 - dot32| <= D (rq + rc + rq rc + g16 P + g32),
//   |dot32| <= D (1 + g32),  |dot16| <= D P (1 + g16).
// Both stages scale by the same inverse norms, s = (dot * iq) * ic, two roundings each, and
// iq ic <= (1 + u)^2 (1 + 1e-13) / D (norms summed in double, rounded to float), so
//   |s16 - s32| <= (1+u)^2 (1+1e-13) [rq + rc + rq rc + g16 P + g32 + (2u+u^2)((1+g32) + P(1+g16))]
// plus underflow and flushed denormals, at most 2^-126 per operation: with every nonzero prefix
// norm at least 2^-30 (else this engine is not used, D >= 2^-60) and d <= 2^16, below 2^-40.
// Certification: L = the k-th best exact score among the K1 rescored rows is a lower bound on
// the true k-th score T. A row outside the K1 has s16 <= s16_K1 (the K1-th stage-1 score), so
// s32 <= s16_K1 + eps(rq, max rc). If s16_K1 + eps < L <= T it can neither be in the top k
// nor tie with its last member. Otherwise the query is scored again in fp32.
// Pruning: before any rescoring, L' = the k-th largest (s16 - eps) over the K1 is also a lower
// bound on T (those k rows score at least L' exactly), so a candidate with s16 + eps < L' cannot
// reach T: only the others are rescored (on random data about 143 of k + k/2 + 16 = 166 at k =
// 100, 16 of 31 at k = 10), and the k best of the K1 are among them. Where s16_K1 + eps(rq, max rc)
// < L' the list is certified already.

#include "bf16.h"

namespace embbench {
namespace cpu {

// Runs the two stages into `out` (`in`: the corpus half prepared); returns "" on success, else
// why fp32 must run instead.
std::string score_two_stage(const ScoreRequest& r, const Kernel& kern, Bf16Inputs& in, const ScoreOutput& out,
                            ScoreStats& stats) {
  const int K = effective_k(r);
  const int64_t K1 = first_stage_k(r);
  if (std::string why = prepare_bf16_queries(r, in); !why.empty()) return why;
  const std::vector<int>& bounds = in.bounds;
  const int nb = static_cast<int>(bounds.size());
  const int threads = thread_count(r);
  const Kernel* hw = in.hw;
  const std::vector<float>& inv_q = in.inv_q;
  const std::vector<float>& inv_c = in.inv_c;
  const std::vector<float>& rho_q = in.rho_q;
  const std::vector<float>& rho_c = in.rho_c;
  const std::vector<double>& rho_c_max = in.rho_c_max;

  // Stage 1: top K1 of the bf16 scores, per bound (in no particular order).
  const size_t rows1 = static_cast<size_t>(r.nq) * K1;
  std::vector<std::unique_ptr<int32_t[]>> idx1;  // (written whole by the first stage)
  std::vector<std::unique_ptr<float[]>> s1;
  ScoreOutput out1;
  for (int b = 0; b < nb; ++b) {
    idx1.push_back(unzeroed<int32_t>(rows1));
    s1.push_back(unzeroed<float>(rows1));
    out1.indices.push_back(idx1[b].get());
    out1.scores.push_back(s1[b].get());
  }
  topk_pass(in.stage1, hw ? *hw : kern, static_cast<int>(K1), inv_q.data(), inv_c.data(), out1,
            PassOptions{false, true, &stats.restarted_queries});
  in.q16.reset();
  in.qbits = {};

  // Stage 2, in blocks of queries: each query's candidates (the union of its bounds' lists), then
  // all the block's (query, row) pairs rescored kStage2Rows corpus rows at a time (those rows stay
  // in L2 while every query that kept one of them is scored against it), then each query selects
  // and certifies its top k.
  const std::vector<int> out_of_bound = bound_of_dim(r, bounds);
  std::vector<uint8_t> failed(r.nq, 0);
  std::atomic<int64_t> needed{0};
  const int64_t cap = nb * K1;  // one query's candidates, at most
  const int64_t block = std::max<int64_t>(1, std::min(kStage2Queries, kStage2Pairs / cap));
  const int64_t slots = std::min(block, r.nq) * cap;
  // uni: [query in block][cap], its candidates' rows; top: the last bound whose list holds each;
  // pos: [query][b * K1 + j], bound b's j-th candidate's place in uni (-1: not rescored). Each
  // entry that is read is written first.
  const auto uni = unzeroed<int32_t>(slots);
  const auto top = unzeroed<int8_t>(slots);
  const auto pos = unzeroed<int32_t>(slots);
  std::vector<uint8_t> certified(static_cast<size_t>(std::min(block, r.nq)) * nb);  // [query][b]: by L'
  std::atomic<int64_t> rescored{0};
  std::vector<int64_t> first(block + 1);  // the block's pairs: query i's are [first[i], first[i + 1])
  // The pairs by bucket: corpus rows [kStage2Rows * g, kStage2Rows * (g + 1)), then last bound
  // descending (so that each run of pairs with one last bound stops where it can).
  const int64_t row_groups = (r.nc + kStage2Rows - 1) / kStage2Rows;
  const int64_t buckets = row_groups * nb;
  std::vector<int64_t> bucket_first(buckets + 1);
  std::vector<int64_t> thread_fill(static_cast<size_t>(threads) * buckets);  // [thread][bucket]
  auto bucket_of = [&](int32_t row, int top_b) { return row / kStage2Rows * nb + (nb - 1 - top_b); };
  struct Pair {
    int32_t q;     // in the block
    int32_t row;   // corpus row
    int32_t slot;  // where its scores go (first[q] + its place in the query's union)
    int32_t top;   // its last bound
  };
  std::unique_ptr<Pair[]> by_bucket;  // (not zeroed: every entry is written)
  AlignedBuffer exact;                // [pair slot][bound] (the entries a query reads are written)
  // A query's union: each thread's place[row] is 1 + the row's place in uni while the row is in
  // the union of the query being built, else 0 (cleared after each query).
  std::vector<std::vector<int32_t>> place_of(threads);
  for (int64_t q0 = 0; q0 < r.nq; q0 += block) {
    const int64_t qn = std::min(block, r.nq - q0);
    parallel_for(threads, threads, [&](int64_t thread) {
      std::vector<int32_t>& place = place_of[thread];
      place.resize(r.nc);
      std::vector<double> eps(K1), low(K1);
      int64_t* hist = &thread_fill[thread * buckets];
      std::fill(hist, hist + buckets, 0);
      int64_t kept = 0;
      for (int64_t i = qn * thread / threads; i < qn * (thread + 1) / threads; ++i) {
        const int64_t q = q0 + i;
        int32_t n = 0;
        for (int b = 0; b < nb; ++b) {
          // Each candidate's exact score is within eps of its stage-1 score, so at least k rows
          // score at least L' = the k-th largest (s16 - eps), and the k-th exact score T >= L':
          // only the candidates with s16 + eps >= L' can be in the top k or tie its last (the
          // others are not rescored at this bound; the k best of the list are among those kept).
          // Where the list's last stage-1 score plus the bound stays below L', no row outside the
          // list can reach T: certified here; else the exact k-th score certifies below.
          const float* s16 = &s1[b][q * K1];
          const int32_t* rows = &idx1[b][q * K1];
          const double rq = rho_q[q * nb + b];
          const PairErrorBound bound(bounds[b]);
          double floor = -std::numeric_limits<double>::infinity();
          if (K1 > K) {
            for (int64_t j = 0; j < K1; ++j) {
              eps[j] = bound(rq, rho_c[static_cast<int64_t>(rows[j]) * nb + b]);
              low[j] = s16[j] - eps[j];
            }
            std::nth_element(low.begin(), low.begin() + (K - 1), low.end(), std::greater<double>());
            const double last = *std::min_element(s16, s16 + K1);
            floor = low[K - 1];
            certified[i * nb + b] = K1 == r.nc || last + bound(rq, rho_c_max[b]) < floor;
          } else {
            certified[i * nb + b] = K1 == r.nc;
          }
          for (int64_t j = 0; j < K1; ++j) {
            if (s16[j] + eps[j] < floor) {
              pos[i * cap + b * K1 + j] = -1;
              continue;
            }
            ++kept;
            const int32_t c = rows[j];
            const int32_t seen = place[c];
            uni[i * cap + n] = c;  // kept where the row is new (n < cap: fewer came before)
            const int32_t p = seen ? seen - 1 : n;
            n += seen == 0;
            place[c] = p + 1;
            pos[i * cap + b * K1 + j] = p;
            top[i * cap + p] = static_cast<int8_t>(b);  // bounds ascend: the last write is the largest
          }
        }
        first[i + 1] = n;
        for (int32_t t = 0; t < n; ++t) place[uni[i * cap + t]] = 0;
        for (int32_t t = 0; t < n; ++t) ++hist[bucket_of(uni[i * cap + t], top[i * cap + t])];
      }
      rescored += kept;
    });
    first[0] = 0;
    for (int64_t i = 0; i < qn; ++i) first[i + 1] += first[i];
    const int64_t pairs = first[qn];
    by_bucket.reset(new Pair[pairs]);
    exact = aligned_floats(static_cast<size_t>(pairs) * nb);
    // Each thread scatters its queries' pairs (the same ranges as above) from its own offsets.
    int64_t at = 0;
    for (int64_t g = 0; g < buckets; ++g) {
      bucket_first[g] = at;
      for (int t = 0; t < threads; ++t) {
        const int64_t count = thread_fill[t * buckets + g];
        thread_fill[t * buckets + g] = at;
        at += count;
      }
    }
    bucket_first[buckets] = at;
    parallel_for(threads, threads, [&](int64_t thread) {
      int64_t* fill = &thread_fill[thread * buckets];
      for (int64_t i = qn * thread / threads; i < qn * (thread + 1) / threads; ++i)
        for (int64_t t = 0; t < first[i + 1] - first[i]; ++t) {
          const int32_t row = uni[i * cap + t], top_b = top[i * cap + t];
          by_bucket[fill[bucket_of(row, top_b)]++] =
              Pair{static_cast<int32_t>(i), row, static_cast<int32_t>(first[i] + t), top_b};
        }
    });
    parallel_for(row_groups, threads, [&](int64_t g) {
      const int64_t lo = bucket_first[g * nb], n = bucket_first[(g + 1) * nb] - lo;
      if (n == 0) return;
      const Pair* pair = &by_bucket[lo];
      std::vector<const float*> x(n), y(n);
      for (int64_t t = 0; t < n; ++t) {
        x[t] = r.corpus + static_cast<int64_t>(pair[t].row) * r.dim;
        y[t] = r.queries + (q0 + pair[t].q) * r.dim;
      }
      std::vector<float> dots;
      for (int64_t s = 0; s < n;) {
        const int gt = pair[s].top;
        int64_t e = s + 1;
        while (e < n && pair[e].top == gt) ++e;
        const int m = static_cast<int>(e - s);
        dots.resize(static_cast<size_t>(m) * (gt + 1));
        const RescoreArgs args{x.data() + s, y.data() + s, m, bounds.data(), gt + 1, dots.data()};
        if (kern.rescore)
          kern.rescore(args);
        else
          rescore_packed(kern, args);
        for (int t = 0; t < m; ++t) {
          const Pair& p = pair[s + t];
          const int64_t q = q0 + p.q;
          for (int b = 0; b <= gt; ++b)  // scaled as the tile kernels scale: (dot * iq) * ic
            exact[static_cast<int64_t>(p.slot) * nb + b] =
                (dots[t * (gt + 1) + b] * inv_q[b * r.nq + q]) * inv_c[b * r.nc + p.row];
        }
        s = e;
      }
    });
    parallel_for(qn, threads, [&](int64_t i) {
      const int64_t q = q0 + i;
      const float* ex = exact.get() + first[i] * nb;
      std::vector<std::vector<Key>> best(nb);
      std::vector<Key> tmp;
      int64_t need = 0;
      for (int b = 0; b < nb && !failed[q]; ++b) {
        std::vector<Key>& hits = best[b];
        hits.clear();
        for (int64_t j = 0; j < K1; ++j)
          if (const int32_t p = pos[i * cap + b * K1 + j]; p >= 0)
            hits.push_back(hit_key(ex[p * nb + b], idx1[b][q * K1 + j]));
        select_best(hits.data(), static_cast<int64_t>(hits.size()), K, tmp, kern);
        const double L = key_score(hits[K - 1]);
        const double rq = rho_q[q * nb + b];
        const PairErrorBound bound(bounds[b]);
        const double widest = bound(rq, rho_c_max[b]);  // any pair's bound is at most this
        if (!certified[i * nb + b]) {                   // the K1-th stage-1 score: the least of the list
          const double last = *std::min_element(&s1[b][q * K1], &s1[b][q * K1] + K1);
          if (!(last + widest < L)) failed[q] = 1;
        }
        // (a pair's own bound only where the widest leaves the count open)
        for (int64_t j = 0; j < K1; ++j) {
          const double s = s1[b][q * K1 + j];
          if (s >= L || s + widest < L) {
            need += s >= L;
            continue;
          }
          const int32_t c = idx1[b][q * K1 + j];
          need += s + bound(rq, rho_c[static_cast<int64_t>(c) * nb + b]) >= L;
        }
      }
      needed += need;
      if (failed[q]) return;
      for (size_t o = 0; o < r.dims.size(); ++o)
        write_hits(best[out_of_bound[o]].data(), K, out.scores[o] + q * K, out.indices[o] + q * K);
    });
  }

  // Queries that could not be certified: the fp32 engine, on those queries alone.
  std::vector<int64_t> redo;
  for (int64_t q = 0; q < r.nq; ++q)
    if (failed[q]) redo.push_back(q);
  if (!redo.empty())
    topk_pass_on(r, kern, K, redo, inv_q.data(), inv_c.data(), out, PassOptions{true, true, &stats.restarted_queries});
  stats.engine = std::string("cpu-") + kern.name + (hw ? "-bf16" : "-bf16-portable");
  stats.pairs = r.nq * nb;
  stats.rescored = rescored;
  stats.needed = needed;
  stats.fallback_queries = static_cast<int64_t>(redo.size());
  return "";
}

}  // namespace cpu
}  // namespace embbench
