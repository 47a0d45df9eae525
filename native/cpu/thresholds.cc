// Start thresholds from a corpus sample (tuning.h says why and how large): each (query, dim)'s
// top-k pass starts from a score about 6k corpus rows reach, not from -inf.
#include "common.h"

namespace embbench {
namespace cpu {

// The start thresholds (above), [q * nb + b], or none where the sample would not pay. The
// sample's scores come from the tile kernel's every-score mode; each (query, bound) keeps the two
// best of each of kSampleGroups groups (sample row mod kSampleGroups: three vector operations a
// score, no top-k buffer, no branch), and its start is the kSampleRank-th best of those: at most the
// sample's own kSampleRank-th best (the kept scores are scores of distinct rows), and equal to it
// unless three of the sample's best fall in one group.
std::vector<float> start_thresholds(const ScoreRequest& r, const Kernel& kern, int K, const Plan& plan,
                                    const float* inv_q, const float* inv_c) {
  const int64_t S = (int64_t(kSampleRank) * r.nc + int64_t(kSampleExpect) * K - 1) / (int64_t(kSampleExpect) * K);
  if (S * kSampleShare > r.nc || S < 4 * kSampleRank) return {};
  constexpr int G = kSampleGroups;
  const int nb = static_cast<int>(plan.bounds.size());
  const int MR = kern.mr, NR = kern.nr;
  const int max_dim = plan.bounds.back();
  const int64_t step = r.nc / S;  // sample row s is corpus row step / 2 + s * step
  const int64_t panels = (S + NR - 1) / NR;
  const size_t panel_floats = static_cast<size_t>(max_dim) * NR;
  // The sample is packed a block of panels at a time (its memory stays that of one block).
  const int64_t block_panels = std::min<int64_t>(panels, int64_t(kBlockChunks) * kChunkPanels);
  AlignedBuffer packed = aligned_floats(block_panels * panel_floats);
  AlignedBuffer invs = aligned_floats(static_cast<size_t>(block_panels) * nb * NR);
  // Tasks of up to a range of query tiles; each passes a block's panels over its tiles.
  const int64_t tiles = (r.nq + MR - 1) / MR;
  const int64_t per_task =
      std::max<int64_t>(1, std::min<int64_t>(plan.q_range / MR, (tiles + plan.threads - 1) / plan.threads));
  // best[((tile * nb + b) * MR + i) * 2G + g]: group g's best score, then at + G its second best
  std::vector<float> best(static_cast<size_t>(tiles) * nb * MR * 2 * G, -std::numeric_limits<float>::infinity());
  for (int64_t p0 = 0; p0 < panels; p0 += block_panels) {
    const int64_t pn = std::min(block_panels, panels - p0);
    parallel_for(pn, plan.threads, [&](int64_t at) {
      const int64_t s0 = (p0 + at) * NR;
      const int valid = static_cast<int>(std::min<int64_t>(NR, S - s0));
      const float* src = r.corpus + (step / 2 + s0 * step) * r.dim;
      float* dst = packed.get() + at * panel_floats;
      if (kern.pack)
        kern.pack(src, step * r.dim, valid, max_dim, dst);
      else
        pack_panel(kern, src, step * r.dim, valid, max_dim, dst);
      for (int b = 0; b < nb; ++b)
        for (int j = 0; j < NR; ++j)
          invs[(at * nb + b) * NR + j] = j < valid ? inv_c[b * r.nc + step / 2 + (s0 + j) * step] : 0.0f;
    });
    parallel_for((tiles + per_task - 1) / per_task, plan.threads, [&](int64_t task) {
      const int64_t t0 = task * per_task, t1 = std::min(tiles, t0 + per_task);
      std::vector<const float*> rows(static_cast<size_t>(t1 - t0) * MR);
      std::vector<float> tile_inv_q(static_cast<size_t>(t1 - t0) * nb * MR);
      for (int64_t t = t0; t < t1; ++t)
        tile_rows(r, kern, nb, inv_q, t * MR, r.nq, &rows[(t - t0) * MR], &tile_inv_q[(t - t0) * nb * MR]);
      AlignedBuffer scores = aligned_floats(static_cast<size_t>(nb) * MR * NR);
      for (int64_t at = 0; at < pn; ++at) {
        const int valid = static_cast<int>(std::min<int64_t>(NR, S - (p0 + at) * NR));
        const int g0 = static_cast<int>((p0 + at) * NR % G);  // NR divides G
        for (int64_t t = t0; t < t1; ++t) {
          kern.tile(TileArgs{&rows[(t - t0) * MR], packed.get() + at * panel_floats, plan.bounds.data(), nb,
                             &tile_inv_q[(t - t0) * nb * MR], invs.get() + at * nb * NR, 0, valid, scores.get()});
          for (int bi = 0; bi < nb * MR; ++bi) {
            float* b1 = &best[(t * nb * MR + bi) * 2 * G + g0];
            float* b2 = b1 + G;
            const float* x = scores.get() + static_cast<size_t>(bi) * NR;
            for (int j = 0; j < valid; ++j) {
              b2[j] = std::max(b2[j], std::min(b1[j], x[j]));
              b1[j] = std::max(b1[j], x[j]);
            }
          }
        }
      }
    });
  }
  std::vector<float> start(static_cast<size_t>(r.nq) * nb);
  parallel_for(r.nq, plan.threads, [&](int64_t q) {
    for (int b = 0; b < nb; ++b) {
      float* v = &best[(((q / MR) * nb + b) * MR + q % MR) * 2 * G];
      std::nth_element(v, v + (kSampleRank - 1), v + 2 * G, std::greater<float>());
      start[q * nb + b] = v[kSampleRank - 1];
    }
  });
  return start;
}

}  // namespace cpu
}  // namespace embbench
