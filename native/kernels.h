// One micro-kernel per instruction set (kernels_*.cc, each compiled with its own flags).
// A tile is up to MR query rows against one packed panel of NR corpus rows; the kernel
// accumulates dot products along the dimension axis and, at each Matryoshka boundary, turns
// them into cosine scores (so every dim costs only the work of the largest) and appends the
// ones that reach each row's current k-th score to that row's top-k buffer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "engine.h"

namespace embbench {

// Ranking order: higher score first; equal scores, earlier corpus row first. A (score, row) pair
// is kept as one 64-bit key whose unsigned order is this order: the score's bits mapped to an
// order-preserving integer above, the complement of the row below. Scores are never NaN
// (validate_values); -0 is keyed as +0, so it ties with 0 as the float comparison does.
using Key = uint64_t;

inline Key hit_key(float score, int32_t row) {
  score += 0.0f;  // -0 -> +0
  uint32_t u;
  std::memcpy(&u, &score, sizeof u);
  u ^= static_cast<uint32_t>(static_cast<int32_t>(u) >> 31) | 0x80000000u;  // negative: ~u; else u | sign
  return (static_cast<Key>(u) << 32) | (0xFFFFFFFFu - static_cast<uint32_t>(row));
}

inline float key_score(Key key) {
  uint32_t u = static_cast<uint32_t>(key >> 32);
  u = (u & 0x80000000u) ? (u & 0x7FFFFFFFu) : ~u;
  float s;
  std::memcpy(&s, &u, sizeof s);
  return s;
}

inline int32_t key_row(Key key) { return static_cast<int32_t>(0xFFFFFFFFu - static_cast<uint32_t>(key)); }

// A tile's scores against its rows' thresholds, kept for the next tile call to append (the
// top-k upkeep of TileArgs): the kernel writes every score and each row's passing lanes without a
// branch, and the keys are appended while the next tile's products run, when the branches that
// this takes depend on data long since computed (inline, each unpredictable branch waited for the
// tile's last multiply-adds, and the pipeline refilled after it: at five dims a quarter of the
// bf16 kernel's profile samples fell outside its inner loop).
struct TileStage {
  float* scores = nullptr;    // scores[t * NR + j], t = b * MR + i (64-byte aligned, nb * MR * NR floats)
  uint32_t* masks = nullptr;  // masks[t]: bit j for each lane j < valid whose score reaches thresh[t]
  int rows = 0;               // nb * MR
  Key* keys = nullptr;        // row t's buffer: keys + t * stride, holding count[t] keys
  long long stride = 0;
  int* count = nullptr;
  long long row0 = 0;  // corpus row of lane 0
};

struct TileArgs {
  const float* const* rows;  // MR query row pointers (tail rows repeat the last real row)
  const float* panel;        // packed corpus panel: panel[k * NR + j], k < bounds[nb - 1]
  const int* bounds;         // ascending dims; the last is the largest
  int nb;
  const float* inv_q;  // inv_q[b * MR + i]: 1/|query_i[:bounds[b]]| (0 for a zero vector)
  const float* inv_c;  // inv_c[b * NR + j]: the same for panel row j
  long long row0;      // corpus row of panel lane 0
  int valid;           // lanes holding corpus rows
  // Either every score, scores[(b * MR + i) * NR + j] (when non-null: rescoring, the bound
  // check, the sample), or the top-k upkeep: every score and, for each row t = b * MR + i, the
  // lanes j < valid whose score is at least thresh[t] (row i's current k-th score at bound b;
  // -inf: none yet, +inf: no row) go to *stage, and the keys that `pending` (the previous call's
  // stage; null: none) holds are appended to its rows' buffers (append_staged); *full is set
  // when a count reaches `limit`.
  float* scores = nullptr;
  const float* thresh = nullptr;
  TileStage* stage = nullptr;
  const TileStage* pending = nullptr;
  int limit = 0;
  bool* full = nullptr;
};

// Appends the keys of s (hit_key(scores[t * NR + j], row0 + j) for each bit j of masks[t], in
// lane order, rows t ascending) to its rows' buffers; sets *full when a count reaches limit. Every
// kernel inlines this one: the rows with passing lanes from a bit set of them, then a key at a
// time in scalar registers (a vector form, compressing the keys, ran on the pipes of the tile's
// multiply-adds and was slower).
inline void append_staged(const TileStage& s, int nr, int limit, bool* full) {
  bool reached = false;
  for (int w = 0; w < s.rows; w += 64) {
    const int end = s.rows - w < 64 ? s.rows - w : 64;
    uint64_t rows = 0;
    for (int t = 0; t < end; ++t) rows |= static_cast<uint64_t>(s.masks[w + t] != 0) << t;
    for (; rows; rows &= rows - 1) {
      const int t = w + __builtin_ctzll(rows);
      const float* score = s.scores + static_cast<size_t>(t) * nr;
      Key* dst = s.keys + t * s.stride + s.count[t];
      int n = 0;
      for (uint32_t m = s.masks[t]; m; m &= m - 1) {
        const int j = __builtin_ctz(m);
        dst[n++] = hit_key(score[j], static_cast<int32_t>(s.row0 + j));
      }
      reached |= (s.count[t] += n) >= limit;
    }
  }
  if (reached) *full = true;
}

// The rescoring of the bf16 two-stage engine: n (query, corpus row) pairs, each to the first
// nb bounds.
struct RescoreArgs {
  const float* const* x;  // n vectors (corpus rows)
  const float* const* y;  // n vectors (queries)
  int n;
  const int* bounds;
  int nb;
  float* out;  // out[t * nb + b]: the dot product of x_t and y_t over their first bounds[b] terms
};

struct Kernel {
  const char* name;
  int mr;
  int nr;
  void (*tile)(const TileArgs&);
  // The same arithmetic for one query row (rows[0], inv_q[b]; scores[b * NR + j]): each lane's
  // score is bit for bit what `tile` gives it. Rescoring candidates uses it.
  void (*tile1)(const TileArgs&);
  // Unscaled dot products (RescoreArgs), each bit for bit the accumulator `tile` holds for that
  // pair at each bound (the FMA kernels: one fused multiply-add per term, in order, from 0; a
  // product does not depend on which side is the query). Null: score_cpu packs the y and runs
  // tile1.
  void (*rescore)(const RescoreArgs&);
  // Packs NR corpus rows (row j at src + j * stride; rows from `valid` on are zeros) into a panel
  // of `depth` columns: panel[k * NR + j], or for a bf16 kernel bf16 pairs (depth even). The same
  // values as the scalar packing in cpu/plan.cc, which runs when this is null.
  void (*pack)(const float* src, long long stride, int valid, int depth, void* panel);
  // A bf16 first-stage kernel: rows are bf16 bits, the panel bf16 pairs (kernels_avx512bf16.cc).
  bool bf16 = false;
  // The top-k cuts' partition: the keys of a[0, n) at least `pivot` to hi, the others to lo (each
  // in any order; the kernel may write up to 8 keys past either's end); returns how many went to
  // hi. Null: a scalar one (cpu/topk.cc).
  long long (*partition)(const Key* a, long long n, Key pivot, Key* hi, Key* lo) = nullptr;
  // Eight rows' prefix sums (rows[i], i < 8), in double: ss[b * 8 + i] = the sum of x^2 over the
  // first bounds[b] columns and, where ee is not null, ee[b * 8 + i] = that of (round_bf16(x) -
  // x)^2; each row's terms added in order, a product then a sum (never fused): the bits of the
  // scalar sums (cpu/norms.cc), which run when this is null.
  void (*prefix_sums)(const float* const* rows, const int* bounds, int nb, double* ss, double* ee) = nullptr;
  // Sorts a[0, n) best first (unique keys, n at most kSmallSort); tmp holds n keys. Null, or
  // longer lists: std::sort (cpu/topk.cc).
  void (*sort)(Key* a, long long n, Key* tmp) = nullptr;
};

constexpr long long kSmallSort = 128;

const Kernel& kernel_generic();
#if defined(__x86_64__) || defined(_M_X64)
const Kernel& kernel_avx2();
const Kernel& kernel_avx512();
const Kernel& kernel_avx512bf16();
// Kernel::partition, Kernel::prefix_sums and Kernel::sort of the AVX-512 kernels (kernels_avx512.cc).
long long partition_avx512(const Key* a, long long n, Key pivot, Key* hi, Key* lo);
void sort_avx512(Key* a, long long n, Key* tmp);
void prefix_sums_avx512(const float* const* rows, const int* bounds, int nb, double* ss, double* ee);
#endif
// The bf16 first-stage kernel this CPU has, or null.
const Kernel* select_bf16_kernel();
const Kernel& select_kernel();
// The kernel a request names (Auto: select_kernel()), or null when this CPU cannot run it.
const Kernel* kernel_for(ScoreRequest::Isa isa);

}  // namespace embbench
