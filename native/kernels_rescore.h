// Kernel::rescore written once in 256-bit intrinsics and compiled twice: by kernels_avx2.cc
// (16 vector registers) and by kernels_avx512.cc with AVX-512VL (32, so that the transposes'
// registers do not spill: about 7% faster in a microbenchmark of the rescoring's pairs). Each
// includer gets its own copy (an unnamed namespace), built with its own flags.
#pragma once
#include <immintrin.h>

#include "kernels.h"

namespace embbench {

void transpose8(__m256* r);  // kernels_avx2.cc

namespace {

// Eight vectors (p[i] + k0, eight floats each) transposed: lane i of out[j] is p[i][k0 + j]. The
// rows are read in 128-bit halves, row i's beside row i + 4's, so that only in-lane 4 x 4
// transposes remain (16 shuffles, none crossing lanes, against transpose8's 24).
inline void load_transposed8(const float* const* p, int k0, __m256* out) {
  __m256 r[8];
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p[i] + k0)), _mm_loadu_ps(p[i + 4] + k0), 1);
    r[4 + i] =
        _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p[i] + k0 + 4)), _mm_loadu_ps(p[i + 4] + k0 + 4), 1);
  }
  for (int h = 0; h < 2; ++h) {
    const __m256* s = r + 4 * h;
    const __m256 t0 = _mm256_unpacklo_ps(s[0], s[1]), t1 = _mm256_unpackhi_ps(s[0], s[1]);
    const __m256 t2 = _mm256_unpacklo_ps(s[2], s[3]), t3 = _mm256_unpackhi_ps(s[2], s[3]);
    out[4 * h + 0] = _mm256_shuffle_ps(t0, t2, 0x44);
    out[4 * h + 1] = _mm256_shuffle_ps(t0, t2, 0xEE);
    out[4 * h + 2] = _mm256_shuffle_ps(t1, t3, 0x44);
    out[4 * h + 3] = _mm256_shuffle_ps(t1, t3, 0xEE);
  }
}

// Kernel::rescore: eight pairs a vector, lane t computing fma(x_t[k], y_t[k], acc) for k in order,
// as tile_simd's lanes do. Sixteen pairs at a time (two chains of fused multiply-adds that
// overlap), eight columns at a time between bounds: the x side's blocks are transposed into a
// buffer that the multiply-adds read, the y side's stay in registers; a block that a bound cuts
// short takes masked loads.
inline void rescore_ymm(const RescoreArgs& a) {
  alignas(32) float lanes[16];
  alignas(32) __m256 xt[16];
  for (int t0 = 0; t0 < a.n; t0 += 16) {
    const int m = a.n - t0 < 16 ? a.n - t0 : 16;
    const float *x[16], *y[16];
    for (int t = 0; t < 16; ++t) {
      x[t] = a.x[t0 + (t < m ? t : m - 1)];
      y[t] = a.y[t0 + (t < m ? t : m - 1)];
    }
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int k0 = 0;
    for (int b = 0; b < a.nb; ++b) {
      const int end = a.bounds[b];
      for (; k0 + 8 <= end; k0 += 8) {
        __m256 ys[8];
        load_transposed8(x, k0, xt);
        load_transposed8(x + 8, k0, xt + 8);
        load_transposed8(y, k0, ys);
        for (int i = 0; i < 8; ++i) acc0 = _mm256_fmadd_ps(xt[i], ys[i], acc0);
        load_transposed8(y + 8, k0, ys);
        for (int i = 0; i < 8; ++i) acc1 = _mm256_fmadd_ps(xt[8 + i], ys[i], acc1);
      }
      if (k0 < end) {
        const int w = end - k0;
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(w), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int h = 0; h < 2; ++h) {
          __m256 xs[8], ys[8];
          for (int t = 0; t < 8; ++t) {
            xs[t] = _mm256_maskload_ps(x[8 * h + t] + k0, mask);
            ys[t] = _mm256_maskload_ps(y[8 * h + t] + k0, mask);
          }
          transpose8(xs);
          transpose8(ys);
          __m256& acc = h ? acc1 : acc0;
          for (int i = 0; i < w; ++i) acc = _mm256_fmadd_ps(xs[i], ys[i], acc);
        }
        k0 = end;
      }
      _mm256_store_ps(lanes, acc0);
      _mm256_store_ps(lanes + 8, acc1);
      for (int t = 0; t < m; ++t) a.out[(t0 + t) * a.nb + b] = lanes[t];
    }
  }
}

}  // namespace
}  // namespace embbench
