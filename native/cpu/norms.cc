// Inverse prefix norms and bf16 roundings of a matrix's rows, summed in double eight rows at a
// time, each row's values checked as they pass (the corpus is read here once, not twice).
#include "common.h"

namespace embbench {

float round_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest, ties to even (finite inputs)
  u &= 0xFFFF0000u;
  if ((u & 0x7F800000u) == 0) u &= 0x80000000u;  // a denormal reads as zero (AVX512_BF16 does so)
  std::memcpy(&x, &u, sizeof x);
  return x;
}

namespace cpu {

// Kernel::prefix_sums without a vector one.
void prefix_sums_scalar(const float* const* rows, const int* bounds, int nb, double* ss, double* ee) {
  double s[8] = {}, e[8] = {};
  int k = 0;
  for (int b = 0; b < nb; ++b) {
    for (; k < bounds[b]; ++k)
      for (int i = 0; i < 8; ++i) {
        s[i] += static_cast<double>(rows[i][k]) * rows[i][k];
        if (ee) {
          const double d = static_cast<double>(round_bf16(rows[i][k])) - rows[i][k];
          e[i] += d * d;
        }
      }
    for (int i = 0; i < 8; ++i) {
      ss[b * 8 + i] = s[i];
      if (ee) ee[b * 8 + i] = e[i];
    }
  }
}

// x rounded up to a float (a bound stays a bound).
float round_up(double x) {
  const float f = static_cast<float>(x);
  return f < x ? std::nextafter(f, std::numeric_limits<float>::infinity()) : f;
}

// bf16 roundings of the first max_dim columns, as floats (stride max_dim) and/or as bits
// (stride dim), either may be null; each prefix's relative rounding error rho[row * nb + b] (0 for
// a zero prefix; null: not summed) and its inverse norm inv[b * n + row] (inverse_prefix_norms is
// this with only inv). Eight rows at a time (Kernel::prefix_sums), each row's every value checked
// as they pass (values_ok; BadValue if one fails: the corpus is read here once instead of twice).
// False when a nonzero prefix is tiny (norm < 2^-30).
bool round_rows(const float* x, int64_t n, int dim, const std::vector<int>& bounds, int threads, float* out,
                uint16_t* bits, float* rho, float* inv) {
  const int nb = static_cast<int>(bounds.size());
  const int max_dim = bounds.back();
  const auto sums = select_kernel().prefix_sums ? select_kernel().prefix_sums : prefix_sums_scalar;
  std::atomic<bool> tiny{false};
  const int64_t block = 1024;
  parallel_for((n + block - 1) / block, threads, [&](int64_t blk) {
    const int64_t hi = std::min(n, (blk + 1) * block);
    std::vector<double> ss(static_cast<size_t>(nb) * 8), ee(static_cast<size_t>(nb) * 8);
    for (int64_t r0 = blk * block; r0 < hi; r0 += 8) {
      const int m = static_cast<int>(std::min<int64_t>(8, hi - r0));
      const float* row[8];
      for (int i = 0; i < 8; ++i) row[i] = x + (r0 + std::min(i, m - 1)) * dim;
      if (!values_ok(x + r0 * dim, int64_t(m) * dim)) throw BadValue{};
      sums(row, bounds.data(), nb, ss.data(), rho ? ee.data() : nullptr);
      for (int b = 0; b < nb; ++b)
        for (int i = 0; i < m; ++i) {
          const double s = ss[b * 8 + i];
          if (s > 0 && s < 0x1p-60) tiny = true;
          if (rho) rho[(r0 + i) * nb + b] = round_up(s > 0 ? std::sqrt(ee[b * 8 + i]) / std::sqrt(s) : 0.0);
          inv[b * n + r0 + i] = inverse_norm(s);
        }
      for (int i = 0; i < m; ++i)
        for (int kk = 0; kk < max_dim; ++kk) {
          if (out) out[(r0 + i) * max_dim + kk] = round_bf16(row[i][kk]);
          if (bits) bits[(r0 + i) * dim + kk] = bf16_bits(row[i][kk]);
        }
    }
  });
  return !tiny;
}

}  // namespace cpu

// 1/|x[:bound]| for every row and bound, accumulated in double (0 for a zero prefix). Eight rows
// at a time, each its own chain of additions in column order (the products of floats are exact
// in double, so the sums do not depend on how the chains are interleaved or fused).
void inverse_prefix_norms(const float* x, int64_t n, int dim, const std::vector<int>& bounds, int threads,
                          float* out /* [nb x n] */) {
  cpu::round_rows(x, n, dim, bounds, threads, nullptr, nullptr, nullptr, out);  // (tiny prefixes are fine here)
}

}  // namespace embbench
