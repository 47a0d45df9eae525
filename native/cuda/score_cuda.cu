// GPU engine (engine.h's score_cuda): the CPU engine's algorithm on the device.
//  - prefix_cosine: a tiled fp32 matrix product of a query chunk x a corpus block that writes
//    the cosine at every Matryoshka boundary on its way to the largest dim (one product for
//    all dims). Each dot product accumulates in dimension order with fmaf and the cosine is
//    (dot * 1/|q|) * 1/|c|, as in the CPU kernels: the two engines agree bit for bit;
//  - select_topk: per (query, dim), the block's candidates better than the running k-th hit
//    are merged with the running top-k by a bitonic sort in shared memory.
// The corpus streams through in blocks of 4,096 rows (a pinned staging buffer, one stream), so
// its size is bounded by host memory, not the GPU's. No cuBLAS: the kernels are here. Every
// CUDA error becomes an EngineError. native/cuda/emu runs this file on the host, without a GPU,
// for the tests.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../engine.h"
#include "common.cuh"

namespace embbench {
namespace {

using namespace gpu;  // common.cuh

constexpr int kTileQ = 128;         // queries per thread block
constexpr int kTileC = 128;         // corpus rows per thread block
constexpr int kTileK = 8;           // dims per shared-memory stage
constexpr int kThreads = 256;       // 16 x 16 threads, 8 x 8 results each
constexpr int kPad = 4;             // shared-memory row padding: conflict-free transposing stores
constexpr int kCorpusBlock = 4096;  // corpus rows per launch pair
constexpr int kMaxBounds = 16;
constexpr int kMaxK = 4096;
constexpr int kSelectChunk = 1024;  // candidates merged at a time (shared memory: k + this)
#ifdef EMB_BENCH_CUDA_EMU
constexpr size_t kScoreBytes = size_t(1) << 23;  // small, so the emulated checks cross query chunks
#else
constexpr size_t kScoreBytes = size_t(1) << 30;  // scores buffer per query chunk
#endif

// The Matryoshka boundaries, ascending; a kernel argument (not a __constant__ symbol), so that
// concurrent calls with different dims cannot see each other's.
struct Bounds {
  int dim[kMaxBounds];
};

using Stream = Owned<cudaStream_t, cudaStreamDestroy>;
using Event = Owned<cudaEvent_t, cudaEventDestroy>;

__device__ __forceinline__ bool better(float s, int i, float ts, int ti) { return s > ts || (s == ts && i < ti); }

// scores[(b * nq + q) * kCorpusBlock + j] = cosine at bounds.dim[b] of queries[q] and corpus[j].
// Thread (tx, ty) owns query rows {ty*4, 64 + ty*4} + 0..3 and corpus rows {tx*4, 64 + tx*4} +
// 0..3 of the block's 128 x 128 tile, read from shared memory as float4. Each dot product
// accumulates in dimension order with fmaf, as the CPU kernels do, so the two agree bit for bit.
__global__ void __launch_bounds__(kThreads)
    prefix_cosine(const float* __restrict__ queries, int nq, const float* __restrict__ corpus, int nc, int stride,
                  Bounds bounds, int nb, int max_dim, const float* __restrict__ inv_q, int ld_inv_q,
                  const float* __restrict__ inv_c, int ld_inv_c, float* __restrict__ scores) {
  __shared__ __align__(16) float a_tile[kTileK][kTileQ + kPad];
  __shared__ __align__(16) float b_tile[kTileK][kTileC + kPad];
  const int t = threadIdx.x;
  const int tx = t % 16, ty = t / 16;
  const int q_base = blockIdx.y * kTileQ, c_base = blockIdx.x * kTileC;
  float acc[8][8];
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;
  int next = 0;
  int next_bound = bounds.dim[0];
  // Staging: each thread copies 4 consecutive dims of one row of each tile.
  const int load_row = t / 2, load_k = (t % 2) * 4;
  const int lq = q_base + load_row, lc = c_base + load_row;
  const float* q_src = queries + size_t(lq < nq ? lq : 0) * stride;
  const float* c_src = corpus + size_t(lc < nc ? lc : 0) * stride;
  for (int k0 = 0; k0 < max_dim; k0 += kTileK) {
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      const int k = k0 + load_k + u;
      a_tile[load_k + u][load_row] = (lq < nq && k < max_dim) ? q_src[k] : 0.0f;
      b_tile[load_k + u][load_row] = (lc < nc && k < max_dim) ? c_src[k] : 0.0f;
    }
    __syncthreads();
    // Past max_dim the tiles hold zeros and no boundary is left to write: a fixed trip count.
#pragma unroll
    for (int kk = 0; kk < kTileK; ++kk) {
      const float4 a0 = *reinterpret_cast<const float4*>(&a_tile[kk][ty * 4]);
      const float4 a1 = *reinterpret_cast<const float4*>(&a_tile[kk][64 + ty * 4]);
      const float4 b0 = *reinterpret_cast<const float4*>(&b_tile[kk][tx * 4]);
      const float4 b1 = *reinterpret_cast<const float4*>(&b_tile[kk][64 + tx * 4]);
      const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      if (k0 + kk + 1 == next_bound) {  // the same for every thread: no divergence
        float ic[8];
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          const int c = c_base + (j < 4 ? tx * 4 + j : 64 + tx * 4 + j - 4);
          ic[j] = c < nc ? inv_c[size_t(next) * ld_inv_c + c] : 0.0f;
        }
#pragma unroll
        for (int i = 0; i < 8; ++i) {
          const int q = q_base + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
          if (q >= nq) continue;
          const float iq = inv_q[size_t(next) * ld_inv_q + q];
          float* out = scores + (size_t(next) * nq + q) * kCorpusBlock + c_base;
#pragma unroll
          for (int h = 0; h < 2; ++h) {
            const int c = h * 64 + tx * 4;
            const float4 v =
                make_float4((acc[i][h * 4] * iq) * ic[h * 4], (acc[i][h * 4 + 1] * iq) * ic[h * 4 + 1],
                            (acc[i][h * 4 + 2] * iq) * ic[h * 4 + 2], (acc[i][h * 4 + 3] * iq) * ic[h * 4 + 3]);
            if (c_base + c + 3 < nc) {
              *reinterpret_cast<float4*>(out + c) = v;  // kCorpusBlock rows and c are multiples of 4
            } else {
              const float w[4] = {v.x, v.y, v.z, v.w};
              for (int j = 0; j < 4 && c_base + c + j < nc; ++j) out[c + j] = w[j];
            }
          }
        }
        ++next;
        next_bound = next < nb ? bounds.dim[next] : -1;
      }
    }
    __syncthreads();
  }
}

