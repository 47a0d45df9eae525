// The tile kernel written once over a small vector type; kernels_avx2.cc and
// kernels_avx512.cc instantiate it with their own intrinsics and compile flags, so the
// logic tested on one ISA is the logic that runs on the other.
#pragma once
#include "kernels.h"

namespace embbench {

// V provides: type reg, static constexpr int width, zero(), load(p), broadcast(p),
// fmadd(a, b, c), mul(a, b), store(p, a) and ge(a, b) (bit j: a[j] >= b[j]).
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
    if (b == 0 && a.pending) append_staged(*a.pending, NR, a.limit, a.full);
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

}  // namespace embbench
