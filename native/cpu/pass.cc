// One exact top-K pass: the corpus packed once in blocks shared by every query range, an ordered
// sequence of packing and scoring tasks, each (query, dim)'s top-k buffer kept by the tile
// kernels' staged appends and cut back to k.
#include "common.h"

namespace embbench {
namespace cpu {

// A query tile's kernel inputs: its MR row pointers (tail rows repeat the last query; a bf16
// kernel's rows are bf16 bits, same stride) and inverse norms, tile_inv_q[b * MR + i].
void tile_rows(const ScoreRequest& r, const Kernel& kern, int nb, const float* inv_q, int64_t q0, int64_t q_hi,
               const float** rows, float* tile_inv_q) {
  const int MR = kern.mr;
  const int mr = static_cast<int>(std::min<int64_t>(MR, q_hi - q0));
  for (int i = 0; i < MR; ++i) {
    const int64_t q = q0 + std::min(i, mr - 1);
    rows[i] = kern.bf16 ? reinterpret_cast<const float*>(reinterpret_cast<const uint16_t*>(r.queries) + q * r.dim)
                        : r.queries + q * r.dim;
    for (int b = 0; b < nb; ++b) tile_inv_q[b * MR + i] = inv_q[b * r.nq + q];
  }
}

// topk_pass on the queries `which` of r alone (their rows copied; their norms gathered from
// inv_q), into their rows of out.
void topk_pass_on(const ScoreRequest& r, const Kernel& kern, int K, const std::vector<int64_t>& which,
                  const float* inv_q, const float* inv_c, const ScoreOutput& out, const PassOptions& opt) {
  const size_t row_bytes = static_cast<size_t>(r.dim) * (kern.bf16 ? 2 : 4);  // a bf16 kernel's rows: bf16 bits
  const std::vector<int> bounds = sorted_bounds(r);
  const size_t n = which.size(), nb = bounds.size();
  std::vector<float> qs((n * row_bytes + 3) / 4);
  std::vector<float> iq(nb * n);
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(reinterpret_cast<char*>(qs.data()) + i * row_bytes,
                reinterpret_cast<const char*>(r.queries) + which[i] * row_bytes, row_bytes);
    for (size_t b = 0; b < nb; ++b) iq[b * n + i] = inv_q[b * r.nq + which[i]];
  }
  ScoreRequest sub = r;
  sub.queries = qs.data();
  sub.nq = static_cast<int64_t>(n);
  std::vector<std::vector<int32_t>> fi(r.dims.size(), std::vector<int32_t>(n * K));
  std::vector<std::vector<float>> fs(r.dims.size(), std::vector<float>(n * K));
  ScoreOutput o;
  for (size_t d = 0; d < r.dims.size(); ++d) {
    o.indices.push_back(fi[d].data());
    o.scores.push_back(fs[d].data());
  }
  topk_pass(sub, kern, K, iq.data(), inv_c, o, opt);
  for (size_t i = 0; i < n; ++i)
    for (size_t d = 0; d < r.dims.size(); ++d) {
      std::copy(&fi[d][i * K], &fi[d][i * K] + K, out.indices[d] + which[i] * K);
      std::copy(&fs[d][i * K], &fs[d][i * K] + K, out.scores[d] + which[i] * K);
    }
}

void topk_pass(const ScoreRequest& r, const Kernel& kern, int K, const float* inv_q, const float* inv_c,
               const ScoreOutput& out, const PassOptions& opt) {
  const Plan plan = make_plan(r, kern, K);
  const int nb = static_cast<int>(plan.bounds.size());
  const std::vector<float> start = opt.sample ? start_thresholds(r, kern, K, plan, inv_q, inv_c) : std::vector<float>{};
  const int MR = kern.mr, NR = kern.nr;
  const int max_dim = plan.bounds.back();

  // One reservoir per (split, query, bound), laid out [split][query tile][bound][row in tile] so
  // that a tile's reservoirs are contiguous and its float thresholds are the kernel's `thresh`
  // as they stand (rows past the last query keep +inf: they never pass).
  const int64_t q_tiles = (r.nq + MR - 1) / MR;
  const size_t slots = static_cast<size_t>(plan.c_splits) * q_tiles * nb * MR;
  auto slot_of = [&](int split, int64_t q, int b) {
    return ((static_cast<size_t>(split) * q_tiles + q / MR) * nb + b) * MR + q % MR;
  };
  const size_t capacity = 2 * static_cast<size_t>(K) + 2 * NR;  // room for one tile's appends past 2k - 1
  const std::unique_ptr<Key[]> res_keys = unzeroed<Key>(slots * capacity);
  std::vector<int> res_n(slots, 0);
  std::vector<float> res_score(slots, std::numeric_limits<float>::infinity());  // the thresholds
  for (int split = 0; split < plan.c_splits; ++split)
    for (int64_t q = 0; q < r.nq; ++q)
      for (int b = 0; b < nb; ++b)
        res_score[slot_of(split, q, b)] = start.empty() ? -std::numeric_limits<float>::infinity() : start[q * nb + b];

  const int64_t panels_total = (r.nc + NR - 1) / NR;
  const int64_t chunks_total = (panels_total + kChunkPanels - 1) / kChunkPanels;
  const int64_t blocks = (chunks_total + kBlockChunks - 1) / kBlockChunks;
  const size_t panel_floats = static_cast<size_t>(max_dim) * NR;  // (a bf16 panel fills half)
  // Packs a chunk's panels and their inverse norms at `panels`, `invs`.
  auto pack_chunk = [&](int64_t chunk, float* panels, float* invs) {
    for (int64_t pnl = chunk * kChunkPanels; pnl < std::min(panels_total, (chunk + 1) * kChunkPanels); ++pnl) {
      const int64_t c0 = pnl * NR, at = pnl - chunk * kChunkPanels;
      const int valid = static_cast<int>(std::min<int64_t>(NR, r.nc - c0));
      float* dst = panels + at * panel_floats;
      float* inv = invs + at * nb * NR;
      if (kern.pack)
        kern.pack(r.corpus + c0 * r.dim, r.dim, valid, max_dim, dst);
      else
        pack_panel(kern, r.corpus + c0 * r.dim, r.dim, valid, max_dim, dst);
      for (int b = 0; b < nb; ++b)
        for (int j = 0; j < NR; ++j) inv[b * NR + j] = j < valid ? inv_c[b * r.nc + c0 + j] : 0.0f;
    }
  };
  // A task's scratch; two tile stages, each call's passing scores appended during the next call.
  struct Scratch {
    std::vector<float> tile_inv_q;
    std::vector<const float*> rows;
    std::vector<Key> cut_tmp;
    AlignedBuffer stage_scores[2];
    std::vector<uint32_t> stage_masks[2];
    TileStage stage[2];
    int next = 0;             // the stage the next call writes
    bool pending = false;     // the other holds a call's scores
    size_t pending_slot = 0;  // that call's tile's first slot
  };
  auto scratch = [&] {
    Scratch t{std::vector<float>(static_cast<size_t>(nb) * MR), std::vector<const float*>(MR),
              std::vector<Key>(2 * capacity + 16)};
    for (int i = 0; i < 2; ++i) {
      t.stage_scores[i] = aligned_floats(static_cast<size_t>(nb) * MR * NR);
      t.stage_masks[i].resize(static_cast<size_t>(nb) * MR);
      t.stage[i].scores = t.stage_scores[i].get();
      t.stage[i].masks = t.stage_masks[i].data();
      t.stage[i].rows = nb * MR;
      t.stage[i].stride = static_cast<long long>(capacity);
    }
    return t;
  };
  // After a call or flush set `full`: the cuts of the tile whose keys it appended.
  auto cut_tile = [&](size_t tile_slot, Scratch& t) {
    for (size_t slot = tile_slot; slot < tile_slot + static_cast<size_t>(nb) * MR; ++slot)
      cut(&res_keys[slot * capacity], res_n[slot], res_score[slot], K, t.cut_tmp.data(), kern);
  };
  // Scores a packed chunk against the queries [q_lo, q_hi), into `split`'s buffers; every key is
  // appended when it returns.
  auto score_chunk = [&](int64_t chunk, const float* panels, const float* invs, int64_t q_lo, int64_t q_hi, int split,
                         Scratch& t) {
    const int64_t pnl0 = chunk * kChunkPanels;
    const int n_panels = static_cast<int>(std::min<int64_t>(kChunkPanels, panels_total - pnl0));
    for (int64_t q0 = q_lo; q0 < q_hi; q0 += MR) {
      tile_rows(r, kern, nb, inv_q, q0, q_hi, t.rows.data(), t.tile_inv_q.data());
      for (int p = 0; p < n_panels; ++p) {
        const int64_t c0 = (pnl0 + p) * NR;
        const int valid = static_cast<int>(std::min<int64_t>(NR, r.nc - c0));
        // The kernel tests each score against its row's current k-th score (a vector compare in
        // the tile's epilogue), stages the passing lanes and appends the previous call's.
        const size_t tile_slot = slot_of(split, q0, 0);
        TileStage& stage = t.stage[t.next];
        stage.keys = &res_keys[tile_slot * capacity];
        stage.count = &res_n[tile_slot];
        stage.row0 = c0;
        bool full = false;
        TileArgs args{t.rows.data(),
                      panels + p * panel_floats,
                      plan.bounds.data(),
                      nb,
                      t.tile_inv_q.data(),
                      invs + p * nb * NR,
                      c0,
                      valid};
        args.thresh = &res_score[tile_slot];
        args.stage = &stage;
        args.pending = t.pending ? &t.stage[1 - t.next] : nullptr;
        args.limit = 2 * K;
        args.full = &full;
        kern.tile(args);
        if (full) cut_tile(t.pending_slot, t);
        t.pending = true;
        t.pending_slot = tile_slot;
        t.next = 1 - t.next;
      }
    }
    if (t.pending) {
      bool full = false;
      append_staged(t.stage[1 - t.next], NR, 2 * K, &full);
      if (full) cut_tile(t.pending_slot, t);
      t.pending = false;
    }
  };
  if (plan.q_ranges == 1) {
    // One query range scores each chunk once: each task packs its own chunks into a buffer that
    // stays in L2.
    parallel_for(plan.c_splits, plan.threads, [&](int64_t split) {
      AlignedBuffer panels = aligned_floats(kChunkPanels * panel_floats);
      AlignedBuffer invs = aligned_floats(static_cast<size_t>(kChunkPanels) * nb * NR);
      Scratch t = scratch();
      for (int64_t chunk = chunks_total * split / plan.c_splits; chunk < chunks_total * (split + 1) / plan.c_splits;
           ++chunk) {
        pack_chunk(chunk, panels.get(), invs.get());
        score_chunk(chunk, panels.get(), invs.get(), 0, r.nq, static_cast<int>(split), t);
      }
    });
  } else {
    // Several: blocks of kBlockChunks chunks, each packed once into one of kRing buffers and
    // scored by every range. One sequence of tasks, claimed in order by every thread: block j + 1's
    // packing (a task a chunk) comes before block j's scoring (a task a range and split), so that
    // threads done scoring pack ahead. A scoring task waits for its block's packing and for its
    // range and split's previous block (they share top-k buffers); a packing task for the
    // scoring of the block that last used its buffer. Each waits only on tasks claimed before it
    // (no deadlock), and no barrier stops every thread between blocks.
    constexpr int kRing = 3;
    const int64_t block_panels = std::min<int64_t>(panels_total, int64_t(kBlockChunks) * kChunkPanels);
    AlignedBuffer packed[kRing], packed_inv[kRing];
    for (int i = 0; i < kRing && i < blocks; ++i) {
      packed[i] = aligned_floats(block_panels * panel_floats);
      packed_inv[i] = aligned_floats(static_cast<size_t>(block_panels) * nb * NR);
    }
    auto chunk_panels = [&](int64_t chunk) {
      const int64_t at = (chunk % kBlockChunks) * kChunkPanels;
      const int buffer = static_cast<int>(chunk / kBlockChunks % kRing);
      return std::pair{packed[buffer].get() + at * panel_floats, packed_inv[buffer].get() + at * nb * NR};
    };
    const int64_t score_tasks = static_cast<int64_t>(plan.q_ranges) * plan.c_splits;
    struct Task {
      int64_t block, index;  // index: the chunk (packing) or range * c_splits + split (scoring)
      bool pack;
    };
    // The sequence, task i computed on claiming: block 0's packing, then for each block j, block
    // j + 1's packing and block j's scoring.
    auto chunks_in = [&](int64_t block) {
      return block < blocks ? std::min(chunks_total, (block + 1) * kBlockChunks) - block * kBlockChunks : 0;
    };
    const int64_t total = chunks_total + blocks * score_tasks;
    auto task_at = [&](int64_t i) -> Task {
      if (i < chunks_in(0)) return {0, i, true};
      i -= chunks_in(0);
      const int64_t full = kBlockChunks + score_tasks;  // every group but the last two
      int64_t j = std::min(i / full, std::max<int64_t>(0, blocks - 2));
      for (i -= j * full;; ++j) {
        const int64_t packs = chunks_in(j + 1);
        if (i < packs) return {j + 1, (j + 1) * kBlockChunks + i, true};
        if (i < packs + score_tasks) return {j, i - packs, false};
        i -= packs + score_tasks;
      }
    };
    std::vector<std::atomic<int64_t>> chunks_packed(blocks), tasks_scored(blocks), blocks_done(score_tasks);  // zeros
    std::atomic<int64_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    struct Stopped {};
    auto wait_for = [&](const std::atomic<int64_t>& count, int64_t target) {
      while (count.load(std::memory_order_acquire) < target) {
        if (failed.load(std::memory_order_relaxed)) throw Stopped{};
        std::this_thread::yield();
      }
    };
    parallel_for(plan.threads, plan.threads, [&](int64_t) {
      try {
        Scratch t = scratch();
        for (int64_t i; (i = next.fetch_add(1)) < total;) {
          const Task task = task_at(i);
          const int64_t ch0 = task.block * kBlockChunks, ch1 = std::min(chunks_total, ch0 + kBlockChunks);
          if (task.pack) {
            if (task.block >= kRing) wait_for(tasks_scored[task.block - kRing], score_tasks);
            const auto [panels, invs] = chunk_panels(task.index);
            pack_chunk(task.index, panels, invs);
            chunks_packed[task.block].fetch_add(1, std::memory_order_release);
            continue;
          }
          wait_for(chunks_packed[task.block], ch1 - ch0);
          wait_for(blocks_done[task.index], task.block);
          const int split = static_cast<int>(task.index % plan.c_splits);
          const int64_t q_lo = (task.index / plan.c_splits) * plan.q_range;
          for (int64_t chunk = ch0 + (ch1 - ch0) * split / plan.c_splits;
               chunk < ch0 + (ch1 - ch0) * (split + 1) / plan.c_splits; ++chunk) {
            const auto [panels, invs] = chunk_panels(chunk);
            score_chunk(chunk, panels, invs, q_lo, std::min(r.nq, q_lo + plan.q_range), split, t);
          }
          blocks_done[task.index].fetch_add(1, std::memory_order_release);
          tasks_scored[task.block].fetch_add(1, std::memory_order_release);
        }
      } catch (const Stopped&) {
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    });
    if (error) std::rethrow_exception(error);
  }

  // Queries where fewer than K rows reached a start threshold: scored again from -inf (below).
  std::vector<int64_t> again;
  if (!start.empty())
    for (int64_t q = 0; q < r.nq; ++q)
      for (int b = 0; b < nb; ++b) {
        int64_t n = 0;
        for (int split = 0; split < plan.c_splits; ++split) n += res_n[slot_of(split, q, b)];
        if (n < K) {
          again.push_back(q);
          break;
        }
      }
  // Merge the splits' buffers (one split: its buffer, in place) and write each (query, dim) row.
  parallel_for(r.nq, plan.threads, [&](int64_t q) {
    if (!again.empty() && std::binary_search(again.begin(), again.end(), q)) return;
    std::vector<Key> hits, tmp;
    for (size_t o = 0; o < r.dims.size(); ++o) {
      const int b = plan.out_of_bound[o];
      Key* best = &res_keys[slot_of(0, q, b) * capacity];
      int64_t n = res_n[slot_of(0, q, b)];
      if (plan.c_splits > 1) {
        hits.clear();
        for (int split = 0; split < plan.c_splits; ++split) {
          const size_t slot = slot_of(split, q, b);
          hits.insert(hits.end(), &res_keys[slot * capacity], &res_keys[slot * capacity] + res_n[slot]);
        }
        best = hits.data();
        n = static_cast<int64_t>(hits.size());
      }
      if (opt.ordered) {
        select_best(best, n, K, tmp, kern);
      } else if (n > K) {
        tmp.resize(2 * n + 16);
        keep_best(best, n, K, tmp.data(), kern);
      }
      write_hits(best, K, out.scores[o] + q * K, out.indices[o] + q * K);
    }
  });
  if (!again.empty()) {
    topk_pass_on(r, kern, K, again, inv_q, inv_c, out, PassOptions{opt.ordered, false, nullptr});
    if (opt.again) *opt.again += static_cast<int64_t>(again.size());
  }
}

}  // namespace cpu
}  // namespace embbench