// Shared-memory entries select_topk needs for k: the running top-k plus one chunk of candidates.
__host__ __device__ inline int select_capacity(int k) {
  int cap = 1;
  while (cap < k + kSelectChunk) cap <<= 1;
  return cap;
}

// Merges one corpus block into the running top-k of each (query, dim): grid (nq, nb). The
// block's row of scores is taken kSelectChunk at a time: the candidates of a chunk (those better
// than the running k-th hit) and the running top-k are sorted together (bitonic, in shared
// memory), and the next chunk is filtered against the new k-th hit. Past the first corpus block
// most chunks have no candidate and cost one read of their scores.
__global__ void __launch_bounds__(kThreads)
    select_topk(const float* __restrict__ scores, int nq, int q_offset, int nq_total, int nc, int c_offset, int k,
                float* top_s, int* top_i, int* top_n) {
  EMB_DYNAMIC_SHARED(unsigned char, smem);
  __shared__ int count;
  const int q = blockIdx.x, b = blockIdx.y;
  const size_t slot = size_t(b) * nq_total + q_offset + q;
  float* ts = top_s + slot * k;
  int* ti = top_i + slot * k;
  const float* row = scores + (size_t(b) * nq + q) * kCorpusBlock;
  float* ks = reinterpret_cast<float*>(smem);
  int* ki = reinterpret_cast<int*>(ks + select_capacity(k));
  int n = top_n[slot];  // the same in every thread
  for (int j0 = 0; j0 < nc; j0 += kSelectChunk) {
    // Every thread has read the last chunk's count (0, or before the merge's barriers) by the
    // time it reaches this barrier, and has written its part of ts.
    if (threadIdx.x == 0) count = 0;
    __syncthreads();
    const float thr_s = n == k ? ts[k - 1] : -INFINITY;
    const int thr_i = n == k ? ti[k - 1] : INT_MAX;
    const int j1 = min(nc, j0 + kSelectChunk);
    for (int j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
      const float s = row[j];
      const int c = c_offset + j;
      if (better(s, c, thr_s, thr_i)) {
        const int pos = n + atomicAdd(&count, 1);
        ks[pos] = s;
        ki[pos] = c;
      }
    }
    __syncthreads();
    const int total = n + count;
    if (total == n) continue;  // no candidate: the running top-k stands
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
      ks[j] = ts[j];
      ki[j] = ti[j];
    }
    int size = 1;
    while (size < total) size <<= 1;
    for (int j = total + threadIdx.x; j < size; j += blockDim.x) {
      ks[j] = -INFINITY;
      ki[j] = INT_MAX;
    }
    __syncthreads();
    // Bitonic sort, best first (score descending, then corpus row ascending).
    for (int len = 2; len <= size; len <<= 1) {
      for (int half = len >> 1; half > 0; half >>= 1) {
        for (int p = threadIdx.x; p < size / 2; p += blockDim.x) {
          const int i = 2 * half * (p / half) + (p % half);
          const int j = i + half;
          const bool first_better = better(ks[i], ki[i], ks[j], ki[j]);
          const bool best_first = (i & len) == 0;
          if (best_first != first_better) {
            const float s = ks[i];
            ks[i] = ks[j];
            ks[j] = s;
            const int x = ki[i];
            ki[i] = ki[j];
            ki[j] = x;
          }
        }
        __syncthreads();
      }
    }
    n = min(k, total);
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
      ts[j] = ks[j];
      ti[j] = ki[j];
    }
  }
  if (threadIdx.x == 0) top_n[slot] = n;
}

}  // namespace

