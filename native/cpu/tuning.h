// The CPU engine's tuning constants, each with the measurement or argument that set it; the
// `auto` precision rule is written here once (bench/README: `npm run bench -- auto`).
#pragma once
#include <cstdint>

namespace embbench {
namespace cpu {

// The corpus is packed once, kBlockChunks chunks of kChunkPanels panels at a time (shared by
// every query range; the next block is packed while the last tasks of this one run). A chunk is
// ~L2-sized at D = 768 and stays there while a range's query tiles pass over it; a range's query
// rows take about kRangeBytes, so that they stay in L2 too, with the tails of their top-k buffers.
constexpr int kChunkPanels = 8;
constexpr int kBlockChunks = 8;
constexpr int64_t kRangeBytes = 192 * 1024;
// Start thresholds from a sample. A top-k stream that starts from -inf appends about
// K (1 + ln(nc / K)) keys per (query, dim), each row that beats the k-th best seen so far (twice
// that with the buffer's slack), most of them early, while that k-th is still low. A sample of
// S rows spread evenly over the corpus is scored first: the kSampleRank-th best of a (query,
// dim)'s sample scores is reached by about kSampleRank nc / S corpus rows, and S is chosen to make
// that kSampleExpect K, so the pass that starts from this score appends a few K keys. The results
// are the same: a row below the start is outside the top K when at least K rows reach it (each
// buffer then holds every row of its corpus part that does, or K better ones). Where fewer do
// (for a uniform sample, the sample's order statistic below its expectation by a factor
// kSampleExpect: P(Gamma(10) < 10/6) ~ 1e-5 per (query, dim)), that query is scored again from
// -inf. Used where the sample is at most 1/kSampleShare of the corpus (K >= 54).
constexpr int kSampleRank = 10;
constexpr int kSampleExpect = 6;
constexpr int64_t kSampleShare = 32;
constexpr int kSampleGroups = 32;
// Auto precision takes the bf16 two-stage engine (where the CPU has a bf16 kernel) from
// kAutoBf16MinQueries queries and kAutoBf16MinPairs (query, row) pairs, when its first stage
// keeps at most 1/400 of the corpus (1/250 from 1,000 queries): where it was measured faster
// than fp32 (bench/README, `npm run bench -- auto`). Below, the corpus-sized work it adds (its
// preparation, a bf16 pass of the corpus for the pilot) or the rescoring outweighs the product's
// halved time.
constexpr int64_t kAutoBf16MinQueries = 500;
constexpr double kAutoBf16MinPairs = 1e7;
constexpr int64_t kAutoBf16Share = 400;
constexpr int64_t kAutoBf16ManyQueries = 1000;
constexpr int64_t kAutoBf16ManyQueriesShare = 250;
// ... after a pilot of this many queries shows the bf16 stage certifies the data (score_cpu.cc).
constexpr int64_t kPilotQueries = 128;
// The bf16 rescoring's query blocks: this many queries at most (at 768 dims, 6 MB: they stay in
// the last-level cache while the corpus streams past), and this many candidate pairs.
constexpr int64_t kStage2Queries = 2048;
constexpr int64_t kStage2Pairs = int64_t(1) << 21;
constexpr int64_t kStage2Rows = 64;

}  // namespace cpu
}  // namespace embbench
