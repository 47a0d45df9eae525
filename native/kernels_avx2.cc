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
  static void store(float* p, reg a) { _mm256_store_ps(p, a); }
  static unsigned ge(reg a, reg b) {
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_GE_OQ)));
  }
};

void tile(const TileArgs& a) { tile_simd<Avx2, 6, 2>(a); }
void tile1(const TileArgs& a) { tile_simd<Avx2, 1, 2>(a); }

}  // namespace

const Kernel& kernel_avx2() {
  static const Kernel k{"avx2", 6, 16, tile, tile1, rescore_fma};
  return k;
}

}  // namespace embbench
