// emb-bench's scoring engine: exact cosine top-k at several Matryoshka dimensions in one pass.
// Plain C++: no Node types here (addon.cc is the only N-API file).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace embbench {

struct ScoreRequest {
  const float* queries = nullptr;  // [nq x dim], row-major
  int64_t nq = 0;
  const float* corpus = nullptr;  // [nc x dim], row-major
  int64_t nc = 0;
  int dim = 0;            // row stride (embedding width)
  std::vector<int> dims;  // Matryoshka prefixes to score, each in [1, dim], unique
  int k = 0;              // top-k per query; clamped to nc
  int threads = 0;        // 0: all cores
  // CPU arithmetic: fp32 (one exact pass), bf16 (a bf16 first stage, then exact fp32 rescoring of
  // the candidates: the same results bit for bit), or auto (bf16 where the host has a bf16
  // kernel, nq >= 500, nq x nc >= 1e7 and k + k/2 + 16 <= nc / 400 (nc / 250 from 1,000
  // queries), after a pilot of 128 queries it can certify; else fp32;
  // EMB_BENCH_KERNEL=fp32|bf16 overrides auto).
  // Bf16Portable: the bf16 path without the AVX512_BF16 kernel (tests it on any host).
  enum class Precision { Auto, Fp32, Bf16, Bf16Portable } precision = Precision::Auto;
  // CPU micro-kernel: Auto takes the best this CPU runs (EMB_BENCH_KERNEL=generic|avx2|avx512
  // may force one); a named one the CPU cannot run is refused by validate. The FMA kernels (avx2,
  // avx512) give the same bits; generic rounds each product before adding it (on x86-64), so its
  // scores may differ from theirs in the last bits.
  enum class Isa { Auto, Generic, Avx2, Avx512 } isa = Isa::Auto;
  // bf16: run fp32 instead when the candidates to rescore exceed this fraction of the corpus.
  double bf16_max_candidate_fraction = 0.05;
};

// What the CPU engine did, for results.json and the benchmarks.
struct ScoreStats {
  std::string engine;             // e.g. "cpu-avx2", "cpu-avx2-bf16-portable"
  std::string fallback;           // why bf16 was asked for but fp32 ran ("" when it did not)
  int64_t pairs = 0;              // (query, dim) pairs of the bf16 first stage
  int64_t rescored = 0;           // candidates rescored exactly, over all pairs
  int64_t needed = 0;             // of those, the ones the error bound could not exclude
  int64_t fallback_queries = 0;   // queries whose candidates could not be certified: scored in fp32
  int64_t restarted_queries = 0;  // queries scored again from -inf: fewer than k rows reached the
                                  // threshold a corpus sample set for them (cpu/thresholds.cc)
};

// Caller-owned outputs, one pair per entry of request.dims (same order), each [nq x kEff].
// Rows are sorted by score descending, ties by corpus index ascending.
struct ScoreOutput {
  std::vector<int32_t*> indices;
  std::vector<float*> scores;
  ScoreStats* stats = nullptr;  // optional
};

// Error codes surface in JavaScript as error.code.
struct EngineError {
  std::string code;  // ERR_INVALID_ARG, ERR_NON_FINITE, ERR_OOM, ERR_CUDA, ERR_NO_DEVICE, ERR_NO_CUDA_BUILD
                     // (lib/errors.ts lists them all)
  std::string message;
  bool ok() const { return code.empty(); }
};

inline int effective_k(const ScoreRequest& r) { return static_cast<int>(r.k < r.nc ? r.k : r.nc); }

// Shapes, options and that the data is there (cheap; the addon calls it before queueing the work).
EngineError validate(const ScoreRequest& r);
// Every input value finite with |x| <= 1e15, else the first that is not, named (one pass over the
// data, off the JS thread: the CUDA engine and the bound check call it; score_cpu checks the
// queries by the same rule, and the corpus as it sums the corpus's norms).
EngineError validate_values(const ScoreRequest& r);
// 1/|x[:bound]| for every row and bound (0 for a zero prefix), into out[b * n + row];
// shared by the CPU and GPU engines.
void inverse_prefix_norms(const float* x, int64_t n, int dim, const std::vector<int>& bounds, int threads, float* out);
EngineError score_cpu(const ScoreRequest& r, const ScoreOutput& out);
// bf16 with round-to-nearest-even, as a float (the portable first stage's inputs).
float round_bf16(float x);
// Name of the micro-kernel chosen from this CPU's features: "avx512", "avx2" or "generic".
const char* cpu_kernel_name();
// The CPU micro-kernels this CPU runs, by name (what ScoreRequest::isa may name).
std::vector<std::string> cpu_kernels();
// The bf16 first-stage kernel this CPU has ("avx512bf16"), or null (then bf16 runs the portable
// first stage; EMB_BENCH_KERNEL=bf16-portable also makes it null).
const char* cpu_bf16_kernel_name();
int default_threads();

