// CPU engine: blocked prefix-dim product + per-(query, dim) top-k buffers, on a small thread pool.
// Memory beyond the inputs is O(nq x k x dims) (top-k buffers) plus O((nq + nc) x dims) (norms)
// and, for the bf16 two-stage engine, O(nc) a thread (its candidate unions): the nq x nc score
// matrix never exists.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine.h"
#include "kernels.h"

namespace embbench {
namespace {

// The corpus is packed once, kBlockChunks chunks of kChunkPanels panels at a time (shared by
// every query range; the next block is packed while the last tasks of this one run). A chunk is
// ~L2-sized at D = 768 and stays there while a range's query tiles pass over it; a range's query
// rows take about kRangeBytes, so that they stay in L2 too, with the tails of their top-k buffers.
constexpr int kChunkPanels = 8;
constexpr int kBlockChunks = 8;
constexpr int64_t kRangeBytes = 192 * 1024;
// Start thresholds from a sample. A top-k stream that starts from -inf appends about
// K (1 + ln(nc / K)) keys per (query, dim), each row that beats the k-th best seen so far (twice
// that with the buffer's slack), most of them early, while that k-th is still low. A sample of
// S rows spread evenly over the corpus is scored first: the kSampleRank-th best of a (query,
// dim)'s sample scores is reached by about kSampleRank nc / S corpus rows, and S is chosen to make
// that kSampleExpect K, so the pass that starts from this score appends a few K keys. The results
// are the same: a row below the start is outside the top K when at least K rows reach it (each
// buffer then holds every row of its corpus part that does, or K better ones). Where fewer do
// (for a uniform sample, the sample's order statistic below its expectation by a factor
// kSampleExpect: P(Gamma(10) < 10/6) ~ 1e-5 per (query, dim)), that query is scored again from
// -inf. Used where the sample is at most 1/kSampleShare of the corpus (K >= 54).
constexpr int kSampleRank = 10;
constexpr int kSampleExpect = 6;
constexpr int64_t kSampleShare = 32;
constexpr int kSampleGroups = 32;
// Auto precision takes the bf16 two-stage engine (where the CPU has a bf16 kernel) from
// kAutoBf16MinQueries queries and kAutoBf16MinPairs (query, row) pairs, when its first stage
// keeps at most 1/400 of the corpus (1/250 from 1,000 queries): where it was measured faster
// than fp32 (bench/README, `npm run bench -- auto`). Below, the corpus-sized work it adds (its
// preparation, a bf16 pass of the corpus for the pilot) or the rescoring outweighs the product's
// halved time.
constexpr int64_t kAutoBf16MinQueries = 500;
constexpr double kAutoBf16MinPairs = 1e7;
constexpr int64_t kAutoBf16Share = 400;
constexpr int64_t kAutoBf16ManyQueries = 1000;
constexpr int64_t kAutoBf16ManyQueriesShare = 250;
// ... after a pilot of this many queries shows the bf16 stage certifies the data (score_cpu).
constexpr int64_t kPilotQueries = 128;
// The bf16 rescoring's query blocks: this many queries at most (at 768 dims, 6 MB: they stay in
// the last-level cache while the corpus streams past), and this many candidate pairs.
constexpr int64_t kStage2Queries = 2048;
constexpr int64_t kStage2Pairs = int64_t(1) << 21;
constexpr int64_t kStage2Rows = 64;

// A NaN score would break the ranking's total order (and the sorts that rely on it). NaN and
// infinite inputs make NaN scores, and so do finite ones whose squares overflow float32 in a
// norm: every input value must be finite with |x| <= kMaxMagnitude, which keeps a sum of 2^31
// squares below FLT_MAX. (lib/score/engine.ts applies the same rule.)
constexpr float kMaxMagnitude = 1e15f;

// Whether every x[0, n) passes: checked on the bits, without a branch per value (so it
// vectorises): |x| <= kMaxMagnitude exactly when the bits less the sign are at most its bits; NaN
// and infinity are above.
bool values_ok(const float* x, int64_t n) {
  int32_t limit;
  std::memcpy(&limit, &kMaxMagnitude, sizeof limit);
  int32_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    int32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= static_cast<int32_t>((bits & 0x7FFFFFFF) > limit);
  }
  return !bad;
}

// Thrown by round_rows where a row fails values_ok (score_cpu then names the first bad value).
struct BadValue {};

// 1/|x| from the sum of squares in double, rounded to float; 0 for a zero vector.
inline float inverse_norm(double ss) { return ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.0f; }

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<float[], AlignedFree>;

inline uint16_t bf16_bits(float x) {
  const float r = round_bf16(x);
  uint32_t u;
  std::memcpy(&u, &r, sizeof u);
  return static_cast<uint16_t>(u >> 16);
}

// n elements, not zeroed (trivial types), for buffers whose every entry is written before it is
// read (tens of MB at 2,000 queries, which a zeroing constructor would clear on one thread before
// the work is split between threads).
template <class T>
std::unique_ptr<T[]> unzeroed(size_t n) {
  return std::unique_ptr<T[]>(new T[n]);
}

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

// The scalar Kernel::partition: no data-dependent branch (a branchy one mispredicts about every
// other key on these short, random buffers).
long long partition_scalar(const Key* a, long long n, Key pivot, Key* hi, Key* lo) {
  int64_t l = 0;
  for (int64_t i = 0; i < n; ++i) {
    const Key v = a[i];
    hi[l] = v;
    lo[i - l] = v;
    l += v >= pivot;
  }
  return l;
}

// Moves the k largest of a[0, n) (unique keys, 0 < k < n) into a[0, k), in no particular order:
// quickselect over the kernel's partition; tmp holds 2n + 16 keys.
void keep_best(Key* a, int64_t n, int64_t k, Key* tmp, const Kernel& kern) {
  const auto partition = kern.partition ? kern.partition : partition_scalar;
  int64_t lo = 0, hi = n;  // a[0, lo) beat a[lo, hi), which beat a[hi, n); the k-th is in [lo, hi)
  while (hi - lo > 16) {
    const Key x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
    const Key pivot = std::max(std::min(x, y), std::min(std::max(x, y), z));  // median of three
    Key *above = tmp, *below = tmp + n + 8;
    const int64_t l = partition(a + lo, hi - lo, pivot, above, below);  // l: the keys >= pivot
    std::memcpy(a + lo, above, static_cast<size_t>(l) * sizeof(Key));
    std::memcpy(a + lo + l, below, static_cast<size_t>(hi - lo - l) * sizeof(Key));
    if (lo + l == k) return;
    if (lo + l > k)
      hi = lo + l;  // the pivot and at least one key beat a[lo + l]: the range shrinks
    else
      lo += l;
  }
  std::sort(a + lo, a + hi, std::greater<Key>());
}

// Puts the best k of hits[0, n) (n >= k) first, best first.
void select_best(Key* hits, int64_t n, int k, std::vector<Key>& tmp, const Kernel& kern) {
  tmp.resize(2 * n + 16);
  if (n > k) keep_best(hits, n, k, tmp.data(), kern);
  if (kern.sort && k <= kSmallSort)
    kern.sort(hits, k, tmp.data());
  else
    std::sort(hits, hits + k, std::greater<Key>());
}

void write_hits(const Key* hits, int k, float* scores, int32_t* rows) {
  for (int j = 0; j < k; ++j) {
    scores[j] = key_score(hits[j]);
    rows[j] = key_row(hits[j]);
  }
}

// Top-k of a stream: the kernel appends the keys whose score reaches the threshold to an
// unsorted buffer; once it holds 2k, a cut keeps the best k (keep_best, in place) and the k-th
// becomes the threshold. O(1) amortised per candidate, no per-insert sifting. Keys that tie the
// threshold's score but not its row may enter; they never outrank it, so the best k are unchanged.
void cut(Key* hits, int& n, float& threshold, int k, Key* tmp /* [2n + 16] */, const Kernel& kern) {
  if (n < 2 * k) return;
  keep_best(hits, n, k, tmp, kern);
  threshold = key_score(*std::min_element(hits, hits + k));
  n = k;
}

struct Plan {
  std::vector<int> bounds;        // sorted unique dims
  std::vector<int> out_of_bound;  // request.dims[i] -> index in bounds
  int k = 0;
  int64_t q_range = 0;  // queries per task
  int q_ranges = 0;
  int c_splits = 0;  // corpus splits per range (each its own top-k buffers)
  int threads = 1;
};

// The request's dims ascending (the order the kernels accumulate in).
std::vector<int> sorted_bounds(const ScoreRequest& r) {
  std::vector<int> bounds = r.dims;
  std::sort(bounds.begin(), bounds.end());
  return bounds;
}

// For each of r.dims (request order), its index in `bounds` (sorted_bounds(r)).
std::vector<int> bound_of_dim(const ScoreRequest& r, const std::vector<int>& bounds) {
  std::vector<int> out;
  for (int d : r.dims)
    out.push_back(static_cast<int>(std::lower_bound(bounds.begin(), bounds.end(), d) - bounds.begin()));
  return out;
}

// More threads than cores only adds switching; a huge request must not spawn thousands.
int thread_count(const ScoreRequest& r) {
  return r.threads > 0 ? std::min(r.threads, default_threads()) : default_threads();
}

Plan make_plan(const ScoreRequest& r, const Kernel& kern, int K) {
  Plan p;
  p.bounds = sorted_bounds(r);
  p.out_of_bound = bound_of_dim(r, p.bounds);
  p.k = K;
  p.threads = thread_count(r);
  const int MR = kern.mr;
  const int64_t row_bytes = static_cast<int64_t>(p.bounds.back()) * (kern.bf16 ? 2 : 4);
  // Ranges of about kRangeBytes of query rows. Queries that fit in one: the corpus is split
  // between the threads instead (then the per-split top-k buffers merged); fewer ranges than
  // threads: each block's chunks too.
  const int64_t fit = std::max<int64_t>(MR, kRangeBytes / row_bytes / MR * MR);
  const int64_t chunks = ((r.nc + kern.nr - 1) / kern.nr + kChunkPanels - 1) / kChunkPanels;
  if (r.nq <= fit) {
    p.q_range = (r.nq + MR - 1) / MR * MR;
    p.q_ranges = 1;
    p.c_splits = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(chunks, p.threads)));
  } else {
    p.q_range = fit;
    p.q_ranges = static_cast<int>((r.nq + fit - 1) / fit);
    p.c_splits = p.q_ranges >= p.threads ? 1 : std::min(kBlockChunks, (p.threads + p.q_ranges - 1) / p.q_ranges);
  }
  return p;
}

