// The quantized first stage with AVX2 and POPCNT (native/quant.h): Hamming with the POPCNT
// instruction, the dot products widened to 16 bits and summed in pairs by vpmaddwd (vpmaddubsw
// would saturate: 255 x 128 x 2 > 32767). Compiled with -mavx2 -mpopcnt.
#include <immintrin.h>

#include <cstring>

#include "quant.h"

namespace embbench {
namespace {

void hamming1(const QuantTileArgs& a) {
  int p = 0;
  // two panels at once: sixteen independent popcount chains
  for (; p < a.npanels; p += 2) {
    const int np = a.npanels - p >= 2 ? 2 : 1;
    int32_t acc[2][kHammingLanes] = {};
    for (int s = 0; s < a.nsteps; ++s) {
      const QStep& st = a.steps[0][s];
      for (int i = 0; i < np; ++i) {
        const uint64_t* unit = reinterpret_cast<const uint64_t*>(a.panels + (p + i) * a.panel_bytes) +
                               static_cast<size_t>(st.unit) * kHammingLanes;
        for (int j = 0; j < kHammingLanes; ++j)
          acc[i][j] += static_cast<int32_t>(_mm_popcnt_u64((unit[j] ^ st.q) & st.mask));
      }
      if (st.record >= 0) {
        const int b = st.record;
        for (int i = 0; i < np; ++i) {
          int32_t* values = a.values[0] + (static_cast<size_t>(p + i) * a.nb + b) * kHammingLanes;
          uint32_t m = 0;
          for (int j = 0; j < kHammingLanes; ++j) {
            values[j] = acc[i][j];
            m |= static_cast<uint32_t>(acc[i][j] < a.thresh[0][b]) << j;
          }
          a.masks[0][static_cast<size_t>(p + i) * a.nb + b] = m;
          a.any[0][b] |= static_cast<uint64_t>(m != 0) << (p + i);
        }
      }
    }
  }
}

// 8 int32 pair sums of 4 lanes (lane l: elements 2l, 2l + 1) and 8 of the next 4 -> the 8 lanes' sums in order.
inline __m256i lane_sums(__m256i x, __m256i y) { return _mm256_permute4x64_epi64(_mm256_hadd_epi32(x, y), 0xD8); }

void dot1(const QuantTileArgs& a) {
  for (int p = 0; p < a.npanels; ++p) {
    const uint8_t* panel = a.panels + p * a.panel_bytes;
    __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    const int32_t* rowbias = a.rowbias ? a.rowbias + static_cast<size_t>(p) * a.nb * kDotLanes : nullptr;
    for (int s = 0; s < a.nsteps; ++s) {
      const QStep& st = a.steps[0][s];
      const uint8_t* unit = panel + static_cast<size_t>(st.unit) * kDotLanes * 4;
      // the query's 4 signed bytes as 16-bit words, repeated: (q0 q1)(q2 q3) for every lane
      const __m256i q = _mm256_cvtepi8_epi16(_mm_set1_epi32(static_cast<int32_t>(st.q)));
      acc0 = _mm256_add_epi32(
          acc0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(unit))), q));
      acc1 = _mm256_add_epi32(
          acc1,
          _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(unit + 16))), q));
      acc2 = _mm256_add_epi32(
          acc2,
          _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(unit + 32))), q));
      acc3 = _mm256_add_epi32(
          acc3,
          _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(unit + 48))), q));
      if (st.record >= 0) {
        const int b = st.record;
        __m256i lo = lane_sums(acc0, acc1), hi = lane_sums(acc2, acc3);
        const __m256i qb = _mm256_set1_epi32(a.qbias[0] ? a.qbias[0][b] : 0);
        lo = _mm256_add_epi32(lo, qb);
        hi = _mm256_add_epi32(hi, qb);
        if (rowbias) {
          lo = _mm256_add_epi32(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rowbias + b * kDotLanes)));
          hi = _mm256_add_epi32(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rowbias + b * kDotLanes + 8)));
        }
        int32_t* values = a.values[0] + (static_cast<size_t>(p) * a.nb + b) * kDotLanes;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(values), lo);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(values + 8), hi);
        // v >= t  <=>  !(t > v)
        const __m256i t = _mm256_set1_epi32(a.thresh[0][b]);
        const uint32_t below =
            static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(t, lo)))) |
            (static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(t, hi)))) << 8);
        const uint32_t m = ~below & 0xFFFFu;
        a.masks[0][static_cast<size_t>(p) * a.nb + b] = m;
        a.any[0][b] |= static_cast<uint64_t>(m != 0) << p;
      }
    }
  }
}

void hamming(const QuantTileArgs& a) { each_query(a, hamming1); }
void dot(const QuantTileArgs& a) { each_query(a, dot1); }

}  // namespace

const QuantKernel& quant_kernel_avx2() {
  static const QuantKernel k{"avx2", hamming, dot};
  return k;
}

}  // namespace embbench
