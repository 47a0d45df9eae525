// What the CPU engine's parts share (native/cpu/*.cc): the input rule, buffers, the thread pool,
// the plan of a pass and the functions one part calls in another. Internal: engine.h is the API.
#pragma once
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "../engine.h"
#include "../kernels.h"
#include "tuning.h"

namespace embbench {
namespace cpu {

// A NaN score would break the ranking's total order (and the sorts that rely on it). NaN and
// infinite inputs make NaN scores, and so do finite ones whose squares overflow float32 in a
// norm: every input value must be finite with |x| <= kMaxMagnitude, which keeps a sum of 2^31
// squares below FLT_MAX. (lib/score/engine.ts applies the same rule.)
constexpr float kMaxMagnitude = 1e15f;

// Whether every x[0, n) passes: checked on the bits, without a branch per value (so it
// vectorises): |x| <= kMaxMagnitude exactly when the bits less the sign are at most its bits; NaN
// and infinity are above.
inline bool values_ok(const float* x, int64_t n) {
  int32_t limit;
  std::memcpy(&limit, &kMaxMagnitude, sizeof limit);
  int32_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    int32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= static_cast<int32_t>((bits & 0x7FFFFFFF) > limit);
  }
  return !bad;
}

// Thrown by round_rows where a row fails values_ok (score_cpu then names the first bad value).
struct BadValue {};

// 1/|x| from the sum of squares in double, rounded to float; 0 for a zero vector.
inline float inverse_norm(double ss) { return ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.0f; }

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<float[], AlignedFree>;

inline uint16_t bf16_bits(float x) {
  const float r = round_bf16(x);
  uint32_t u;
  std::memcpy(&u, &r, sizeof u);
  return static_cast<uint16_t>(u >> 16);
}

// n elements, not zeroed (trivial types), for buffers whose every entry is written before it is
// read (tens of MB at 2,000 queries, which a zeroing constructor would clear on one thread before
// the work is split between threads).
template <class T>
std::unique_ptr<T[]> unzeroed(size_t n) {
  return std::unique_ptr<T[]>(new T[n]);
}

inline AlignedBuffer aligned_floats(size_t n) {
  const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  void* p = std::aligned_alloc(64, bytes == 0 ? 64 : bytes);
  if (!p) throw std::bad_alloc();
  return AlignedBuffer(static_cast<float*>(p));
}

// Runs fn(i) for i in [0, n) on up to `threads` threads; the calling thread takes part.
// The first exception stops the remaining work and is rethrown once, after the join.
template <class Fn>
void parallel_for(int64_t n, int threads, Fn fn) {
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  auto worker = [&] {
    try {
      for (int64_t i; !failed.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < n;) fn(i);
    } catch (...) {
      if (!failed.exchange(true)) first_error = std::current_exception();
    }
  };
  const int extra = static_cast<int>(std::min<int64_t>(threads, n)) - 1;
  std::vector<std::thread> pool;
  pool.reserve(extra > 0 ? extra : 0);
  for (int t = 0; t < extra; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

struct Plan {
  std::vector<int> bounds;        // sorted unique dims
  std::vector<int> out_of_bound;  // request.dims[i] -> index in bounds
  int k = 0;
  int64_t q_range = 0;  // queries per task
  int q_ranges = 0;
  int c_splits = 0;  // corpus splits per range (each its own top-k buffers)
  int threads = 1;
};

struct PassOptions {
  bool ordered = true;       // rows best first, else in no particular order
  bool sample = true;        // start from a sample's thresholds (above) where it pays
  int64_t* again = nullptr;  // adds the queries scored again from -inf (the sample's misses)
};

// ---- top-k selection (topk.cc) ----

// Moves the k largest of a[0, n) (unique keys, 0 < k < n) into a[0, k), in no particular order:
// quickselect over the kernel's partition; tmp holds 2n + 16 keys.
void keep_best(Key* a, int64_t n, int64_t k, Key* tmp, const Kernel& kern);
// Puts the best k of hits[0, n) (n >= k) first, best first.
void select_best(Key* hits, int64_t n, int k, std::vector<Key>& tmp, const Kernel& kern);
void write_hits(const Key* hits, int k, float* scores, int32_t* rows);
// A full top-k buffer cut back to its best k; the k-th becomes the threshold (topk.cc says why).
void cut(Key* hits, int& n, float& threshold, int k, Key* tmp /* [2n + 16] */, const Kernel& kern);

// ---- the plan of a pass (plan.cc) ----

// The request's dims ascending (the order the kernels accumulate in).
std::vector<int> sorted_bounds(const ScoreRequest& r);
// For each of r.dims (request order), its index in `bounds` (sorted_bounds(r)).
std::vector<int> bound_of_dim(const ScoreRequest& r, const std::vector<int>& bounds);
// More threads than cores only adds switching; a huge request must not spawn thousands.
int thread_count(const ScoreRequest& r);
Plan make_plan(const ScoreRequest& r, const Kernel& kern, int K);
// The scalar packing (Kernel::pack), where the kernel has no vector one.
void pack_panel(const Kernel& kern, const float* src, int64_t stride, int valid, int depth, float* dst);

// ---- the exact top-K pass (pass.cc) and its start thresholds (thresholds.cc) ----

// One exact top-K pass: every query against every corpus row at every bound, with the given
// inverse prefix norms ([nb x n], bounds ascending). Rows of `out` follow r.dims, best first, or
// in no particular order when !opt.ordered (the bf16 first stage's candidates).
void topk_pass(const ScoreRequest& r, const Kernel& kern, int K, const float* inv_q, const float* inv_c,
               const ScoreOutput& out, const PassOptions& opt = {});

// topk_pass on the queries `which` of r alone (their rows copied; their norms gathered from
void topk_pass_on(const ScoreRequest& r, const Kernel& kern, int K, const std::vector<int64_t>& which,
                  const float* inv_q, const float* inv_c, const ScoreOutput& out, const PassOptions& opt);
// A query tile's kernel inputs (pass.cc).
void tile_rows(const ScoreRequest& r, const Kernel& kern, int nb, const float* inv_q, int64_t q0, int64_t q_hi,
               const float** rows, float* tile_inv_q);
// The start thresholds a corpus sample sets, [q * nb + b], or none where the sample would not pay.
std::vector<float> start_thresholds(const ScoreRequest& r, const Kernel& kern, int K, const Plan& plan,
                                    const float* inv_q, const float* inv_c);

// ---- norms and bf16 roundings (norms.cc) ----

// Kernel::prefix_sums without a vector one.
void prefix_sums_scalar(const float* const* rows, const int* bounds, int nb, double* ss, double* ee);
// x rounded up to a float (a bound stays a bound).
float round_up(double x);
// Inverse prefix norms and bf16 roundings of n rows, each row's values checked as they pass
// (BadValue); false when a nonzero prefix is tiny (norms.cc says what each output holds).
bool round_rows(const float* x, int64_t n, int dim, const std::vector<int>& bounds, int threads, float* out,
                uint16_t* bits, float* rho, float* inv);

// ---- input validation (validate.cc) ----

// The first value of x[0, n x dim) that fails values_ok, named; none: ok.
EngineError first_bad_value(const char* what, const float* x, int64_t n, int dim);
// The checks every engine request shares (validate.cc): a width, rows, k, the data there, and
// dims unique within [1, dim].
EngineError check_request_shape(int dim, int64_t nq, int64_t nc, int k, const std::vector<int>& dims,
                                const void* queries, const void* corpus);

}  // namespace cpu
}  // namespace embbench
