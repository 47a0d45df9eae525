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
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  static void store(float* p, reg a) { _mm512_store_ps(p, a); }
  static float hmax(reg a) {  // AVX512F-only shuffles (no DQ), then SSE for the last 4
    __m512 t = _mm512_max_ps(a, _mm512_shuffle_f32x4(a, a, _MM_SHUFFLE(1, 0, 3, 2)));
    t = _mm512_max_ps(t, _mm512_shuffle_f32x4(t, t, _MM_SHUFFLE(2, 3, 0, 1)));
    __m128 m = _mm512_castps512_ps128(t);
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
  }
};

void tile(const TileArgs& a) { tile_simd<Avx512, 8, 2>(a); }

}  // namespace

const Kernel& kernel_avx512() {
  static const Kernel k{"avx512", 8, 32, tile};
  return k;
}

}  // namespace embbench
