// One micro-kernel per instruction set (kernels_*.cc, each compiled with its own flags).
// A tile is up to MR query rows against one packed panel of NR corpus rows; the kernel
// accumulates dot products along the dimension axis and, at each Matryoshka boundary,
// writes cosine scores so that every dim costs only the work of the largest.
#pragma once
#include <cstddef>

namespace embbench {

struct TileArgs {
  const float* const* rows;  // MR query row pointers (tail rows repeat the last real row)
  const float* panel;        // packed corpus panel: panel[k * NR + j], k < bounds[nb - 1]
  const int* bounds;         // ascending dims; the last is the largest
  int nb;
  const float* inv_q;  // inv_q[b * MR + i]: 1/|query_i[:bounds[b]]| (0 for a zero vector)
  const float* inv_c;  // inv_c[b * NR + j]: the same for panel row j
  float* scores;       // out: scores[(b * MR + i) * NR + j]
  float* row_max;      // out: row_max[b * MR + i] = max_j scores[...]
};

struct Kernel {
  const char* name;
  int mr;
  int nr;
  void (*tile)(const TileArgs&);
};

const Kernel& kernel_generic();
#if defined(__x86_64__) || defined(_M_X64)
const Kernel& kernel_avx2();
const Kernel& kernel_avx512();
#endif
const Kernel& select_kernel();

}  // namespace embbench
