// AVX-512F micro-kernel: 8 query rows x 32 corpus rows (16 accumulators of 32 registers).
// Compiled with -mavx512f for this file only; chosen at run time (cpu_features.cc).
#include <immintrin.h>

#include "kernels_simd.h"

namespace embbench {
namespace {

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
};

void tile(const TileArgs& a) { tile_simd<Avx512, 8, 2>(a); }
void tile1(const TileArgs& a) { tile_simd<Avx512, 1, 2>(a); }

}  // namespace

const Kernel& kernel_avx512() {
  static const Kernel k{"avx512", 8, 32, tile, tile1, rescore_fma};
  return k;
}

}  // namespace embbench
