// The quantized first stage in plain C++ (native/quant.h): every CPU runs it, and the SIMD
// kernels give the same integers.
#include <cstring>

#include "quant.h"

namespace embbench {
namespace {

inline int popcount64(uint64_t x) { return __builtin_popcountll(x); }

void hamming1(const QuantTileArgs& a) {
  for (int p = 0; p < a.npanels; ++p) {
    const uint64_t* panel = reinterpret_cast<const uint64_t*>(a.panels + p * a.panel_bytes);
    int32_t acc[kHammingLanes] = {};
    int32_t* values = a.values[0] + static_cast<size_t>(p) * a.nb * kHammingLanes;
    uint32_t* masks = a.masks[0] + static_cast<size_t>(p) * a.nb;
    for (int s = 0; s < a.nsteps; ++s) {
      const QStep& st = a.steps[0][s];
      const uint64_t* unit = panel + static_cast<size_t>(st.unit) * kHammingLanes;
      for (int j = 0; j < kHammingLanes; ++j) acc[j] += popcount64((unit[j] ^ st.q) & st.mask);
      if (st.record >= 0) {
        uint32_t m = 0;
        for (int j = 0; j < kHammingLanes; ++j) {
          values[st.record * kHammingLanes + j] = acc[j];
          m |= static_cast<uint32_t>(acc[j] < a.thresh[0][st.record]) << j;
        }
        masks[st.record] = m;
        a.any[0][st.record] |= static_cast<uint64_t>(m != 0) << p;
      }
    }
  }
}

void dot1(const QuantTileArgs& a) {
  for (int p = 0; p < a.npanels; ++p) {
    const uint8_t* panel = a.panels + p * a.panel_bytes;
    int32_t acc[kDotLanes] = {};
    int32_t* values = a.values[0] + static_cast<size_t>(p) * a.nb * kDotLanes;
    uint32_t* masks = a.masks[0] + static_cast<size_t>(p) * a.nb;
    const int32_t* rowbias = a.rowbias ? a.rowbias + static_cast<size_t>(p) * a.nb * kDotLanes : nullptr;
    for (int s = 0; s < a.nsteps; ++s) {
      const QStep& st = a.steps[0][s];
      const uint8_t* unit = panel + static_cast<size_t>(st.unit) * kDotLanes * 4;
      int8_t q[4];
      std::memcpy(q, &st.q, 4);
      for (int j = 0; j < kDotLanes; ++j)
        for (int t = 0; t < 4; ++t) acc[j] += static_cast<int32_t>(unit[j * 4 + t]) * q[t];
      if (st.record >= 0) {
        const int b = st.record;
        uint32_t m = 0;
        for (int j = 0; j < kDotLanes; ++j) {
          const int32_t v = acc[j] + (a.qbias[0] ? a.qbias[0][b] : 0) + (rowbias ? rowbias[b * kDotLanes + j] : 0);
          values[b * kDotLanes + j] = v;
          m |= static_cast<uint32_t>(v >= a.thresh[0][b]) << j;
        }
        masks[b] = m;
        a.any[0][b] |= static_cast<uint64_t>(m != 0) << p;
      }
    }
  }
}

void hamming(const QuantTileArgs& a) { each_query(a, hamming1); }
void dot(const QuantTileArgs& a) { each_query(a, dot1); }

}  // namespace

const QuantKernel& quant_kernel_generic() {
  static const QuantKernel k{"generic", hamming, dot};
  return k;
}

}  // namespace embbench
