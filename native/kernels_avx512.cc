// AVX-512F micro-kernel: 8 query rows x 32 corpus rows (16 accumulators of 32 registers).
// Compiled with -mavx512f for this file only; chosen at run time (cpu_features.cc).
#include <immintrin.h>

#include "kernels_simd.h"

namespace embbench {

// 16 x 16 transpose of r[0..15] in place (also the bf16 kernel's pair packing).
void transpose16(__m512* r) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(u[i], u[4 + i], 0x88);
    t[4 + i] = _mm512_shuffle_f32x4(u[i], u[4 + i], 0xDD);
    t[8 + i] = _mm512_shuffle_f32x4(u[8 + i], u[12 + i], 0x88);
    t[12 + i] = _mm512_shuffle_f32x4(u[8 + i], u[12 + i], 0xDD);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xDD);
    r[4 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0x88);
    r[12 + i] = _mm512_shuffle_f32x4(t[4 + i], t[12 + i], 0xDD);
  }
}

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

// panel[k * 32 + j] = row j's column k: 16 x 16 blocks transposed in registers.
void pack(const float* src, long long stride, int valid, int depth, void* out) {
  float* panel = static_cast<float*>(out);
  for (int j0 = 0; j0 < 32; j0 += 16) {
    int k = 0;
    for (; k + 16 <= depth; k += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = j0 + i < valid ? _mm512_loadu_ps(src + (j0 + i) * stride + k) : _mm512_setzero_ps();
      transpose16(r);
      for (int i = 0; i < 16; ++i) _mm512_store_ps(panel + (k + i) * 32 + j0, r[i]);
    }
    for (; k < depth; ++k)
      for (int i = 0; i < 16; ++i) panel[k * 32 + j0 + i] = j0 + i < valid ? src[(j0 + i) * stride + k] : 0.0f;
  }
}

void tile(const TileArgs& a) { tile_simd<Avx512, 8, 2>(a); }
void tile1(const TileArgs& a) { tile_simd<Avx512, 1, 2>(a); }

}  // namespace

const Kernel& kernel_avx512() {
  static const Kernel k{"avx512", 8, 32, tile, tile1, rescore_fma, pack};
  return k;
}

}  // namespace embbench
