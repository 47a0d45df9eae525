// AVX2 + FMA micro-kernel: 6 query rows x 16 corpus rows (12 accumulators).
// Compiled with -mavx2 -mfma for this file only; chosen at run time (cpu_features.cc).
#include <immintrin.h>

#include "kernels_simd.h"

namespace embbench {
namespace {

struct Avx2 {
  using reg = __m256;
  static constexpr int width = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_load_ps(p); }
  static reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  static void store(float* p, reg a) { _mm256_store_ps(p, a); }
  static float hmax(reg a) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
  }
};

void tile(const TileArgs& a) { tile_simd<Avx2, 6, 2>(a); }

}  // namespace

const Kernel& kernel_avx2() {
  static const Kernel k{"avx2", 6, 16, tile};
  return k;
}

}  // namespace embbench
