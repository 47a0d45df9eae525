// Portable micro-kernel (any CPU; the compiler vectorises it for the baseline ISA,
// SSE2 on x86-64 and NEON on arm64): 4 query rows x 8 corpus rows.
#include "kernels.h"

namespace embbench {
namespace {

constexpr int MR = 4;
constexpr int NR = 8;

void tile(const TileArgs& a) {
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
      float m = -__builtin_inff();
      for (int j = 0; j < NR; ++j) {
        out[j] = (acc[i][j] * iq) * a.inv_c[b * NR + j];
        m = out[j] > m ? out[j] : m;
      }
      a.row_max[b * MR + i] = m;
    }
  }
}

}  // namespace

const Kernel& kernel_generic() {
  static const Kernel k{"generic", MR, NR, tile};
  return k;
}

}  // namespace embbench
