// AVX512_BF16 first-stage micro-kernel (vdpbf16ps: two bf16 products per fp32 lane and
// instruction, twice the fp32 FMA's work): 8 query rows x 32 corpus rows. Rows and panels hold
// bf16 bits: a query row is uint16[max_dim]; the panel is pairs, panel[(k/2) * 64 + 2j + k%2].
// Every bound is even. Accumulation is fp32 (round to nearest; denormals flushed), and the
// scores are scaled as the fp32 kernels scale them. Compiled with -mavx512bf16 for this file only.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels.h"

namespace embbench {
namespace {

constexpr int MR = 8;
constexpr int NR = 32;

void tile(const TileArgs& a) {
  __m512 acc[MR][2];
  const uint16_t* rows[MR];
  for (int i = 0; i < MR; ++i) {
    rows[i] = reinterpret_cast<const uint16_t*>(a.rows[i]);
    acc[i][0] = _mm512_setzero_ps();
    acc[i][1] = _mm512_setzero_ps();
  }
  const uint16_t* panel = reinterpret_cast<const uint16_t*>(a.panel);
  int k = 0;
  for (int b = 0; b < a.nb; ++b) {
    const int end = a.bounds[b];
    for (; k < end; k += 2) {
      const uint16_t* p = panel + static_cast<size_t>(k / 2) * (2 * NR);
      const __m512bh c0 = (__m512bh)_mm512_load_si512(p);
      const __m512bh c1 = (__m512bh)_mm512_load_si512(p + NR);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        int32_t pair;
        std::memcpy(&pair, rows[i] + k, sizeof pair);
        const __m512bh q = (__m512bh)_mm512_set1_epi32(pair);
        acc[i][0] = _mm512_dpbf16_ps(acc[i][0], q, c0);
        acc[i][1] = _mm512_dpbf16_ps(acc[i][1], q, c1);
      }
    }
    const __m512 ic0 = _mm512_load_ps(a.inv_c + b * NR);
    const __m512 ic1 = _mm512_load_ps(a.inv_c + b * NR + 16);
    for (int i = 0; i < MR; ++i) {
      const __m512 iq = _mm512_set1_ps(a.inv_q[b * MR + i]);
      float* out = a.scores + static_cast<size_t>(b * MR + i) * NR;
      const __m512 s0 = _mm512_mul_ps(_mm512_mul_ps(acc[i][0], iq), ic0);
      const __m512 s1 = _mm512_mul_ps(_mm512_mul_ps(acc[i][1], iq), ic1);
      _mm512_store_ps(out, s0);
      _mm512_store_ps(out + 16, s1);
      const __m512 t = _mm512_set1_ps(a.thresh[b * MR + i]);
      a.mask[b * MR + i] = static_cast<unsigned>(_mm512_cmp_ps_mask(s0, t, _CMP_GE_OQ)) |
                           static_cast<unsigned>(_mm512_cmp_ps_mask(s1, t, _CMP_GE_OQ)) << 16;
    }
  }
}

}  // namespace

const Kernel& kernel_avx512bf16() {
  static const Kernel k{"avx512bf16", MR, NR, tile, nullptr, nullptr, true};
  return k;
}

}  // namespace embbench