// The scalar packing (Kernel::pack): panel[k * NR + j] = row j's column k, or for a bf16 kernel
// bf16 pairs, panel16[(k / 2) * 2NR + 2j + k % 2]; rows from `valid` on are zeros.
void pack_panel(const Kernel& kern, const float* src, int64_t stride, int valid, int depth, float* dst) {
  const int NR = kern.nr;
  uint16_t* d16 = reinterpret_cast<uint16_t*>(dst);
  for (int j = 0; j < NR; ++j) {
    const float* row = j < valid ? src + j * stride : nullptr;
    for (int k = 0; k < depth; ++k) {
      if (kern.bf16)
        d16[static_cast<size_t>(k / 2) * 2 * NR + 2 * j + (k & 1)] = row ? bf16_bits(row[k]) : 0;
      else
        dst[static_cast<size_t>(k) * NR + j] = row ? row[k] : 0.0f;
    }
  }
}

struct PassOptions {
  bool ordered = true;       // rows best first, else in no particular order
  bool sample = true;        // start from a sample's thresholds (above) where it pays
  int64_t* again = nullptr;  // adds the queries scored again from -inf (the sample's misses)
};

// One exact top-K pass: every query against every corpus row at every bound, with the given
// inverse prefix norms ([nb x n], bounds ascending). Rows of `out` follow r.dims, best first, or
// in no particular order when !opt.ordered (the bf16 first stage's candidates).
void topk_pass(const ScoreRequest& r, const Kernel& kern, int K, const float* inv_q, const float* inv_c,
               const ScoreOutput& out, const PassOptions& opt = {});

