// AVX-512F micro-kernel: 8 query rows x 32 corpus rows (16 accumulators of 32 registers).
// Compiled with -mavx512f -mavx512vl -mfma for this file only; chosen at run time (cpu_features.cc).
#include <immintrin.h>

#include "kernels_rescore.h"
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

long long partition_avx512(const Key* a, long long n, Key pivot, Key* hi, Key* lo) {
  const __m512i p = _mm512_set1_epi64(static_cast<long long>(pivot));
  long long l = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512i v = _mm512_loadu_si512(a + i);
    const __mmask8 up = _mm512_cmpge_epu64_mask(v, p);
    // compressed in registers, stored whole (the memory form of vpcompressq is slow on some cores)
    _mm512_storeu_si512(hi + l, _mm512_maskz_compress_epi64(up, v));
    _mm512_storeu_si512(lo + (i - l), _mm512_maskz_compress_epi64(static_cast<__mmask8>(~up), v));
    l += __builtin_popcount(up);
  }
  for (; i < n; ++i) {
    hi[l] = a[i];
    lo[i - l] = a[i];
    l += a[i] >= pivot;
  }
  return l;
}

// Each key's place is the number of keys above it (they are unique): 32 keys' counts at a time
// in vector registers, every key broadcast against them, a compare and a masked add each. n^2 / 8
// vector operations without a data-dependent branch; at n = 100 about 2.5x faster than std::sort
// here.
void sort_avx512(Key* a, long long n, Key* tmp) {
  const __m512i one = _mm512_set1_epi64(1);
  for (long long b0 = 0; b0 < n; b0 += 32) {
    __m512i keys[4], rank[4];
    for (int u = 0; u < 4; ++u) {
      const long long left = n - b0 - 8 * u;
      const __mmask8 in = left >= 8 ? 0xFF : left <= 0 ? 0 : static_cast<__mmask8>((1u << left) - 1);
      keys[u] = _mm512_maskz_loadu_epi64(in, a + b0 + 8 * u);
      rank[u] = _mm512_setzero_si512();
    }
    for (long long j = 0; j < n; ++j) {
      const __m512i v = _mm512_set1_epi64(static_cast<long long>(a[j]));
      for (int u = 0; u < 4; ++u)
        rank[u] = _mm512_mask_add_epi64(rank[u], _mm512_cmpgt_epu64_mask(v, keys[u]), rank[u], one);
    }
    alignas(64) long long place[32];
    for (int u = 0; u < 4; ++u) _mm512_store_si512(place + 8 * u, rank[u]);
    for (long long t = 0; t < 32 && b0 + t < n; ++t) tmp[place[t]] = a[b0 + t];
  }
  std::memcpy(a, tmp, static_cast<size_t>(n) * sizeof(Key));
}

namespace {

// round_bf16 (engine.h) of eight floats: to nearest even, a denormal result to a signed zero.
inline __m256 round_bf16_8(__m256 x) {
  __m256i u = _mm256_castps_si256(x);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  u = _mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7FFF), odd));
  u = _mm256_and_si256(u, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u)));
  const __m256i denormal =
      _mm256_cmpeq_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7F800000)), _mm256_setzero_si256());
  return _mm256_castsi256_ps(
      _mm256_blendv_epi8(u, _mm256_and_si256(u, _mm256_set1_epi32(static_cast<int>(0x80000000u))), denormal));
}

}  // namespace

// Lane i of a double vector is row i: eight columns of the eight rows are loaded and transposed,
// then added column by column. The explicitly rounded multiply and add cannot be contracted into
// a fused multiply-add.
void prefix_sums_avx512(const float* const* rows, const int* bounds, int nb, double* ss, double* ee) {
  constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  __m512d s = _mm512_setzero_pd(), e = _mm512_setzero_pd();
  int k = 0;
  for (int b = 0; b < nb; ++b) {
    const int end = bounds[b];
    while (k < end) {
      const int w = end - k < 8 ? end - k : 8;
      __m256 r[8];
      if (w == 8) {
        for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(rows[i] + k);
      } else {
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(w), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int i = 0; i < 8; ++i) r[i] = _mm256_maskload_ps(rows[i] + k, mask);
      }
      transpose8(r);
      for (int j = 0; j < w; ++j) {
        const __m512d d = _mm512_cvtps_pd(r[j]);
        s = _mm512_add_round_pd(s, _mm512_mul_round_pd(d, d, kRound), kRound);
        if (ee) {
          const __m512d diff = _mm512_sub_round_pd(_mm512_cvtps_pd(round_bf16_8(r[j])), d, kRound);
          e = _mm512_add_round_pd(e, _mm512_mul_round_pd(diff, diff, kRound), kRound);
        }
      }
      k += w;
    }
    _mm512_storeu_pd(ss + b * 8, s);
    if (ee) _mm512_storeu_pd(ee + b * 8, e);
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
  static const Kernel k{
      "avx512", 8, 32, tile, tile1, rescore_ymm, pack, false, partition_avx512, prefix_sums_avx512, sort_avx512,
  };
  return k;
}

}  // namespace embbench
