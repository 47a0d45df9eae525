// What the two AVX-512 kernels (kernels_avx512.cc, kernels_avx512bf16.cc) share. Included only by
// files compiled with -mavx512f. The append is inline in each: as a call it would make the tile
// kernels spill their accumulators (every vector register is caller-saved) on each hit.
#pragma once
#include <immintrin.h>

#include "kernels.h"

namespace embbench {

// 16 x 16 transpose of r[0..15] in place (also the bf16 kernel's pair packing; kernels_avx512.cc).
void transpose16(__m512* r);

// hit_key for the lanes of s set in m (16 bits), in lane order at dst (8 keys at a time,
// compressed in registers: the memory form of vpcompressq is slow on some cores), each 8 stored
// under a mask of the keys it holds (a full 64-byte store, for one key as often as not, touched
// two cache lines and left garbage past the end: bf16 runs 5-7% slower at k 100, measured);
// returns how many; m may be 0.
static inline int append_keys_avx512(__m512 s, unsigned m, long long row0, Key* dst) {
  s = _mm512_add_ps(s, _mm512_setzero_ps());  // -0 -> +0
  const __m512i u = _mm512_castps_si512(s);
  const __mmask16 neg = _mm512_cmplt_epi32_mask(u, _mm512_setzero_si512());
  const __m512i ordered = _mm512_mask_xor_epi32(_mm512_or_si512(u, _mm512_set1_epi32(INT32_MIN)), neg, u,
                                                _mm512_set1_epi32(-1));  // negative: ~u; else u | sign
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i row =
      _mm512_sub_epi32(_mm512_set1_epi32(static_cast<int>(0xFFFFFFFFu - static_cast<uint32_t>(row0))), lane);
  int n = 0;
  for (int h = 0; h < 2; ++h) {
    const __mmask8 mh = static_cast<__mmask8>(m >> (8 * h));  // (no branch on it: 0 stores nothing)
    const __m256i hi = h ? _mm512_extracti64x4_epi64(ordered, 1) : _mm512_castsi512_si256(ordered);
    const __m256i lo = h ? _mm512_extracti64x4_epi64(row, 1) : _mm512_castsi512_si256(row);
    const __m512i keys = _mm512_or_si512(_mm512_slli_epi64(_mm512_cvtepu32_epi64(hi), 32), _mm512_cvtepu32_epi64(lo));
    const int c = __builtin_popcount(mh);
    _mm512_mask_storeu_epi64(dst + n, static_cast<__mmask8>((1u << c) - 1), _mm512_maskz_compress_epi64(mh, keys));
    n += c;
  }
  return n;
}

namespace {

// The vector type of kernels_simd.h (internal to each file that includes this: the two files are
// compiled with different flags).
struct Avx512 {
  using reg = __m512;
  static constexpr int width = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_load_ps(p); }
  static reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static void store(float* p, reg a) { _mm512_store_ps(p, a); }
  static unsigned ge(reg a, reg b) { return static_cast<unsigned>(_mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)); }
  static int append_keys(reg s, unsigned m, long long row0, Key* dst) { return append_keys_avx512(s, m, row0, dst); }
};

}  // namespace

}  // namespace embbench
