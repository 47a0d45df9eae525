// What the GPU engines share (score_cuda.cu, quant_cuda.cu): kernel launches that the host
// emulation can take, CUDA errors as EngineErrors, and owned device and pinned memory.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "../engine.h"

#ifndef EMB_LAUNCH  // the host emulation (emu/cuda_runtime.h) defines its own
#define EMB_LAUNCH(kernel, grid, block, smem, stream) kernel<<<grid, block, smem, stream>>>
#define EMB_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

namespace embbench {
namespace gpu {

inline EngineError cuda_error(cudaError_t e, const char* what) {
  if (e == cudaErrorMemoryAllocation) return {"ERR_OOM", std::string("GPU out of memory (") + what + ")"};
  return {"ERR_CUDA", std::string(what) + ": " + cudaGetErrorString(e)};
}

#define CUDA_TRY(expr)                                       \
  do {                                                       \
    cudaError_t err_ = (expr);                               \
    if (err_ != cudaSuccess) return cuda_error(err_, #expr); \
  } while (0)

// Owns a CUDA resource and releases it when it goes out of scope.
template <class H, cudaError_t (*Release)(H)>
struct Owned {
  H h{};
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() {
    if (h) Release(h);
  }
};
template <class T>
inline cudaError_t free_device(T* p) {
  return cudaFree(p);
}
template <class T>
inline cudaError_t free_pinned(T* p) {
  return cudaFreeHost(p);
}

template <class T>
struct DeviceArray : Owned<T*, free_device<T>> {
  cudaError_t alloc(size_t n) { return cudaMalloc(&this->h, std::max<size_t>(n, 1) * sizeof(T)); }
};
// Page-locked host memory: what an asynchronous upload reads from while the host goes on.
template <class T>
struct PinnedArray : Owned<T*, free_pinned<T>> {
  cudaError_t alloc(size_t n) {
    return cudaMallocHost(reinterpret_cast<void**>(&this->h), std::max<size_t>(n, 1) * sizeof(T));
  }
};
}  // namespace gpu
}  // namespace embbench
