// The tile kernel written once over a small vector type; kernels_avx2.cc and
// kernels_avx512.cc instantiate it with their own intrinsics and compile flags, so the
// logic tested on one ISA is the logic that runs on the other.
#pragma once
#include "kernels.h"

namespace embbench {

// V provides: type reg, static constexpr int width, zero(), load(p), broadcast(p),
// fmadd(a, b, c), mul(a, b), store(p, a), ge(a, b) (bit j: a[j] >= b[j]), and
// append_keys(s, m, row0, dst): hit_key(s[j], row0 + j) for each set bit j of m, in order, at
// dst; returns how many (it may write up to `width` keys).
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
    const unsigned valid = a.valid >= 32 ? ~0u : (1u << a.valid) - 1;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const reg iq = V::broadcast(a.inv_q + b * MR + i);
      reg s[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) s[v] = V::mul(V::mul(acc[i][v], iq), ic[v]);
      if (a.scores) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) V::store(a.scores + static_cast<size_t>(b * MR + i) * NR + v * V::width, s[v]);
        continue;
      }
      // The threshold test as a vector compare; the passing lanes' keys are appended in place.
      const int t = b * MR + i;
      const reg th = V::broadcast(a.thresh + t);
      unsigned mask = 0;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) mask |= V::ge(s[v], th) << (v * V::width);
      mask &= valid;
      if (mask) {
        Key* dst = a.keys + t * a.stride + a.count[t];
        int n = 0;
        for (int v = 0; v < NV; ++v) {
          const unsigned m = (mask >> (v * V::width)) & ((1u << V::width) - 1);
          if (m) n += V::append_keys(s[v], m, a.row0 + v * V::width, dst + n);
        }
        if ((a.count[t] += n) >= a.limit) *a.full = true;
      }
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
