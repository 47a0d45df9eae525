// The plan of a pass: bounds, threads, query ranges and corpus splits; the scalar packing.
#include "common.h"

namespace embbench {
namespace cpu {

// The request's dims ascending (the order the kernels accumulate in).
std::vector<int> sorted_bounds(const ScoreRequest& r) {
  std::vector<int> bounds = r.dims;
  std::sort(bounds.begin(), bounds.end());
  return bounds;
}

// For each of r.dims (request order), its index in `bounds` (sorted_bounds(r)).
std::vector<int> bound_of_dim(const ScoreRequest& r, const std::vector<int>& bounds) {
  std::vector<int> out;
  for (int d : r.dims)
    out.push_back(static_cast<int>(std::lower_bound(bounds.begin(), bounds.end(), d) - bounds.begin()));
  return out;
}

// More threads than cores only adds switching; a huge request must not spawn thousands.
int thread_count(const ScoreRequest& r) {
  return r.threads > 0 ? std::min(r.threads, default_threads()) : default_threads();
}

Plan make_plan(const ScoreRequest& r, const Kernel& kern, int K) {
  Plan p;
  p.bounds = sorted_bounds(r);
  p.out_of_bound = bound_of_dim(r, p.bounds);
  p.k = K;
  p.threads = thread_count(r);
  const int MR = kern.mr;
  const int64_t row_bytes = static_cast<int64_t>(p.bounds.back()) * (kern.bf16 ? 2 : 4);
  // Ranges of about kRangeBytes of query rows. Queries that fit in one: the corpus is split
  // between the threads instead (then the per-split top-k buffers merged); fewer ranges than
  // threads: each block's chunks too.
  const int64_t fit = std::max<int64_t>(MR, kRangeBytes / row_bytes / MR * MR);
  const int64_t chunks = ((r.nc + kern.nr - 1) / kern.nr + kChunkPanels - 1) / kChunkPanels;
  if (r.nq <= fit) {
    p.q_range = (r.nq + MR - 1) / MR * MR;
    p.q_ranges = 1;
    p.c_splits = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(chunks, p.threads)));
  } else {
    p.q_range = fit;
    p.q_ranges = static_cast<int>((r.nq + fit - 1) / fit);
    p.c_splits = p.q_ranges >= p.threads ? 1 : std::min(kBlockChunks, (p.threads + p.q_ranges - 1) / p.q_ranges);
  }
  return p;
}

// The scalar packing (Kernel::pack): panel[k * NR + j] = row j's column k, or for a bf16 kernel
// bf16 pairs, panel16[(k / 2) * 2NR + 2j + k % 2]; rows from `valid` on are zeros.
void pack_panel(const Kernel& kern, const float* src, int64_t stride, int valid, int depth, float* dst) {
  const int NR = kern.nr;
  uint16_t* d16 = reinterpret_cast<uint16_t*>(dst);
  for (int j = 0; j < NR; ++j) {
    const float* row = j < valid ? src + j * stride : nullptr;
    for (int k = 0; k < depth; ++k) {
      if (kern.bf16)
        d16[static_cast<size_t>(k / 2) * 2 * NR + 2 * j + (k & 1)] = row ? bf16_bits(row[k]) : 0;
      else
        dst[static_cast<size_t>(k) * NR + j] = row ? row[k] : 0.0f;
    }
  }
}

}  // namespace cpu
}  // namespace embbench
