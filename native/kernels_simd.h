// The tile kernel written once over a small vector type; kernels_avx2.cc and
// kernels_avx512.cc instantiate it with their own intrinsics and compile flags, so the
// logic tested on one ISA is the logic that runs on the other.
#pragma once
#include "kernels.h"

namespace embbench {

// V provides: type reg, static constexpr int width, zero(), load(p), broadcast(p),
// fmadd(a, b, c), mul(a, b), store(p, a), ge(a, b) (bit j: a[j] >= b[j]).
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
    // Cosine at this boundary: (dot * 1/|q|) * 1/|c|, in that order on every ISA.
    reg ic[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) ic[v] = V::load(a.inv_c + b * NR + v * V::width);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const reg iq = V::broadcast(a.inv_q + b * MR + i);
      const reg t = V::broadcast(a.thresh + b * MR + i);
      float* out = a.scores + static_cast<size_t>(b * MR + i) * NR;
      unsigned mask = 0;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const reg s = V::mul(V::mul(acc[i][v], iq), ic[v]);
        V::store(out + v * V::width, s);
        mask |= V::ge(s, t) << (v * V::width);  // the threshold test, fused: no scalar pass
      }
      a.mask[b * MR + i] = mask;
    }
  }
}

// Rescoring for the FMA kernels (compiled with -mfma): each lane of tile_simd computes
// acc = fma(q[k], c[k], acc) for k in order from acc = 0, then (acc * iq) * ic; this does the
// same per pair with scalar fused multiply-adds, eight pairs at a time for throughput.
inline void rescore_fma(const RescoreArgs& a) {
  constexpr int T = 8;
  for (int t0 = 0; t0 < a.n; t0 += T) {
    const int m = a.n - t0 < T ? a.n - t0 : T;
    const float* c[T];
    for (int t = 0; t < T; ++t) c[t] = a.corpus + static_cast<long long>(a.rows[t0 + (t < m ? t : m - 1)]) * a.dim;
    float acc[T] = {};
    int k = 0;
    for (int b = 0; b < a.nb; ++b) {
      const int end = a.bounds[b];
      for (; k < end; ++k) {
        const float q = a.query[k];
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) acc[t] = __builtin_fmaf(q, c[t][k], acc[t]);
      }
      for (int t = 0; t < m; ++t)
        a.out[b * a.n + t0 + t] = (acc[t] * a.inv_q[b]) * a.inv_c[static_cast<long long>(b) * a.nc + a.rows[t0 + t]];
    }
  }
}

}  // namespace embbench
