// The tile kernel written once over a small vector type; kernels_avx2.cc and
// kernels_avx512.cc instantiate it with their own intrinsics and compile flags, so the
// logic tested on one ISA is the logic that runs on the other.
#pragma once
#include "kernels.h"

namespace embbench {

// V provides: type reg, static constexpr int width, zero(), load(p), broadcast(p),
// fmadd(a, b, c), mul(a, b), max(a, b), store(p, a), hmax(a).
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
      float* out = a.scores + static_cast<size_t>(b * MR + i) * NR;
      reg m = V::mul(V::mul(acc[i][0], iq), ic[0]);
      V::store(out, m);
#pragma GCC unroll 4
      for (int v = 1; v < NV; ++v) {
        const reg s = V::mul(V::mul(acc[i][v], iq), ic[v]);
        V::store(out + v * V::width, s);
        m = V::max(m, s);
      }
      a.row_max[b * MR + i] = V::hmax(m);
    }
  }
}

}  // namespace embbench
