// The quantized first stage with AVX-512 (native/quant.h): Hamming with VPOPCNTDQ (xor and mask
// in one vpternlogq), the dot products with VNNI's vpdpbusd (unsigned corpus bytes x signed query
// bytes, four products a lane per instruction). Four panels at once, so four independent
// accumulator chains hide the instructions' latency. Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx512vpopcntdq -mavx512vnni; cpu_features.cc runs it only where the CPU has them.
#include <immintrin.h>

#include "quant.h"

namespace embbench {
namespace {

template <int P>
void hamming_panels(const QuantTileArgs& a, int p) {
  __m512i acc[P];
  for (int i = 0; i < P; ++i) acc[i] = _mm512_setzero_si512();
  for (int s = 0; s < a.nsteps; ++s) {
    const QStep& st = a.steps[s];
    const __m512i q = _mm512_set1_epi64(static_cast<long long>(st.q));
    const __m512i m = _mm512_set1_epi64(static_cast<long long>(st.mask));
    for (int i = 0; i < P; ++i) {
      const __m512i c = _mm512_loadu_si512(a.panels + (p + i) * a.panel_bytes + static_cast<size_t>(st.unit) * 64);
      // (c ^ q) & m: truth table 0x28 over (A = c, B = q, C = m)
      acc[i] = _mm512_add_epi64(acc[i], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(c, q, m, 0x28)));
    }
    if (st.record >= 0) {
      const int b = st.record;
      const __m512i t = _mm512_set1_epi64(a.thresh[b]);
      for (int i = 0; i < P; ++i) {
        const size_t at = static_cast<size_t>(p + i) * a.nb + b;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.values + at * kHammingLanes), _mm512_cvtepi64_epi32(acc[i]));
        a.masks[at] = _mm512_cmplt_epi64_mask(acc[i], t);
      }
    }
  }
}

void hamming(const QuantTileArgs& a) {
  int p = 0;
  for (; p + 4 <= a.npanels; p += 4) hamming_panels<4>(a, p);
  for (; p < a.npanels; ++p) hamming_panels<1>(a, p);
}

template <int P>
void dot_panels(const QuantTileArgs& a, int p) {
  __m512i acc[P];
  for (int i = 0; i < P; ++i) acc[i] = _mm512_setzero_si512();
  for (int s = 0; s < a.nsteps; ++s) {
    const QStep& st = a.steps[s];
    const __m512i q = _mm512_set1_epi32(static_cast<int32_t>(st.q));
    for (int i = 0; i < P; ++i) {
      const __m512i c = _mm512_loadu_si512(a.panels + (p + i) * a.panel_bytes + static_cast<size_t>(st.unit) * 64);
      acc[i] = _mm512_dpbusd_epi32(acc[i], c, q);
    }
    if (st.record >= 0) {
      const int b = st.record;
      const __m512i qb = _mm512_set1_epi32(a.qbias ? a.qbias[b] : 0);
      const __m512i t = _mm512_set1_epi32(a.thresh[b]);
      for (int i = 0; i < P; ++i) {
        const size_t at = static_cast<size_t>(p + i) * a.nb + b;
        __m512i v = _mm512_add_epi32(acc[i], qb);
        if (a.rowbias) v = _mm512_add_epi32(v, _mm512_loadu_si512(a.rowbias + at * kDotLanes));
        _mm512_storeu_si512(a.values + at * kDotLanes, v);
        a.masks[at] = _mm512_cmpge_epi32_mask(v, t);
      }
    }
  }
}

void dot(const QuantTileArgs& a) {
  int p = 0;
  for (; p + 4 <= a.npanels; p += 4) dot_panels<4>(a, p);
  for (; p < a.npanels; ++p) dot_panels<1>(a, p);
}

}  // namespace

const QuantKernel& quant_kernel_avx512() {
  static const QuantKernel k{"avx512", hamming, dot};
  return k;
}

}  // namespace embbench
