// Portable micro-kernel (any CPU; the compiler vectorises it for the baseline ISA,
// SSE2 on x86-64 and NEON on arm64): 4 query rows x 8 corpus rows.
#include "kernels.h"

namespace embbench {
namespace {

constexpr int NR = 8;

template <int MR>
void tile_rows(const TileArgs& a) {
  float acc[MR][NR] = {};
  int k = 0;
  for (int b = 0; b < a.nb; ++b) {
    const int end = a.bounds[b];
    for (; k < end; ++k) {
      const float* p = a.panel + static_cast<size_t>(k) * NR;
      for (int i = 0; i < MR; ++i) {
        const float q = a.rows[i][k];
        for (int j = 0; j < NR; ++j) acc[i][j] += q * p[j];
      }
    }
    for (int i = 0; i < MR; ++i) {
      const float iq = a.inv_q[b * MR + i];
      float s[NR];
      for (int j = 0; j < NR; ++j) s[j] = (acc[i][j] * iq) * a.inv_c[b * NR + j];
      if (a.scores) {
        for (int j = 0; j < NR; ++j) a.scores[static_cast<size_t>(b * MR + i) * NR + j] = s[j];
        continue;
      }
      const int t = b * MR + i;
      Key* dst = a.keys + t * a.stride + a.count[t];
      int n = 0;
      for (int j = 0; j < a.valid; ++j)
        if (s[j] >= a.thresh[t]) dst[n++] = hit_key(s[j], static_cast<int32_t>(a.row0 + j));
      if ((a.count[t] += n) >= a.limit) *a.full = true;
    }
  }
}

void tile(const TileArgs& a) { tile_rows<4>(a); }
void tile1(const TileArgs& a) { tile_rows<1>(a); }

}  // namespace

const Kernel& kernel_generic() {
  static const Kernel k{"generic", 4, NR, tile, tile1, nullptr, nullptr};
  return k;
}

}  // namespace embbench