// topk_pass on the queries `which` of r alone (their rows copied; their norms gathered from
// inv_q), into their rows of out.
void topk_pass_on(const ScoreRequest& r, const Kernel& kern, int K, const std::vector<int64_t>& which,
                  const float* inv_q, const float* inv_c, const ScoreOutput& out, const PassOptions& opt) {
  const size_t row_bytes = static_cast<size_t>(r.dim) * (kern.bf16 ? 2 : 4);  // a bf16 kernel's rows: bf16 bits
  const std::vector<int> bounds = sorted_bounds(r);
  const size_t n = which.size(), nb = bounds.size();
  std::vector<float> qs((n * row_bytes + 3) / 4);
  std::vector<float> iq(nb * n);
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(reinterpret_cast<char*>(qs.data()) + i * row_bytes,
                reinterpret_cast<const char*>(r.queries) + which[i] * row_bytes, row_bytes);
    for (size_t b = 0; b < nb; ++b) iq[b * n + i] = inv_q[b * r.nq + which[i]];
  }
  ScoreRequest sub = r;
  sub.queries = qs.data();
  sub.nq = static_cast<int64_t>(n);
  std::vector<std::vector<int32_t>> fi(r.dims.size(), std::vector<int32_t>(n * K));
  std::vector<std::vector<float>> fs(r.dims.size(), std::vector<float>(n * K));
  ScoreOutput o;
  for (size_t d = 0; d < r.dims.size(); ++d) {
    o.indices.push_back(fi[d].data());
    o.scores.push_back(fs[d].data());
  }
  topk_pass(sub, kern, K, iq.data(), inv_c, o, opt);
  for (size_t i = 0; i < n; ++i)
    for (size_t d = 0; d < r.dims.size(); ++d) {
      std::copy(&fi[d][i * K], &fi[d][i * K] + K, out.indices[d] + which[i] * K);
      std::copy(&fs[d][i * K], &fs[d][i * K] + K, out.scores[d] + which[i] * K);
    }
}

// A query tile's kernel inputs: its MR row pointers (tail rows repeat the last query; a bf16
// kernel's rows are bf16 bits, same stride) and inverse norms, tile_inv_q[b * MR + i].
void tile_rows(const ScoreRequest& r, const Kernel& kern, int nb, const float* inv_q, int64_t q0, int64_t q_hi,
               const float** rows, float* tile_inv_q) {
  const int MR = kern.mr;
  const int mr = static_cast<int>(std::min<int64_t>(MR, q_hi - q0));
  for (int i = 0; i < MR; ++i) {
    const int64_t q = q0 + std::min(i, mr - 1);
    rows[i] = kern.bf16 ? reinterpret_cast<const float*>(reinterpret_cast<const uint16_t*>(r.queries) + q * r.dim)
                        : r.queries + q * r.dim;
    for (int b = 0; b < nb; ++b) tile_inv_q[b * MR + i] = inv_q[b * r.nq + q];
  }
}

