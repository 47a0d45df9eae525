// AVX2 + FMA micro-kernel: 6 query rows x 16 corpus rows (12 accumulators).
// Compiled with -mavx2 -mfma for this file only; chosen at run time (cpu_features.cc).
#include <immintrin.h>

#include "kernels_simd.h"

namespace embbench {

// 8 x 8 transpose of r[0..7] in place (also the AVX-512 prefix sums').
void transpose8(__m256* r) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x20);
    r[4 + i] = _mm256_permute2f128_ps(u[i], u[4 + i], 0x31);
  }
}

namespace {

struct Avx2 {
  using reg = __m256;
  static constexpr int width = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_load_ps(p); }
  static reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static void store(float* p, reg a) { _mm256_store_ps(p, a); }
  static unsigned ge(reg a, reg b) {
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_GE_OQ)));
  }
};

// panel[k * 16 + j] = row j's column k: 8 x 8 blocks transposed in registers.
void pack(const float* src, long long stride, int valid, int depth, void* out) {
  float* panel = static_cast<float*>(out);
  for (int j0 = 0; j0 < 16; j0 += 8) {
    int k = 0;
    for (; k + 8 <= depth; k += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i)
        r[i] = j0 + i < valid ? _mm256_loadu_ps(src + (j0 + i) * stride + k) : _mm256_setzero_ps();
      transpose8(r);
      for (int i = 0; i < 8; ++i) _mm256_store_ps(panel + (k + i) * 16 + j0, r[i]);
    }
    for (; k < depth; ++k)
      for (int i = 0; i < 8; ++i) panel[k * 16 + j0 + i] = j0 + i < valid ? src[(j0 + i) * stride + k] : 0.0f;
  }
}

}  // namespace

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

}  // namespace

// Kernel::rescore of the AVX2 and AVX-512 kernels: eight pairs a vector, lane t computing
// fma(x_t[k], y_t[k], acc) for k in order, as tile_simd's lanes do. Sixteen pairs at a time (two
// chains of fused multiply-adds that overlap), eight columns at a time between bounds: the x
// side's blocks are transposed into a buffer that the multiply-adds read, the y side's stay in
// registers; a block that a bound cuts short takes masked loads.
void rescore_avx2(const RescoreArgs& a) {
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

namespace {

void tile(const TileArgs& a) { tile_simd<Avx2, 6, 2>(a); }
void tile1(const TileArgs& a) { tile_simd<Avx2, 1, 2>(a); }

}  // namespace

const Kernel& kernel_avx2() {
  static const Kernel k{"avx2", 6, 16, tile, tile1, rescore_avx2, pack};
  return k;
}

}  // namespace embbench
