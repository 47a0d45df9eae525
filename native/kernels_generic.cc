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
      const int t = b * MR + i;
      const float iq = a.inv_q[t];
      float* s = (a.scores ? a.scores : a.stage->scores) + static_cast<size_t>(t) * NR;
      for (int j = 0; j < NR; ++j) s[j] = (acc[i][j] * iq) * a.inv_c[b * NR + j];
      if (a.scores) continue;
      uint32_t mask = 0;
      for (int j = 0; j < a.valid; ++j) mask |= static_cast<uint32_t>(s[j] >= a.thresh[t]) << j;
      a.stage->masks[t] = mask;
    }
    if (b == 0 && a.pending) append_staged(*a.pending, NR, a.limit, a.full);
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
