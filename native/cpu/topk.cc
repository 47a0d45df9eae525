// Top-k selection over 64-bit keys whose integer order is the ranking order (score, then
// earlier row): quickselect cuts of a stream's buffer, and the final ordered k.
#include "common.h"

namespace embbench {
namespace cpu {

// The scalar Kernel::partition: no data-dependent branch (a branchy one mispredicts about every
// other key on these short, random buffers).
long long partition_scalar(const Key* a, long long n, Key pivot, Key* hi, Key* lo) {
  int64_t l = 0;
  for (int64_t i = 0; i < n; ++i) {
    const Key v = a[i];
    hi[l] = v;
    lo[i - l] = v;
    l += v >= pivot;
  }
  return l;
}

// Moves the k largest of a[0, n) (unique keys, 0 < k < n) into a[0, k), in no particular order:
// quickselect over the kernel's partition; tmp holds 2n + 16 keys.
void keep_best(Key* a, int64_t n, int64_t k, Key* tmp, const Kernel& kern) {
  const auto partition = kern.partition ? kern.partition : partition_scalar;
  int64_t lo = 0, hi = n;  // a[0, lo) beat a[lo, hi), which beat a[hi, n); the k-th is in [lo, hi)
  while (hi - lo > 16) {
    const Key x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
    const Key pivot = std::max(std::min(x, y), std::min(std::max(x, y), z));  // median of three
    Key *above = tmp, *below = tmp + n + 8;
    const int64_t l = partition(a + lo, hi - lo, pivot, above, below);  // l: the keys >= pivot
    std::memcpy(a + lo, above, static_cast<size_t>(l) * sizeof(Key));
    std::memcpy(a + lo + l, below, static_cast<size_t>(hi - lo - l) * sizeof(Key));
    if (lo + l == k) return;
    if (lo + l > k)
      hi = lo + l;  // the pivot and at least one key beat a[lo + l]: the range shrinks
    else
      lo += l;
  }
  std::sort(a + lo, a + hi, std::greater<Key>());
}

// Puts the best k of hits[0, n) (n >= k) first, best first.
void select_best(Key* hits, int64_t n, int k, std::vector<Key>& tmp, const Kernel& kern) {
  tmp.resize(2 * n + 16);
  if (n > k) keep_best(hits, n, k, tmp.data(), kern);
  if (kern.sort && k <= kSmallSort)
    kern.sort(hits, k, tmp.data());
  else
    std::sort(hits, hits + k, std::greater<Key>());
}

void write_hits(const Key* hits, int k, float* scores, int32_t* rows) {
  for (int j = 0; j < k; ++j) {
    scores[j] = key_score(hits[j]);
    rows[j] = key_row(hits[j]);
  }
}

// Top-k of a stream: the kernel appends the keys whose score reaches the threshold to an
// unsorted buffer; once it holds 2k, a cut keeps the best k (keep_best, in place) and the k-th
// becomes the threshold. O(1) amortised per candidate, no per-insert sifting. Keys that tie the
// threshold's score but not its row may enter; they never outrank it, so the best k are unchanged.
void cut(Key* hits, int& n, float& threshold, int k, Key* tmp /* [2n + 16] */, const Kernel& kern) {
  if (n < 2 * k) return;
  keep_best(hits, n, k, tmp, kern);
  threshold = key_score(*std::min_element(hits, hits + k));
  n = k;
}

}  // namespace cpu
}  // namespace embbench
