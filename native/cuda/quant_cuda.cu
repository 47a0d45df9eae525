// GPU engine of the quantized first stage (engine.h's score_quantized_cuda): the CPU engine's
// results (the same integers, the same FAISS orders, the same keys) on the device.
//  - quant_values: a thread per (query, corpus row) of a block of rows accumulates the Hamming
//    distance (bytes XORed, bits counted) or the integer inner product along the dims and, at
//    each Matryoshka bound, appends the row's key to that (query, bound)'s candidates when it can
//    still enter the top k (the running threshold, the CPU engine's rules);
//  - quant_select: per (query, bound), a bitonic sort of the candidates in shared memory keeps
//    the best k and sets the threshold for the next block.
// The quantized corpus is uploaded whole (int8 at 768 dims: 768 bytes a row); queries go in
// chunks. native/cuda/emu runs this file on the host, without a GPU, for the tests.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../engine.h"
#include "common.cuh"

#ifdef EMB_BENCH_CUDA_EMU
#define EMB_POPC(x) __builtin_popcount(x)
#else
#define EMB_POPC(x) __popc(x)
#endif

namespace embbench {
namespace {

using namespace gpu;  // common.cuh

constexpr int kQBlockRows = 2048;  // corpus rows per quant_values launch
constexpr int kQMaxK = 2048;       // candidates kept per (query, bound): k x rescore multiplier
constexpr int kQCap = 4096;        // kQMaxK + kQBlockRows: a (query, bound)'s buffer
constexpr int kQThreads = 256;
constexpr int kQSortThreads = 512;
constexpr int kQMaxBounds = 16;
constexpr int kQChunk = 256;  // queries per chunk

struct QBounds {
  int dim[kQMaxBounds];
};

// The CPU engine's keys (native/cpu/quantized.cc): larger is better.
__device__ __forceinline__ unsigned long long q_key(int kind, int v, int row) {
  if (kind == 0)
    return (static_cast<unsigned long long>(static_cast<unsigned>(0x7FFFFFFF - v)) << 32) |
           (0xFFFFFFFFu - static_cast<unsigned>(row));
  return (static_cast<unsigned long long>(static_cast<unsigned>(v) ^ 0x80000000u) << 32) | static_cast<unsigned>(row);
}

// kind 0: Hamming (rows of packed bits), 1: int8, 2: uint8. grid (row blocks, queries of the chunk).
__global__ void __launch_bounds__(kQThreads)
    quant_values(int kind, const uint8_t* __restrict__ queries, const uint8_t* __restrict__ corpus, int rows, int row0,
                 int rb, QBounds bounds, int nb, const int* __restrict__ thresh, const int* __restrict__ ready,
                 unsigned long long* __restrict__ cand, int* __restrict__ count) {
  const int r = blockIdx.x * blockDim.x + threadIdx.x;
  const int q = blockIdx.y;
  if (r >= rows) return;
  const uint8_t* qa = queries + static_cast<size_t>(q) * rb;
  const uint8_t* ca = corpus + static_cast<size_t>(row0 + r) * rb;
  const int row = row0 + r;
  auto record = [&](int b, int v) {
    const int at = q * nb + b;
    const bool pass = !ready[at] || (kind == 0 ? v < thresh[at] : v >= thresh[at]);
    if (pass) cand[static_cast<size_t>(at) * kQCap + atomicAdd(&count[at], 1)] = q_key(kind, v, row);
  };
  int acc = 0;
  int b = 0;
  if (kind == 0) {
    for (int j = 0; b < nb; ++j) {
      const unsigned x = static_cast<unsigned>(qa[j] ^ ca[j]);
      // bounds inside this byte: its top (bound - 8j) bits (np.packbits: first dim in the top bit)
      for (; b < nb && bounds.dim[b] <= 8 * j + 8; ++b)
        record(b, acc + EMB_POPC(x & (0xFF00u >> (bounds.dim[b] - 8 * j)) & 0xFFu));
      acc += EMB_POPC(x);
    }
  } else {
    for (int i = 0; b < nb; ++i) {
      const int qv = kind == 1 ? static_cast<int>(static_cast<int8_t>(qa[i])) : static_cast<int>(qa[i]);
      const int cv = kind == 1 ? static_cast<int>(static_cast<int8_t>(ca[i])) : static_cast<int>(ca[i]);
      acc += qv * cv;
      for (; b < nb && bounds.dim[b] == i + 1; ++b) record(b, acc);
    }
  }
}

// One block per (query, bound): its candidates sorted best first (a bitonic sort of up to kQCap
// keys in shared memory, 0 as padding: no real key is 0), the best k kept; once there are k,
// the k-th best's value is the threshold.
__global__ void __launch_bounds__(kQSortThreads)
    quant_select(int kind, unsigned long long* __restrict__ cand, int* __restrict__ count, int* __restrict__ thresh,
                 int* __restrict__ ready, int k) {
  __shared__ unsigned long long keys[kQCap];
  const int at = blockIdx.x;
  unsigned long long* mine = cand + static_cast<size_t>(at) * kQCap;
  const int n = count[at];
  int n2 = 1;
  while (n2 < n) n2 <<= 1;
  for (int i = threadIdx.x; i < n2; i += blockDim.x) keys[i] = i < n ? mine[i] : 0ull;
  __syncthreads();
  for (int size = 2; size <= n2; size <<= 1)
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      for (int i = threadIdx.x; i < n2; i += blockDim.x) {
        const int j = i ^ stride;
        if (j > i) {
          const bool descending = (i & size) == 0;
          const unsigned long long a = keys[i], c = keys[j];
          if (descending ? a < c : a > c) {
            keys[i] = c;
            keys[j] = a;
          }
        }
      }
      __syncthreads();
    }
  const int kept = min(n, k);
  for (int i = threadIdx.x; i < kept; i += blockDim.x) mine[i] = keys[i];
  __syncthreads();
  if (threadIdx.x == 0) {
    count[at] = kept;
    if (kept == k) {
      ready[at] = 1;
      const unsigned high = static_cast<unsigned>(keys[k - 1] >> 32);
      thresh[at] = kind == 0 ? 0x7FFFFFFF - static_cast<int>(high) : static_cast<int>(high ^ 0x80000000u);
    }
  }
}

}  // namespace