// The bf16 first stage's error bound, checked on every pair (bench/bound.js): each (query, corpus
// row, dim)'s bf16 first-stage score against the fp32 engine's score for it.
struct BoundCheck {
  std::string engine;      // the first stage checked: "cpu-avx512-bf16" or "...-bf16-portable"
  int64_t pairs = 0;       // (query, row, dim) triples
  int64_t violations = 0;  // |s_bf16 - s_fp32| above the bound: must be 0
  double max_ratio = 0;    // the largest |s_bf16 - s_fp32| / bound
  double max_error = 0;    // the largest |s_bf16 - s_fp32|
};
EngineError bf16_bound_check(const ScoreRequest& r, BoundCheck& out);

// The quantized first stage (native/cpu/quantized.cc): rows of packed sign bits (Hamming, ceil(dim
// / 8) bytes a row, numpy packbits' order, zero-padded) or of int8 / uint8 values (dim bytes a
// row), each query's top k at every dim of `dims` in one pass. Hamming: the smallest distances,
// equal ones by ascending row (FAISS IndexBinaryFlat's order); int8 / uint8: the largest integer
// inner products, equal ones by descending row (FAISS IndexFlatIP's order). Exact integers, the
// same on every kernel.
struct QuantRequest {
  enum class Kind { Hamming, Int8, Uint8 } kind = Kind::Hamming;
  const uint8_t* queries = nullptr;
  int64_t nq = 0;
  const uint8_t* corpus = nullptr;
  int64_t nc = 0;
  int dim = 0;            // embedding width (elements; bits for Hamming)
  std::vector<int> dims;  // prefixes to score, each in [1, dim], unique
  int k = 0;              // clamped to nc
  int threads = 1;
  ScoreRequest::Isa isa = ScoreRequest::Isa::Auto;  // generic, avx2 (AVX2 + POPCNT), avx512 (+ VPOPCNTDQ, VNNI)
};

// Caller-owned, one pair per entry of request.dims, each [nq x min(k, nc)]: rows and their
// distances / inner products, best first.
struct QuantOutput {
  std::vector<int32_t*> indices;
  std::vector<int32_t*> scores;
  std::string* kernel = nullptr;  // optional: the kernel that ran
};

// quantize_embeddings (sentence-transformers cad2119) of rows [rows x cols] cut to `width`
// columns, in float32 arithmetic as numpy does it: Hamming kind -> ceil(width / 8) bytes a row of
// packed signs (x > 0); Int8 / Uint8 -> width bytes of clip(floor((x - min) / step), 0, 255)
// (minus 128 for int8, as its two's-complement byte), step = (max - min) / 255, a zero step read as 1.
struct QuantizeRequest {
  QuantRequest::Kind kind = QuantRequest::Kind::Hamming;
  const float* x = nullptr;
  int64_t rows = 0;
  int cols = 0;
  int width = 0;
  const float* min = nullptr;  // [width] (int8 / uint8)
  const float* max = nullptr;
  int threads = 1;
};
EngineError quantize_rows(const QuantizeRequest& r, uint8_t* out);

EngineError validate_quantized(const QuantRequest& r);
EngineError score_quantized(const QuantRequest& r, const QuantOutput& out);
// The quantized kernel `isa` picks on this CPU ("avx512", "avx2", "generic"), or null when it cannot run it.
const char* quant_kernel_name(ScoreRequest::Isa isa);

// GPU engine (native/cuda); compiled only when CUDA is found at build time.
bool cuda_compiled();
EngineError cuda_device_info(std::string& name, int& count);
EngineError score_cuda(const ScoreRequest& r, const ScoreOutput& out);
// The quantized first stage on the GPU (native/cuda/quant_cuda.cu): score_quantized's results;
// k (k x rescore multiplier) at most 2048.
EngineError score_quantized_cuda(const QuantRequest& r, const QuantOutput& out);

}  // namespace embbench