// The start thresholds (above), [q * nb + b], or none where the sample would not pay. The
// sample's scores come from the tile kernel's every-score mode; each (query, bound) keeps the two
// best of each of kSampleGroups groups (sample row mod kSampleGroups: three vector operations a
// score, no top-k buffer, no branch), and its start is the kSampleRank-th best of those: at most the
// sample's own kSampleRank-th best (the kept scores are scores of distinct rows), and equal to it
// unless three of the sample's best fall in one group.
std::vector<float> start_thresholds(const ScoreRequest& r, const Kernel& kern, int K, const Plan& plan,
                                    const float* inv_q, const float* inv_c) {
  const int64_t S = (int64_t(kSampleRank) * r.nc + int64_t(kSampleExpect) * K - 1) / (int64_t(kSampleExpect) * K);
  if (S * kSampleShare > r.nc || S < 4 * kSampleRank) return {};
  constexpr int G = kSampleGroups;
  const int nb = static_cast<int>(plan.bounds.size());
  const int MR = kern.mr, NR = kern.nr;
  const int max_dim = plan.bounds.back();
  const int64_t step = r.nc / S;  // sample row s is corpus row step / 2 + s * step
  const int64_t panels = (S + NR - 1) / NR;
  const size_t panel_floats = static_cast<size_t>(max_dim) * NR;
  // The sample is packed a block of panels at a time (its memory stays that of one block).
  const int64_t block_panels = std::min<int64_t>(panels, int64_t(kBlockChunks) * kChunkPanels);
  AlignedBuffer packed = aligned_floats(block_panels * panel_floats);
  AlignedBuffer invs = aligned_floats(static_cast<size_t>(block_panels) * nb * NR);
  // Tasks of up to a range of query tiles; each passes a block's panels over its tiles.
  const int64_t tiles = (r.nq + MR - 1) / MR;
  const int64_t per_task =
      std::max<int64_t>(1, std::min<int64_t>(plan.q_range / MR, (tiles + plan.threads - 1) / plan.threads));
  // best[((tile * nb + b) * MR + i) * 2G + g]: group g's best score, then at + G its second best
  std::vector<float> best(static_cast<size_t>(tiles) * nb * MR * 2 * G, -std::numeric_limits<float>::infinity());
  for (int64_t p0 = 0; p0 < panels; p0 += block_panels) {
    const int64_t pn = std::min(block_panels, panels - p0);
    parallel_for(pn, plan.threads, [&](int64_t at) {
      const int64_t s0 = (p0 + at) * NR;
      const int valid = static_cast<int>(std::min<int64_t>(NR, S - s0));
      const float* src = r.corpus + (step / 2 + s0 * step) * r.dim;
      float* dst = packed.get() + at * panel_floats;
      if (kern.pack)
        kern.pack(src, step * r.dim, valid, max_dim, dst);
      else
        pack_panel(kern, src, step * r.dim, valid, max_dim, dst);
      for (int b = 0; b < nb; ++b)
        for (int j = 0; j < NR; ++j)
          invs[(at * nb + b) * NR + j] = j < valid ? inv_c[b * r.nc + step / 2 + (s0 + j) * step] : 0.0f;
    });
    parallel_for((tiles + per_task - 1) / per_task, plan.threads, [&](int64_t task) {
      const int64_t t0 = task * per_task, t1 = std::min(tiles, t0 + per_task);
      std::vector<const float*> rows(static_cast<size_t>(t1 - t0) * MR);
      std::vector<float> tile_inv_q(static_cast<size_t>(t1 - t0) * nb * MR);
      for (int64_t t = t0; t < t1; ++t)
        tile_rows(r, kern, nb, inv_q, t * MR, r.nq, &rows[(t - t0) * MR], &tile_inv_q[(t - t0) * nb * MR]);
      AlignedBuffer scores = aligned_floats(static_cast<size_t>(nb) * MR * NR);
      for (int64_t at = 0; at < pn; ++at) {
        const int valid = static_cast<int>(std::min<int64_t>(NR, S - (p0 + at) * NR));
        const int g0 = static_cast<int>((p0 + at) * NR % G);  // NR divides G
        for (int64_t t = t0; t < t1; ++t) {
          kern.tile(TileArgs{&rows[(t - t0) * MR], packed.get() + at * panel_floats, plan.bounds.data(), nb,
                             &tile_inv_q[(t - t0) * nb * MR], invs.get() + at * nb * NR, 0, valid, scores.get()});
          for (int bi = 0; bi < nb * MR; ++bi) {
            float* b1 = &best[(t * nb * MR + bi) * 2 * G + g0];
            float* b2 = b1 + G;
            const float* x = scores.get() + static_cast<size_t>(bi) * NR;
            for (int j = 0; j < valid; ++j) {
              b2[j] = std::max(b2[j], std::min(b1[j], x[j]));
              b1[j] = std::max(b1[j], x[j]);
            }
          }
        }
      }
    });
  }
  std::vector<float> start(static_cast<size_t>(r.nq) * nb);
  parallel_for(r.nq, plan.threads, [&](int64_t q) {
    for (int b = 0; b < nb; ++b) {
      float* v = &best[(((q / MR) * nb + b) * MR + q % MR) * 2 * G];
      std::nth_element(v, v + (kSampleRank - 1), v + 2 * G, std::greater<float>());
      start[q * nb + b] = v[kSampleRank - 1];
    }
  });
  return start;
}