EngineError score_quantized_cuda(const QuantRequest& r, const QuantOutput& out) {
  EngineError err = validate_quantized(r);
  if (!err.ok()) return err;
  const int K = static_cast<int>(std::min<int64_t>(r.k, r.nc));
  if (K > kQMaxK)
    return {"ERR_INVALID_ARG", "device cuda: the quantized first stage keeps at most " + std::to_string(kQMaxK) +
                                   " candidates a query (k x rescore multiplier); got " + std::to_string(K)};
  if (static_cast<int>(r.dims.size()) > kQMaxBounds)
    return {"ERR_INVALID_ARG", "device cuda: at most " + std::to_string(kQMaxBounds) + " dims"};
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    return {"ERR_NO_DEVICE", "no usable CUDA device"};
  }
  CUDA_TRY(cudaSetDevice(0));
  if (out.kernel) *out.kernel = "cuda";
  std::vector<int> bounds = r.dims;
  std::sort(bounds.begin(), bounds.end());
  const int nb = static_cast<int>(bounds.size());
  QBounds qb{};
  for (int b = 0; b < nb; ++b) qb.dim[b] = bounds[b];
  const int kind = r.kind == QuantRequest::Kind::Hamming ? 0 : r.kind == QuantRequest::Kind::Int8 ? 1 : 2;
  const int rb = kind == 0 ? (r.dim + 7) / 8 : r.dim;

  DeviceArray<uint8_t> corpus, queries;
  DeviceArray<unsigned long long> cand;
  DeviceArray<int> count, thresh, ready;
  CUDA_TRY(corpus.alloc(static_cast<size_t>(r.nc) * rb));
  CUDA_TRY(queries.alloc(static_cast<size_t>(kQChunk) * rb));
  CUDA_TRY(cand.alloc(static_cast<size_t>(kQChunk) * nb * kQCap));
  CUDA_TRY(count.alloc(static_cast<size_t>(kQChunk) * nb));
  CUDA_TRY(thresh.alloc(static_cast<size_t>(kQChunk) * nb));
  CUDA_TRY(ready.alloc(static_cast<size_t>(kQChunk) * nb));
  CUDA_TRY(cudaMemcpy(corpus.h, r.corpus, static_cast<size_t>(r.nc) * rb, cudaMemcpyHostToDevice));
  std::vector<unsigned long long> host(static_cast<size_t>(kQChunk) * nb * kQCap);
  for (int64_t q0 = 0; q0 < r.nq; q0 += kQChunk) {
    const int nqc = static_cast<int>(std::min<int64_t>(kQChunk, r.nq - q0));
    CUDA_TRY(cudaMemcpy(queries.h, r.queries + q0 * rb, static_cast<size_t>(nqc) * rb, cudaMemcpyHostToDevice));
    CUDA_TRY(cudaMemsetAsync(count.h, 0, sizeof(int) * nqc * nb));
    CUDA_TRY(cudaMemsetAsync(ready.h, 0, sizeof(int) * nqc * nb));
    for (int64_t row0 = 0; row0 < r.nc; row0 += kQBlockRows) {
      const int rows = static_cast<int>(std::min<int64_t>(kQBlockRows, r.nc - row0));
      EMB_LAUNCH(quant_values, dim3((rows + kQThreads - 1) / kQThreads, nqc), kQThreads, 0, nullptr)
      (kind, queries.h, corpus.h, rows, static_cast<int>(row0), rb, qb, nb, thresh.h, ready.h, cand.h, count.h);
      CUDA_TRY(cudaGetLastError());
      EMB_LAUNCH(quant_select, dim3(nqc * nb), kQSortThreads, 0, nullptr)(kind, cand.h, count.h, thresh.h, ready.h, K);
      CUDA_TRY(cudaGetLastError());
    }
    CUDA_TRY(cudaMemcpy(host.data(), cand.h, sizeof(unsigned long long) * nqc * nb * kQCap, cudaMemcpyDeviceToHost));
    for (int q = 0; q < nqc; ++q)
      for (size_t o = 0; o < r.dims.size(); ++o) {
        const int b = static_cast<int>(std::lower_bound(bounds.begin(), bounds.end(), r.dims[o]) - bounds.begin());
        const unsigned long long* keys = host.data() + (static_cast<size_t>(q) * nb + b) * kQCap;
        for (int i = 0; i < K; ++i) {
          const unsigned low = static_cast<unsigned>(keys[i]), high = static_cast<unsigned>(keys[i] >> 32);
          out.indices[o][(q0 + q) * K + i] = static_cast<int32_t>(kind == 0 ? 0xFFFFFFFFu - low : low);
          out.scores[o][(q0 + q) * K + i] =
              kind == 0 ? 0x7FFFFFFF - static_cast<int32_t>(high) : static_cast<int32_t>(high ^ 0x80000000u);
        }
      }
  }
  return {};
}

}  // namespace embbench
