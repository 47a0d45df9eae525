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
      float* out = a.scores + static_cast<size_t>(b * MR + i) * NR;
      const float t = a.thresh[b * MR + i];
      unsigned mask = 0;
      for (int j = 0; j < NR; ++j) {
        out[j] = (acc[i][j] * iq) * a.inv_c[b * NR + j];
        mask |= static_cast<unsigned>(out[j] >= t) << j;
      }
      a.mask[b * MR + i] = mask;
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