void topk_pass(const ScoreRequest& r, const Kernel& kern, int K, const float* inv_q, const float* inv_c,
               const ScoreOutput& out, const PassOptions& opt) {
  const Plan plan = make_plan(r, kern, K);
  const int nb = static_cast<int>(plan.bounds.size());
  const std::vector<float> start = opt.sample ? start_thresholds(r, kern, K, plan, inv_q, inv_c) : std::vector<float>{};
  const int MR = kern.mr, NR = kern.nr;
  const int max_dim = plan.bounds.back();

  // One reservoir per (split, query, bound), laid out [split][query tile][bound][row in tile] so
  // that a tile's reservoirs are contiguous and its float thresholds are the kernel's `thresh`
  // as they stand (rows past the last query keep +inf: they never pass).
  const int64_t q_tiles = (r.nq + MR - 1) / MR;
  const size_t slots = static_cast<size_t>(plan.c_splits) * q_tiles * nb * MR;
  auto slot_of = [&](int split, int64_t q, int b) {
    return ((static_cast<size_t>(split) * q_tiles + q / MR) * nb + b) * MR + q % MR;
  };
  const size_t capacity = 2 * static_cast<size_t>(K) + 2 * NR;  // room for one tile's appends past 2k - 1
  const std::unique_ptr<Key[]> res_keys = unzeroed<Key>(slots * capacity);
  std::vector<int> res_n(slots, 0);
  std::vector<float> res_score(slots, std::numeric_limits<float>::infinity());  // the thresholds
  for (int split = 0; split < plan.c_splits; ++split)
    for (int64_t q = 0; q < r.nq; ++q)
      for (int b = 0; b < nb; ++b)
        res_score[slot_of(split, q, b)] = start.empty() ? -std::numeric_limits<float>::infinity() : start[q * nb + b];

  const int64_t panels_total = (r.nc + NR - 1) / NR;
  const int64_t chunks_total = (panels_total + kChunkPanels - 1) / kChunkPanels;
  const int64_t blocks = (chunks_total + kBlockChunks - 1) / kBlockChunks;
  const size_t panel_floats = static_cast<size_t>(max_dim) * NR;  // (a bf16 panel fills half)
  // Packs a chunk's panels and their inverse norms at `panels`, `invs`.
  auto pack_chunk = [&](int64_t chunk, float* panels, float* invs) {
    for (int64_t pnl = chunk * kChunkPanels; pnl < std::min(panels_total, (chunk + 1) * kChunkPanels); ++pnl) {
      const int64_t c0 = pnl * NR, at = pnl - chunk * kChunkPanels;
      const int valid = static_cast<int>(std::min<int64_t>(NR, r.nc - c0));
      float* dst = panels + at * panel_floats;
      float* inv = invs + at * nb * NR;
      if (kern.pack)
        kern.pack(r.corpus + c0 * r.dim, r.dim, valid, max_dim, dst);
      else
        pack_panel(kern, r.corpus + c0 * r.dim, r.dim, valid, max_dim, dst);
      for (int b = 0; b < nb; ++b)
        for (int j = 0; j < NR; ++j) inv[b * NR + j] = j < valid ? inv_c[b * r.nc + c0 + j] : 0.0f;
    }
  };
  // A task's scratch; two tile stages, each call's passing scores appended during the next call.
  struct Scratch {
    std::vector<float> tile_inv_q;
    std::vector<const float*> rows;
    std::vector<Key> cut_tmp;
    AlignedBuffer stage_scores[2];
    std::vector<uint32_t> stage_masks[2];
    TileStage stage[2];
    int next = 0;             // the stage the next call writes
    bool pending = false;     // the other holds a call's scores
    size_t pending_slot = 0;  // that call's tile's first slot
  };
  auto scratch = [&] {
    Scratch t{std::vector<float>(static_cast<size_t>(nb) * MR), std::vector<const float*>(MR),
              std::vector<Key>(2 * capacity + 16)};
    for (int i = 0; i < 2; ++i) {
      t.stage_scores[i] = aligned_floats(static_cast<size_t>(nb) * MR * NR);
      t.stage_masks[i].resize(static_cast<size_t>(nb) * MR);
      t.stage[i].scores = t.stage_scores[i].get();
      t.stage[i].masks = t.stage_masks[i].data();
      t.stage[i].rows = nb * MR;
      t.stage[i].stride = static_cast<long long>(capacity);
    }
    return t;
  };
  // After a call or flush set `full`: the cuts of the tile whose keys it appended.
  auto cut_tile = [&](size_t tile_slot, Scratch& t) {
    for (size_t slot = tile_slot; slot < tile_slot + static_cast<size_t>(nb) * MR; ++slot)
      cut(&res_keys[slot * capacity], res_n[slot], res_score[slot], K, t.cut_tmp.data(), kern);
  };
  // Scores a packed chunk against the queries [q_lo, q_hi), into `split`'s buffers; every key is
  // appended when it returns.
  auto score_chunk = [&](int64_t chunk, const float* panels, const float* invs, int64_t q_lo, int64_t q_hi, int split,
                         Scratch& t) {
    const int64_t pnl0 = chunk * kChunkPanels;
    const int n_panels = static_cast<int>(std::min<int64_t>(kChunkPanels, panels_total - pnl0));
    for (int64_t q0 = q_lo; q0 < q_hi; q0 += MR) {
      tile_rows(r, kern, nb, inv_q, q0, q_hi, t.rows.data(), t.tile_inv_q.data());
      for (int p = 0; p < n_panels; ++p) {
        const int64_t c0 = (pnl0 + p) * NR;
        const int valid = static_cast<int>(std::min<int64_t>(NR, r.nc - c0));
        // The kernel tests each score against its row's current k-th score (a vector compare in
        // the tile's epilogue), stages the passing lanes and appends the previous call's.
        const size_t tile_slot = slot_of(split, q0, 0);
        TileStage& stage = t.stage[t.next];
        stage.keys = &res_keys[tile_slot * capacity];
        stage.count = &res_n[tile_slot];
        stage.row0 = c0;
        bool full = false;
        TileArgs args{t.rows.data(),
                      panels + p * panel_floats,
                      plan.bounds.data(),
                      nb,
                      t.tile_inv_q.data(),
                      invs + p * nb * NR,
                      c0,
                      valid};
        args.thresh = &res_score[tile_slot];
        args.stage = &stage;
        args.pending = t.pending ? &t.stage[1 - t.next] : nullptr;
        args.limit = 2 * K;
        args.full = &full;
        kern.tile(args);
        if (full) cut_tile(t.pending_slot, t);
        t.pending = true;
        t.pending_slot = tile_slot;
        t.next = 1 - t.next;
      }
    }
    if (t.pending) {
      bool full = false;
      append_staged(t.stage[1 - t.next], NR, 2 * K, &full);
      if (full) cut_tile(t.pending_slot, t);
      t.pending = false;
    }
  };
  if (plan.q_ranges == 1) {
    // One query range scores each chunk once: each task packs its own chunks into a buffer that
    // stays in L2.
    parallel_for(plan.c_splits, plan.threads, [&](int64_t split) {
      AlignedBuffer panels = aligned_floats(kChunkPanels * panel_floats);
      AlignedBuffer invs = aligned_floats(static_cast<size_t>(kChunkPanels) * nb * NR);
      Scratch t = scratch();
      for (int64_t chunk = chunks_total * split / plan.c_splits; chunk < chunks_total * (split + 1) / plan.c_splits;
           ++chunk) {
        pack_chunk(chunk, panels.get(), invs.get());
        score_chunk(chunk, panels.get(), invs.get(), 0, r.nq, static_cast<int>(split), t);
      }
    });
  } else {
    // Several: blocks of kBlockChunks chunks, each packed once into one of kRing buffers and
    // scored by every range. One sequence of tasks, claimed in order by every thread: block j + 1's
    // packing (a task a chunk) comes before block j's scoring (a task a range and split), so that
    // threads done scoring pack ahead. A scoring task waits for its block's packing and for its
    // range and split's previous block (they share top-k buffers); a packing task for the
    // scoring of the block that last used its buffer. Each waits only on tasks claimed before it
    // (no deadlock), and no barrier stops every thread between blocks.
    constexpr int kRing = 3;
    const int64_t block_panels = std::min<int64_t>(panels_total, int64_t(kBlockChunks) * kChunkPanels);
    AlignedBuffer packed[kRing], packed_inv[kRing];
    for (int i = 0; i < kRing && i < blocks; ++i) {
      packed[i] = aligned_floats(block_panels * panel_floats);
      packed_inv[i] = aligned_floats(static_cast<size_t>(block_panels) * nb * NR);
    }
    auto chunk_panels = [&](int64_t chunk) {
      const int64_t at = (chunk % kBlockChunks) * kChunkPanels;
      const int buffer = static_cast<int>(chunk / kBlockChunks % kRing);
      return std::pair{packed[buffer].get() + at * panel_floats, packed_inv[buffer].get() + at * nb * NR};
    };
    const int64_t score_tasks = static_cast<int64_t>(plan.q_ranges) * plan.c_splits;
    struct Task {
      int64_t block, index;  // index: the chunk (packing) or range * c_splits + split (scoring)
      bool pack;
    };
    // The sequence, task i computed on claiming: block 0's packing, then for each block j, block
    // j + 1's packing and block j's scoring.
    auto chunks_in = [&](int64_t block) {
      return block < blocks ? std::min(chunks_total, (block + 1) * kBlockChunks) - block * kBlockChunks : 0;
    };
    const int64_t total = chunks_total + blocks * score_tasks;
    auto task_at = [&](int64_t i) -> Task {
      if (i < chunks_in(0)) return {0, i, true};
      i -= chunks_in(0);
      const int64_t full = kBlockChunks + score_tasks;  // every group but the last two
      int64_t j = std::min(i / full, std::max<int64_t>(0, blocks - 2));
      for (i -= j * full;; ++j) {
        const int64_t packs = chunks_in(j + 1);
        if (i < packs) return {j + 1, (j + 1) * kBlockChunks + i, true};
        if (i < packs + score_tasks) return {j, i - packs, false};
        i -= packs + score_tasks;
      }
    };
    std::vector<std::atomic<int64_t>> chunks_packed(blocks), tasks_scored(blocks), blocks_done(score_tasks);  // zeros
    std::atomic<int64_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    struct Stopped {};
    auto wait_for = [&](const std::atomic<int64_t>& count, int64_t target) {
      while (count.load(std::memory_order_acquire) < target) {
        if (failed.load(std::memory_order_relaxed)) throw Stopped{};
        std::this_thread::yield();
      }
    };
    parallel_for(plan.threads, plan.threads, [&](int64_t) {
      try {
        Scratch t = scratch();
        for (int64_t i; (i = next.fetch_add(1)) < total;) {
          const Task task = task_at(i);
          const int64_t ch0 = task.block * kBlockChunks, ch1 = std::min(chunks_total, ch0 + kBlockChunks);
          if (task.pack) {
            if (task.block >= kRing) wait_for(tasks_scored[task.block - kRing], score_tasks);
            const auto [panels, invs] = chunk_panels(task.index);
            pack_chunk(task.index, panels, invs);
            chunks_packed[task.block].fetch_add(1, std::memory_order_release);
            continue;
          }
          wait_for(chunks_packed[task.block], ch1 - ch0);
          wait_for(blocks_done[task.index], task.block);
          const int split = static_cast<int>(task.index % plan.c_splits);
          const int64_t q_lo = (task.index / plan.c_splits) * plan.q_range;
          for (int64_t chunk = ch0 + (ch1 - ch0) * split / plan.c_splits;
               chunk < ch0 + (ch1 - ch0) * (split + 1) / plan.c_splits; ++chunk) {
            const auto [panels, invs] = chunk_panels(chunk);
            score_chunk(chunk, panels, invs, q_lo, std::min(r.nq, q_lo + plan.q_range), split, t);
          }
          blocks_done[task.index].fetch_add(1, std::memory_order_release);
          tasks_scored[task.block].fetch_add(1, std::memory_order_release);
        }
      } catch (const Stopped&) {
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    });
    if (error) std::rethrow_exception(error);
  }

  // Queries where fewer than K rows reached a start threshold: scored again from -inf (below).
  std::vector<int64_t> again;
  if (!start.empty())
    for (int64_t q = 0; q < r.nq; ++q)
      for (int b = 0; b < nb; ++b) {
        int64_t n = 0;
        for (int split = 0; split < plan.c_splits; ++split) n += res_n[slot_of(split, q, b)];
        if (n < K) {
          again.push_back(q);
          break;
        }
      }
  // Merge the splits' buffers (one split: its buffer, in place) and write each (query, dim) row.
  parallel_for(r.nq, plan.threads, [&](int64_t q) {
    if (!again.empty() && std::binary_search(again.begin(), again.end(), q)) return;
    std::vector<Key> hits, tmp;
    for (size_t o = 0; o < r.dims.size(); ++o) {
      const int b = plan.out_of_bound[o];
      Key* best = &res_keys[slot_of(0, q, b) * capacity];
      int64_t n = res_n[slot_of(0, q, b)];
      if (plan.c_splits > 1) {
        hits.clear();
        for (int split = 0; split < plan.c_splits; ++split) {
          const size_t slot = slot_of(split, q, b);
          hits.insert(hits.end(), &res_keys[slot * capacity], &res_keys[slot * capacity] + res_n[slot]);
        }
        best = hits.data();
        n = static_cast<int64_t>(hits.size());
      }
      if (opt.ordered) {
        select_best(best, n, K, tmp, kern);
      } else if (n > K) {
        tmp.resize(2 * n + 16);
        keep_best(best, n, K, tmp.data(), kern);
      }
      write_hits(best, K, out.scores[o] + q * K, out.indices[o] + q * K);
    }
  });
  if (!again.empty()) {
    topk_pass_on(r, kern, K, again, inv_q, inv_c, out, PassOptions{opt.ordered, false, nullptr});
    if (opt.again) *opt.again += static_cast<int64_t>(again.size());
  }
}
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

// Kernel::prefix_sums without a vector one.
void prefix_sums_scalar(const float* const* rows, const int* bounds, int nb, double* ss, double* ee) {
  double s[8] = {}, e[8] = {};
  int k = 0;
  for (int b = 0; b < nb; ++b) {
    for (; k < bounds[b]; ++k)
      for (int i = 0; i < 8; ++i) {
        s[i] += static_cast<double>(rows[i][k]) * rows[i][k];
        if (ee) {
          const double d = static_cast<double>(round_bf16(rows[i][k])) - rows[i][k];
          e[i] += d * d;
        }
      }
    for (int i = 0; i < 8; ++i) {
      ss[b * 8 + i] = s[i];
      if (ee) ee[b * 8 + i] = e[i];
    }
  }
}

// x rounded up to a float (a bound stays a bound).
float round_up(double x) {
  const float f = static_cast<float>(x);
  return f < x ? std::nextafter(f, std::numeric_limits<float>::infinity()) : f;
}

// bf16 roundings of the first max_dim columns, as floats (stride max_dim) and/or as bits
// (stride dim), either may be null; each prefix's relative rounding error rho[row * nb + b] (0 for
// a zero prefix; null: not summed) and its inverse norm inv[b * n + row] (inverse_prefix_norms is
// this with only inv). Eight rows at a time (Kernel::prefix_sums), each row's every value checked
// as they pass (values_ok; BadValue if one fails: the corpus is read here once instead of twice).
// False when a nonzero prefix is tiny (norm < 2^-30).
bool round_rows(const float* x, int64_t n, int dim, const std::vector<int>& bounds, int threads, float* out,
                uint16_t* bits, float* rho, float* inv) {
  const int nb = static_cast<int>(bounds.size());
  const int max_dim = bounds.back();
  const auto sums = select_kernel().prefix_sums ? select_kernel().prefix_sums : prefix_sums_scalar;
  std::atomic<bool> tiny{false};
  const int64_t block = 1024;
  parallel_for((n + block - 1) / block, threads, [&](int64_t blk) {
    const int64_t hi = std::min(n, (blk + 1) * block);
    std::vector<double> ss(static_cast<size_t>(nb) * 8), ee(static_cast<size_t>(nb) * 8);
    for (int64_t r0 = blk * block; r0 < hi; r0 += 8) {
      const int m = static_cast<int>(std::min<int64_t>(8, hi - r0));
      const float* row[8];
      for (int i = 0; i < 8; ++i) row[i] = x + (r0 + std::min(i, m - 1)) * dim;
      if (!values_ok(x + r0 * dim, int64_t(m) * dim)) throw BadValue{};
      sums(row, bounds.data(), nb, ss.data(), rho ? ee.data() : nullptr);
      for (int b = 0; b < nb; ++b)
        for (int i = 0; i < m; ++i) {
          const double s = ss[b * 8 + i];
          if (s > 0 && s < 0x1p-60) tiny = true;
          if (rho) rho[(r0 + i) * nb + b] = round_up(s > 0 ? std::sqrt(ee[b * 8 + i]) / std::sqrt(s) : 0.0);
          inv[b * n + r0 + i] = inverse_norm(s);
        }
      for (int i = 0; i < m; ++i)
        for (int kk = 0; kk < max_dim; ++kk) {
          if (out) out[(r0 + i) * max_dim + kk] = round_bf16(row[i][kk]);
          if (bits) bits[(r0 + i) * dim + kk] = bf16_bits(row[i][kk]);
        }
    }
  });
  return !tiny;
}

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

enum class Bf16Use { No, Forced, Auto };

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

// The bound check's scratch for one task: both panels, their norms, both tiles' scores.
struct CheckBuffers {
  AlignedBuffer p32, p16, inv, s32, s16;
  CheckBuffers(int max_dim, int nb, int MR, int NR)
      : p32(aligned_floats(static_cast<size_t>(max_dim) * NR)),
        p16(aligned_floats(static_cast<size_t>(max_dim) * NR)),
        inv(aligned_floats(static_cast<size_t>(nb) * NR)),
        s32(aligned_floats(static_cast<size_t>(nb) * MR * NR)),
        s16(aligned_floats(static_cast<size_t>(nb) * MR * NR)) {}
};

// One panel of the bound check: both first-stage and fp32 scores of every query against NR rows.
void check_panel(const ScoreRequest& r, const Kernel& kern, const Bf16Inputs& in, int64_t panel_index,
                 CheckBuffers& buf, BoundCheck& res) {
  const Kernel& k1 = in.hw ? *in.hw : kern;
  const int MR = kern.mr, NR = kern.nr;
  const int nb = static_cast<int>(in.bounds.size());
  const int max_dim = in.bounds.back();
  const ScoreRequest& r1 = in.stage1;
  const int64_t c0 = panel_index * NR;
  const int valid = static_cast<int>(std::min<int64_t>(NR, r.nc - c0));
  AlignedBuffer &p32 = buf.p32, &p16 = buf.p16, &inv = buf.inv, &s32 = buf.s32, &s16 = buf.s16;
  for (const auto& [k, src, stride, dst] : {std::tuple{&kern, r.corpus, int64_t(r.dim), p32.get()},
                                            std::tuple{&k1, r1.corpus, int64_t(r1.dim), p16.get()}}) {
    if (k->pack)
      k->pack(src + c0 * stride, stride, valid, max_dim, dst);
    else
      pack_panel(*k, src + c0 * stride, stride, valid, max_dim, dst);
  }
  for (int b = 0; b < nb; ++b)
    for (int j = 0; j < NR; ++j) inv[b * NR + j] = j < valid ? in.inv_c[b * r.nc + c0 + j] : 0.0f;
  std::vector<const float*> rows32(MR), rows16(MR);
  std::vector<float> iq(static_cast<size_t>(nb) * MR);
  for (int64_t q0 = 0; q0 < r.nq; q0 += MR) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, r.nq - q0));
    for (int i = 0; i < MR; ++i) {
      const int64_t q = q0 + std::min(i, mr - 1);
      rows32[i] = r.queries + q * r.dim;
      rows16[i] = k1.bf16 ? reinterpret_cast<const float*>(reinterpret_cast<const uint16_t*>(r1.queries) + q * r1.dim)
                          : r1.queries + q * r1.dim;
      for (int b = 0; b < nb; ++b) iq[b * MR + i] = in.inv_q[b * r.nq + q];
    }
    kern.tile(TileArgs{rows32.data(), p32.get(), in.bounds.data(), nb, iq.data(), inv.get(), c0, valid, s32.get()});
    k1.tile(TileArgs{rows16.data(), p16.get(), in.bounds.data(), nb, iq.data(), inv.get(), c0, valid, s16.get()});
    for (int b = 0; b < nb; ++b)
      for (int i = 0; i < mr; ++i) {
        const double rq = in.rho_q[(q0 + i) * nb + b];
        for (int j = 0; j < valid; ++j) {
          const size_t at = static_cast<size_t>(b * MR + i) * NR + j;
          const double err = std::fabs(static_cast<double>(s16[at]) - s32[at]);
          const double eps = PairErrorBound(in.bounds[b])(rq, in.rho_c[(c0 + j) * nb + b]);
          res.violations += err > eps;
          res.max_ratio = std::max(res.max_ratio, err / eps);
          res.max_error = std::max(res.max_error, err);
        }
      }
    res.pairs += static_cast<int64_t>(mr) * valid * nb;
  }
}

}  // namespace