bool cuda_compiled() { return true; }

EngineError cuda_device_info(std::string& name, int& count) {
  count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    count = 0;
    return {"ERR_NO_DEVICE", std::string("no usable CUDA device: ") + cudaGetErrorString(e)};
  }
  if (count == 0) return {"ERR_NO_DEVICE", "no CUDA device found"};
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) name = prop.name;
  return {};
}

EngineError score_cuda(const ScoreRequest& r, const ScoreOutput& out) {
  EngineError err = validate(r);
  if (err.ok()) err = validate_values(r);
  if (!err.ok()) return err;
  std::string name;
  int devices = 0;
  err = cuda_device_info(name, devices);
  if (!err.ok()) return err;
  if (r.nq == 0) return {};
  const int K = effective_k(r);
  if (K > kMaxK)
    return {"ERR_INVALID_ARG", "the GPU engine keeps at most " + std::to_string(kMaxK) + " hits per query"};
  std::vector<int> bounds = r.dims;
  std::sort(bounds.begin(), bounds.end());
  const int nb = static_cast<int>(bounds.size());
  if (nb > kMaxBounds)
    return {"ERR_INVALID_ARG", "the GPU engine scores at most " + std::to_string(kMaxBounds) + " dims at once"};
  const int max_dim = bounds.back();
  const int threads = r.threads > 0 ? r.threads : default_threads();

  // EMB_BENCH_CUDA_PROFILE=1: wait after every step and print where the time went (stderr);
  // the waits remove the overlap of host copies and kernels, so the total is not the real one.
  const char* profile_env = std::getenv("EMB_BENCH_CUDA_PROFILE");
  const bool profile = profile_env && *profile_env && std::strcmp(profile_env, "0") != 0;
  double t_norms = 0, t_setup = 0, t_stage = 0, t_upload = 0, t_product = 0, t_select = 0;
  auto clock = std::chrono::steady_clock::now();
  auto lap = [&](double& into) {
    const auto now = std::chrono::steady_clock::now();
    into += std::chrono::duration<double>(now - clock).count();
    clock = now;
  };

  std::vector<float> inv_q(size_t(nb) * r.nq), inv_c(size_t(nb) * r.nc);
  inverse_prefix_norms(r.queries, r.nq, r.dim, bounds, threads, inv_q.data());
  inverse_prefix_norms(r.corpus, r.nc, r.dim, bounds, threads, inv_c.data());
  lap(t_norms);

  CUDA_TRY(cudaSetDevice(0));
  Bounds bounds_arg{};
  std::copy(bounds.begin(), bounds.end(), bounds_arg.dim);
  const int q_chunk = static_cast<int>(
      std::min<int64_t>(r.nq, std::max<size_t>(1, kScoreBytes / (size_t(nb) * kCorpusBlock * sizeof(float)))));
  DeviceArray<float> d_queries, d_corpus, d_inv_q, d_inv_c, d_scores, d_top_s;
  DeviceArray<int> d_top_i, d_top_n;
  CUDA_TRY(d_queries.alloc(size_t(r.nq) * r.dim));
  CUDA_TRY(d_corpus.alloc(size_t(kCorpusBlock) * r.dim));
  CUDA_TRY(d_inv_q.alloc(inv_q.size()));
  CUDA_TRY(d_inv_c.alloc(inv_c.size()));
  CUDA_TRY(d_scores.alloc(size_t(nb) * q_chunk * kCorpusBlock));
  CUDA_TRY(d_top_s.alloc(size_t(nb) * r.nq * K));
  CUDA_TRY(d_top_i.alloc(size_t(nb) * r.nq * K));
  CUDA_TRY(d_top_n.alloc(size_t(nb) * r.nq));
  PinnedArray<float> staging;  // one corpus block on its way to the device
  CUDA_TRY(staging.alloc(size_t(kCorpusBlock) * r.dim));
  // All device work goes to one stream, in order. (From pageable memory, an asynchronous
  // upload has read its source by the time it returns.)
  Stream stream;
  Event uploaded;  // the staging buffer's last upload has finished
  CUDA_TRY(cudaStreamCreate(&stream.h));
  auto step = [&](double& into) {  // when profiling: wait for the device, then time the step
    if (!profile) return cudaSuccess;
    const cudaError_t e = cudaStreamSynchronize(stream.h);
    lap(into);
    return e;
  };
  CUDA_TRY(cudaEventCreateWithFlags(&uploaded.h, cudaEventDisableTiming));
  CUDA_TRY(cudaMemcpyAsync(d_queries.h, r.queries, sizeof(float) * r.nq * r.dim, cudaMemcpyHostToDevice, stream.h));
  CUDA_TRY(cudaMemcpyAsync(d_inv_q.h, inv_q.data(), sizeof(float) * inv_q.size(), cudaMemcpyHostToDevice, stream.h));
  CUDA_TRY(cudaMemcpyAsync(d_inv_c.h, inv_c.data(), sizeof(float) * inv_c.size(), cudaMemcpyHostToDevice, stream.h));
  CUDA_TRY(cudaMemsetAsync(d_top_n.h, 0, sizeof(int) * nb * r.nq, stream.h));

  const size_t select_smem = size_t(select_capacity(K)) * (sizeof(float) + sizeof(int));
  CUDA_TRY(
      cudaFuncSetAttribute(select_topk, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(select_smem)));

  CUDA_TRY(step(t_setup));
  // A block's upload waits (in stream order) for the previous block's kernels; meanwhile the
  // host copies the next block into the staging buffer once its last upload has finished.
  for (int64_t c0 = 0; c0 < r.nc; c0 += kCorpusBlock) {
    const int ncb = static_cast<int>(std::min<int64_t>(kCorpusBlock, r.nc - c0));
    const size_t bytes = sizeof(float) * ncb * r.dim;
    CUDA_TRY(cudaEventSynchronize(uploaded.h));
    if (profile) lap(t_select);  // waiting for the upload means waiting for the last kernels
    std::memcpy(staging.h, r.corpus + c0 * r.dim, bytes);
    if (profile) lap(t_stage);
    CUDA_TRY(cudaMemcpyAsync(d_corpus.h, staging.h, bytes, cudaMemcpyHostToDevice, stream.h));
    CUDA_TRY(cudaEventRecord(uploaded.h, stream.h));
    CUDA_TRY(step(t_upload));
    for (int64_t q0 = 0; q0 < r.nq; q0 += q_chunk) {
      const int nqc = static_cast<int>(std::min<int64_t>(q_chunk, r.nq - q0));
      const dim3 grid((ncb + kTileC - 1) / kTileC, (nqc + kTileQ - 1) / kTileQ);
      EMB_LAUNCH(prefix_cosine, grid, kThreads, 0, stream.h)
      (d_queries.h + q0 * r.dim, nqc, d_corpus.h, ncb, r.dim, bounds_arg, nb, max_dim, d_inv_q.h + q0,
       static_cast<int>(r.nq), d_inv_c.h + c0, static_cast<int>(r.nc), d_scores.h);
      CUDA_TRY(cudaGetLastError());
      CUDA_TRY(step(t_product));
      EMB_LAUNCH(select_topk, dim3(nqc, nb), kThreads, select_smem, stream.h)
      (d_scores.h, nqc, static_cast<int>(q0), static_cast<int>(r.nq), ncb, static_cast<int>(c0), K, d_top_s.h,
       d_top_i.h, d_top_n.h);
      CUDA_TRY(cudaGetLastError());
      CUDA_TRY(step(t_select));
    }
  }
  CUDA_TRY(cudaStreamSynchronize(stream.h));
  if (profile) {
    lap(t_select);
    std::fprintf(stderr,
                 "emb-bench cuda profile: nq %lld nc %lld dims %d k %d: host norms %.3f s, setup %.3f s, host staging "
                 "%.3f s, upload %.3f s, "
                 "product %.3f s, top-k %.3f s\n",
                 static_cast<long long>(r.nq), static_cast<long long>(r.nc), nb, K, t_norms, t_setup, t_stage, t_upload,
                 t_product, t_select);
  }

  const size_t per_dim = size_t(r.nq) * K;  // each dim's top-k goes straight to its output
  for (size_t o = 0; o < r.dims.size(); ++o) {
    const size_t b = std::lower_bound(bounds.begin(), bounds.end(), r.dims[o]) - bounds.begin();
    CUDA_TRY(cudaMemcpy(out.scores[o], d_top_s.h + b * per_dim, sizeof(float) * per_dim, cudaMemcpyDeviceToHost));
    CUDA_TRY(cudaMemcpy(out.indices[o], d_top_i.h + b * per_dim, sizeof(int) * per_dim, cudaMemcpyDeviceToHost));
  }
  return {};
}

}  // namespace embbench
