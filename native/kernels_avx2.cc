// AVX2 + FMA micro-kernel: 6 query rows x 16 corpus rows (12 accumulators).
// Compiled with -mavx2 -mfma for this file only; chosen at run time (cpu_features.cc).
#include <immintrin.h>

#include "kernels_rescore.h"
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

void tile(const TileArgs& a) { tile_simd<Avx2, 6, 2>(a); }
void tile1(const TileArgs& a) { tile_simd<Avx2, 1, 2>(a); }

}  // namespace

const Kernel& kernel_avx2() {
  static const Kernel k{"avx2", 6, 16, tile, tile1, rescore_ymm, pack};
  return k;
}

}  // namespace embbench