EngineError bf16_bound_check(const ScoreRequest& r, BoundCheck& out) {
  EngineError err = validate(r);
  if (err.ok()) err = validate_values(r);
  if (!err.ok()) return err;
  const Kernel& kern = select_kernel();
  try {
    Bf16Inputs in;
    std::string why = prepare_bf16_corpus(r, in);
    if (why.empty()) why = prepare_bf16_queries(r, in);
    if (!why.empty()) return {"ERR_INVALID_ARG", why};
    if (in.hw && (in.hw->mr != kern.mr || in.hw->nr != kern.nr))
      return {"ERR_INVALID_ARG", "the bf16 and fp32 kernels tile differently"};
    out = BoundCheck{};
    out.engine = std::string("cpu-") + kern.name + (in.hw ? "-bf16" : "-bf16-portable");
    const int threads = thread_count(r);
    std::vector<BoundCheck> part(threads);
    const int64_t panels = (r.nc + kern.nr - 1) / kern.nr;
    const int64_t per_task = (panels + threads - 1) / threads;
    parallel_for(threads, threads, [&](int64_t t) {
      CheckBuffers buf(in.bounds.back(), static_cast<int>(in.bounds.size()), kern.mr, kern.nr);
      for (int64_t p = t * per_task; p < std::min(panels, (t + 1) * per_task); ++p)
        check_panel(r, kern, in, p, buf, part[t]);
    });
    for (const BoundCheck& b : part) {
      out.pairs += b.pairs;
      out.violations += b.violations;
      out.max_ratio = std::max(out.max_ratio, b.max_ratio);
      out.max_error = std::max(out.max_error, b.max_error);
    }
  } catch (const std::bad_alloc&) {
    return {"ERR_OOM", "out of memory while checking the bound"};
  }
  return {};
}

