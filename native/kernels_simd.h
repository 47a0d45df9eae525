// The tile kernel written once over a small vector type; kernels_avx2.cc and
// kernels_avx512.cc instantiate it with their own intrinsics and compile flags, so the
// logic tested on one ISA is the logic that runs on the other.
#pragma once
#include "kernels.h"

namespace embbench {

// V provides: type reg, static constexpr int width, zero(), load(p), broadcast(p),
// fmadd(a, b, c), mul(a, b), store(p, a), ge(a, b) (bit j: a[j] >= b[j]), and
// append_keys(s, m, row0, dst): hit_key(s[j], row0 + j) for each set bit j of m, in order, at
// dst; returns how many (it may write up to `width` keys; m may be 0).

// append_staged (kernels.h) over V::append_keys: each row's lanes in register-wide pieces, no
// branch on a piece's mask; rows with passing lanes found from a bit set of them.
template <class V, int NR>
void append_staged_simd(const TileStage& s, int limit, bool* full) {
  constexpr int NV = NR / V::width;
  constexpr unsigned piece = V::width >= 32 ? ~0u : (1u << V::width) - 1;
  bool reached = false;
  for (int w = 0; w < s.rows; w += 64) {
    const int end = s.rows - w < 64 ? s.rows - w : 64;
    uint64_t rows = 0;
    for (int t = 0; t < end; ++t) rows |= static_cast<uint64_t>(s.masks[w + t] != 0) << t;
    for (; rows; rows &= rows - 1) {
      const int t = w + __builtin_ctzll(rows);
      const unsigned mask = s.masks[t];
      Key* dst = s.keys + t * s.stride + s.count[t];
      int n = 0;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        n += V::append_keys(V::load(s.scores + static_cast<size_t>(t) * NR + v * V::width),
                            (mask >> (v * V::width)) & piece, s.row0 + v * V::width, dst + n);
      reached |= (s.count[t] += n) >= limit;
    }
  }
  if (reached) *full = true;
}

template <class V, int MR, int NV>
void tile_simd(const TileArgs& a) {
  constexpr int NR = V::width * NV;
  using reg = typename V::reg;
  reg acc[MR][NV];
  const float* rows[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    rows[i] = a.rows[i];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
  }
  float* const out = a.scores ? a.scores : a.stage->scores;
  const unsigned valid = a.valid >= 32 ? ~0u : (1u << a.valid) - 1;
  int k = 0;
  for (int b = 0; b < a.nb; ++b) {
    const int end = a.bounds[b];
    for (; k < end; ++k) {
      const float* p = a.panel + static_cast<size_t>(k) * NR;
      reg pv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) pv[v] = V::load(p + v * V::width);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const reg q = V::broadcast(rows[i] + k);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = V::fmadd(q, pv[v], acc[i][v]);
      }
    }
    // The previous tile's keys, appended here: after this segment's multiply-adds are issued.
    if (b == 0 && a.pending) append_staged_simd<V, NR>(*a.pending, a.limit, a.full);
    // Cosine at this boundary: (dot * 1/|q|) * 1/|c|, in that order on every ISA.
    reg ic[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) ic[v] = V::load(a.inv_c + b * NR + v * V::width);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const int t = b * MR + i;
      const reg iq = V::broadcast(a.inv_q + t);
      reg s[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        s[v] = V::mul(V::mul(acc[i][v], iq), ic[v]);
        V::store(out + static_cast<size_t>(t) * NR + v * V::width, s[v]);
      }
      if (a.scores) continue;
      // The threshold test as a vector compare, staged: no branch on its outcome.
      const reg th = V::broadcast(a.thresh + t);
      unsigned mask = 0;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) mask |= V::ge(s[v], th) << (v * V::width);
      a.stage->masks[t] = mask & valid;
    }
  }
}

// append_keys without a compress instruction: through memory, one set bit at a time.
template <class V>
int append_keys_scalar(typename V::reg s, unsigned m, long long row0, Key* dst) {
  alignas(64) float lanes[V::width];
  V::store(lanes, s);
  int n = 0;
  for (; m; m &= m - 1) {
    const int j = __builtin_ctz(m);
    dst[n++] = hit_key(lanes[j], static_cast<int32_t>(row0 + j));
  }
  return n;
}

}  // namespace embbench
