// The quantized first stage with AVX-512 (native/quant.h): Hamming with VPOPCNTDQ (xor and mask
// in one vpternlogq), the dot products with VNNI's vpdpbusd (unsigned corpus bytes x signed query
// bytes, four products a lane per instruction). Up to four queries x two panels at once: each
// panel load serves four queries, and eight independent accumulator chains hide the latency. Compiled with -mavx512f
// -mavx512bw -mavx512vl -mavx512vpopcntdq -mavx512vnni; cpu_features.cc runs it only where the CPU has them.
#include <immintrin.h>

#include "quant.h"

namespace embbench {
namespace {

// Q queries x P panels: each panel unit is loaded once for the Q queries.
template <int Q, int P>
void hamming_panels(const QuantTileArgs& a, int p) {
  __m512i acc[Q][P];
  for (int j = 0; j < Q; ++j)
    for (int i = 0; i < P; ++i) acc[j][i] = _mm512_setzero_si512();
  // locals: the stores below may alias the arguments, which would otherwise be read again every step
  const QStep* steps[Q];
  for (int j = 0; j < Q; ++j) steps[j] = a.steps[j];
  const uint8_t* base = a.panels + p * a.panel_bytes;
  const long long stride = a.panel_bytes;
  const int nsteps = a.nsteps;
  for (int s = 0; s < nsteps; ++s) {
    const QStep& st = steps[0][s];
    const __m512i m = _mm512_set1_epi64(static_cast<long long>(st.mask));
    __m512i c[P];
    for (int i = 0; i < P; ++i) c[i] = _mm512_loadu_si512(base + i * stride + static_cast<size_t>(st.unit) * 64);
    for (int j = 0; j < Q; ++j) {
      const __m512i q = _mm512_set1_epi64(static_cast<long long>(steps[j][s].q));
      // (c ^ q) & m: truth table 0x28 over (A = c, B = q, C = m)
      for (int i = 0; i < P; ++i)
        acc[j][i] = _mm512_add_epi64(acc[j][i], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(c[i], q, m, 0x28)));
    }
    if (st.record >= 0) {
      const int b = st.record;
      for (int j = 0; j < Q; ++j) {
        const __m512i t = _mm512_set1_epi64(a.thresh[j][b]);
        for (int i = 0; i < P; ++i) {
          const size_t at = static_cast<size_t>(p + i) * a.nb + b;
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.values[j] + at * kHammingLanes),
                              _mm512_cvtepi64_epi32(acc[j][i]));
          const uint32_t mk = _mm512_cmplt_epi64_mask(acc[j][i], t);
          a.masks[j][at] = mk;
          a.any[j][b] |= static_cast<uint64_t>(mk != 0) << (p + i);
        }
      }
    }
  }
}

template <int Q, int P>
void dot_panels(const QuantTileArgs& a, int p) {
  __m512i acc[Q][P];
  for (int j = 0; j < Q; ++j)
    for (int i = 0; i < P; ++i) acc[j][i] = _mm512_setzero_si512();
  const QStep* steps[Q];
  for (int j = 0; j < Q; ++j) steps[j] = a.steps[j];
  const uint8_t* base = a.panels + p * a.panel_bytes;
  const long long stride = a.panel_bytes;
  const int nsteps = a.nsteps;
  for (int s = 0; s < nsteps; ++s) {
    const int unit = steps[0][s].unit;
    __m512i c[P];
    for (int i = 0; i < P; ++i) c[i] = _mm512_loadu_si512(base + i * stride + static_cast<size_t>(unit) * 64);
    for (int j = 0; j < Q; ++j) {
      const __m512i q = _mm512_set1_epi32(static_cast<int32_t>(steps[j][s].q));
      for (int i = 0; i < P; ++i) acc[j][i] = _mm512_dpbusd_epi32(acc[j][i], c[i], q);
    }
    const int b = steps[0][s].record;
    if (b >= 0) {
      for (int j = 0; j < Q; ++j) {
        const __m512i qb = _mm512_set1_epi32(a.qbias[j] ? a.qbias[j][b] : 0);
        const __m512i t = _mm512_set1_epi32(a.thresh[j][b]);
        for (int i = 0; i < P; ++i) {
          const size_t at = static_cast<size_t>(p + i) * a.nb + b;
          __m512i v = _mm512_add_epi32(acc[j][i], qb);
          if (a.rowbias) v = _mm512_add_epi32(v, _mm512_loadu_si512(a.rowbias + at * kDotLanes));
          _mm512_storeu_si512(a.values[j] + at * kDotLanes, v);
          const uint32_t mk = _mm512_cmpge_epi32_mask(v, t);
          a.masks[j][at] = mk;
          a.any[j][b] |= static_cast<uint64_t>(mk != 0) << (p + i);
        }
      }
    }
  }
}

struct Hamming {
  template <int Q, int P>
  static void panels(const QuantTileArgs& a, int p) {
    hamming_panels<Q, P>(a, p);
  }
};
struct Dot {
  template <int Q, int P>
  static void panels(const QuantTileArgs& a, int p) {
    dot_panels<Q, P>(a, p);
  }
};

// Q queries across the call's panels, two at a time, then the odd one.
template <class K, int Q>
void over_panels(const QuantTileArgs& a) {
  int p = 0;
  for (; p + 2 <= a.npanels; p += 2) K::template panels<Q, 2>(a, p);
  for (; p < a.npanels; ++p) K::template panels<Q, 1>(a, p);
}

template <class K>
void by_queries(const QuantTileArgs& a) {
  switch (a.nqueries) {
    case 4:
      return over_panels<K, 4>(a);
    case 3:
      return over_panels<K, 3>(a);
    case 2:
      return over_panels<K, 2>(a);
    default:
      return over_panels<K, 1>(a);
  }
}

void hamming(const QuantTileArgs& a) { by_queries<Hamming>(a); }
void dot(const QuantTileArgs& a) { by_queries<Dot>(a); }

}  // namespace

const QuantKernel& quant_kernel_avx512() {
  static const QuantKernel k{"avx512", hamming, dot};
  return k;
}

}  // namespace embbench