float round_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest, ties to even (finite inputs)
  u &= 0xFFFF0000u;
  if ((u & 0x7F800000u) == 0) u &= 0x80000000u;  // a denormal reads as zero (AVX512_BF16 does so)
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// 1/|x[:bound]| for every row and bound, accumulated in double (0 for a zero prefix). Eight rows
// at a time, each its own chain of additions in column order (the products of floats are exact
// in double, so the sums do not depend on how the chains are interleaved or fused).
void inverse_prefix_norms(const float* x, int64_t n, int dim, const std::vector<int>& bounds, int threads,
                          float* out /* [nb x n] */) {
  round_rows(x, n, dim, bounds, threads, nullptr, nullptr, nullptr, out);  // (tiny prefixes are fine here)
}

EngineError validate(const ScoreRequest& r) {
  auto bad = [](std::string m) { return EngineError{"ERR_INVALID_ARG", std::move(m)}; };
  if (r.dim <= 0) return bad("embedding width must be positive");
  if (r.nq < 0 || r.nc <= 0) return bad("need at least one corpus row and a query count >= 0");
  if (r.nc > INT32_MAX) return bad("corpus has more rows than 2^31 - 1");
  if (r.k <= 0) return bad("k must be positive");
  if (r.dims.empty()) return bad("dims must not be empty");
  if (r.nq > 0 && r.queries == nullptr) return bad("query data is missing");
  if (r.corpus == nullptr) return bad("corpus data is missing");
  std::vector<int> sorted = r.dims;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i] < 1 || sorted[i] > r.dim)
      return bad("dim " + std::to_string(sorted[i]) + " is outside [1, " + std::to_string(r.dim) + "]");
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

EngineError validate_values(const ScoreRequest& r) {
  EngineError err = first_bad_value("query", r.queries, r.nq, r.dim);
  return err.ok() ? first_bad_value("corpus", r.corpus, r.nc, r.dim) : err;
}

EngineError score_cpu(const ScoreRequest& r, const ScoreOutput& out) {
  EngineError err = validate(r);
  // The queries' values here; the corpus's as its norms are summed (round_rows), before any
  // product, or here when there is nothing to score.
  if (err.ok()) err = r.nq == 0 ? validate_values(r) : first_bad_value("query", r.queries, r.nq, r.dim);
  if (!err.ok()) return err;
  if (out.indices.size() != r.dims.size() || out.scores.size() != r.dims.size())
    return {"ERR_INVALID_ARG", "one output pair per dim is required"};
  const Kernel& kern = select_kernel();
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
