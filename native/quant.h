// The quantized first stage's micro-kernels (quant_*.cc, each compiled with its own flags), the
// panel layouts they read and the steps that walk a query across them. Internal: engine.h has
// the API (score_quantized).
//
// Hamming (binary / ubinary): a panel is 8 corpus rows; word w of lane j is bytes [8w, 8w + 8) of
// row j's packed bits, read little-endian, so dim i (numpy's packbits: byte i / 8, bit 7 - i % 8)
// is bit 8 (i / 8 % 8) + 7 - i % 8 of word i / 64. panel[w * 8 + j].
//
// Dot (int8 / uint8): a panel is 16 corpus rows; group g holds dims [4g, 4g + 4) of every lane, 4
// bytes per lane: panel[(g * 16 + j) * 4 + t]. The kernels multiply unsigned corpus bytes by
// signed query bytes (as VNNI's vpdpbusd does), so the data is shifted into that form and the
// shift undone by biases: int8 rows are stored + 128 (IP = raw - 128 sum(query prefix)), uint8
// queries are taken - 128 (IP = raw + 128 sum(row prefix)). Every product and sum is an exact
// int32, so every kernel gives the same integers.
#pragma once
#include <cstddef>
#include <cstdint>

namespace embbench {

// One step of a query across a panel: unit `unit` (a word or a group of 4 dims) against `q`
// (the query's word / its 4 bytes, zeroed outside the step's dims) under `mask` (Hamming: the
// step's bits); `record` >= 0: after this step the accumulator is bound `record`'s value.
struct QStep {
  int unit;
  int record;
  uint64_t q;
  uint64_t mask;
};

constexpr int kHammingLanes = 8;
constexpr int kDotLanes = 16;

// Up to kQuantQueries queries (their steps share units, records and masks; only q differs)
// across `npanels` panels; query i's outputs at values[i], masks[i].
constexpr int kQuantQueries = 4;

struct QuantTileArgs {
  const QStep* steps[kQuantQueries];
  int nqueries;
  int nsteps;
  const uint8_t* panels;  // npanels consecutive panels of `units` units each
  long long panel_bytes;
  int npanels;
  int nb;                                // bounds recorded
  const int32_t* thresh[kQuantQueries];  // [nb]: Hamming: a lane passes when its value < thresh; Dot: >= thresh
  const int32_t* qbias[kQuantQueries];   // Dot: [nb] added to every lane (null: none)
  const int32_t* rowbias;                // Dot: [npanels][nb][16] added per lane (null: none)
  int32_t* values[kQuantQueries];        // [npanels][nb][lanes]
  uint32_t* masks[kQuantQueries];        // [npanels][nb]: the passing lanes
  uint64_t* any[kQuantQueries];          // [nb], zeroed by the caller: bit p set when panel p (< 64) has a passing lane
};

// One query's view of a multi-query call (the kernels without query blocking loop over these).
inline QuantTileArgs one_query(const QuantTileArgs& a, int i) {
  QuantTileArgs o = a;
  o.nqueries = 1;
  o.steps[0] = a.steps[i];
  o.thresh[0] = a.thresh[i];
  o.qbias[0] = a.qbias[i];
  o.values[0] = a.values[i];
  o.masks[0] = a.masks[i];
  o.any[0] = a.any[i];
  return o;
}

// A kernel without query blocking: `one` for each query of the call in turn.
inline void each_query(const QuantTileArgs& a, void (*one)(const QuantTileArgs&)) {
  for (int i = 0; i < a.nqueries; ++i) one(one_query(a, i));
}

struct QuantKernel {
  const char* name;
  void (*hamming)(const QuantTileArgs&);
  void (*dot)(const QuantTileArgs&);
};

const QuantKernel& quant_kernel_generic();
#if defined(__x86_64__) || defined(_M_X64)
const QuantKernel& quant_kernel_avx2();
const QuantKernel& quant_kernel_avx512();
#endif

}  // namespace embbench
