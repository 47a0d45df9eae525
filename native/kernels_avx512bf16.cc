// AVX512_BF16 first-stage micro-kernel (vdpbf16ps: two bf16 products per fp32 lane and
// instruction, twice the fp32 FMA's work): 8 query rows x 32 corpus rows. Rows and panels hold
// bf16 bits: a query row is uint16[max_dim]; the panel is pairs, panel[(k/2) * 64 + 2j + k%2].
// Every bound is even. Accumulation is fp32 (round to nearest; denormals flushed), and the
// scores are scaled as the fp32 kernels scale them. Compiled with -mavx512bf16 for this file only.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "engine.h"
#include "kernels.h"

namespace embbench {

void transpose16(__m512* r);  // kernels_avx512.cc

namespace {

constexpr int MR = 8;
constexpr int NR = 32;

void tile(const TileArgs& a) {
  __m512 acc[MR][2];
  const uint16_t* rows[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    rows[i] = reinterpret_cast<const uint16_t*>(a.rows[i]);
    acc[i][0] = _mm512_setzero_ps();
    acc[i][1] = _mm512_setzero_ps();
  }
  const uint16_t* panel = reinterpret_cast<const uint16_t*>(a.panel);
  float* const out = a.scores ? a.scores : a.stage->scores;
  const unsigned valid = a.valid >= 32 ? ~0u : (1u << a.valid) - 1;
  int k = 0;
  for (int b = 0; b < a.nb; ++b) {
    const int end = a.bounds[b];
    for (; k < end; k += 2) {
      const uint16_t* p = panel + static_cast<size_t>(k) * NR;  // pair row k / 2 (k is even)
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
    // The previous tile's keys, appended here: after this segment's products are issued.
    if (b == 0 && a.pending) append_staged(*a.pending, NR, a.limit, a.full);
    const __m512 ic0 = _mm512_load_ps(a.inv_c + b * NR);
    const __m512 ic1 = _mm512_load_ps(a.inv_c + b * NR + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const int t = b * MR + i;
      const __m512 iq = _mm512_set1_ps(a.inv_q[t]);
      const __m512 s0 = _mm512_mul_ps(_mm512_mul_ps(acc[i][0], iq), ic0);
      const __m512 s1 = _mm512_mul_ps(_mm512_mul_ps(acc[i][1], iq), ic1);
      _mm512_store_ps(out + static_cast<size_t>(t) * NR, s0);
      _mm512_store_ps(out + static_cast<size_t>(t) * NR + 16, s1);
      if (a.scores) continue;  // every score (the sample, the bound check)
      // The threshold test, staged: no branch on its outcome.
      const __m512 th = _mm512_set1_ps(a.thresh[t]);
      a.stage->masks[t] = (static_cast<unsigned>(_mm512_cmp_ps_mask(s0, th, _CMP_GE_OQ)) |
                           static_cast<unsigned>(_mm512_cmp_ps_mask(s1, th, _CMP_GE_OQ)) << 16) &
                          valid;
    }
  }
}

// round_bf16's bits (engine.h) for 16 floats, in the high half of each lane: round to nearest
// even, then a result with a zero exponent (a denormal) becomes a signed zero.
inline __m512i round_bf16_bits(const float* p) {
  __m512i u = _mm512_castps_si512(_mm512_loadu_ps(p));
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  u = _mm512_add_epi32(u, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), odd));
  u = _mm512_and_si512(u, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u)));
  const __mmask16 normal = _mm512_test_epi32_mask(u, _mm512_set1_epi32(0x7F800000));
  return _mm512_mask_blend_epi32(normal, _mm512_and_si512(u, _mm512_set1_epi32(static_cast<int>(0x80000000u))), u);
}

// The panel as bf16 pairs: 32-bit lane j of pair row k/2 is row j's (k, k+1) bf16 bits, so
// packing is the fp32 transpose over pairs: 32 floats of a row become 16 pairs, 16 rows x 16
// pairs are transposed in registers.
void pack(const float* src, long long stride, int valid, int depth, void* out) {
  uint32_t* panel = static_cast<uint32_t*>(out);
  alignas(64) static constexpr uint16_t kHigh[32] = {1,  3,  5,  7,  9,  11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31,
                                                     33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63};
  const __m512i high = _mm512_load_si512(kHigh);
  const int pairs = depth / 2;
  for (int j0 = 0; j0 < NR; j0 += 16) {
    int p = 0;
    for (; p + 16 <= pairs; p += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) {
        if (j0 + i >= valid) {
          r[i] = _mm512_setzero_ps();
          continue;
        }
        const float* row = src + (j0 + i) * stride + 2 * p;
        r[i] = _mm512_castsi512_ps(_mm512_permutex2var_epi16(round_bf16_bits(row), high, round_bf16_bits(row + 16)));
      }
      transpose16(r);
      for (int i = 0; i < 16; ++i) _mm512_store_ps(reinterpret_cast<float*>(panel + (p + i) * NR + j0), r[i]);
    }
    for (; p < pairs; ++p)
      for (int i = 0; i < 16; ++i) {
        uint32_t pair = 0;
        if (j0 + i < valid) {
          const float* x = src + (j0 + i) * stride + 2 * p;
          uint32_t lo, hi;
          const float a = round_bf16(x[0]), b = round_bf16(x[1]);
          std::memcpy(&lo, &a, sizeof lo);
          std::memcpy(&hi, &b, sizeof hi);
          pair = (lo >> 16) | (hi & 0xFFFF0000u);
        }
        panel[p * NR + j0 + i] = pair;
      }
  }
}

}  // namespace

const Kernel& kernel_avx512bf16() {
  static const Kernel k{
      "avx512bf16", MR, NR, tile, nullptr, nullptr, pack, true, partition_avx512, prefix_sums_avx512, sort_avx512,
  };
  return k;
}

}  // namespace embbench
