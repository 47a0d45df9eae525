// Host emulation of the part of the CUDA runtime that native/cuda uses, so that the GPU
// engine's own kernels and host code run, exactly and slowly, where there is no GPU (CI, and
// every machine this project has had so far). It is a test instrument, never linked into the
// addon: native/cuda/emu/score_cuda_emu.cc compiles native/cuda/score_cuda.cu as C++ with
// this header standing in for <cuda_runtime.h> (CMake option EMB_BENCH_CUDA_EMU).
//
// Model: device work (launches, asynchronous copies and sets) is queued in issue order and
// runs only when the host waits for it (an event or stream synchronisation, a synchronous
// copy, cudaFree): as late as the device may run it, so a host that reuses a buffer before
// the work reading it has finished gets wrong answers here too. An asynchronous upload from
// pageable memory reads its source at once (as CUDA does); from cudaMallocHost memory, when it
// runs. Thread blocks run one after another, in a shuffled order; the threads of a block run
// as fibers on one OS thread, each to its next __syncthreads(), in a freshly shuffled order
// for every barrier phase, so a missing barrier or a cross-thread race within a phase shows
// up as a wrong answer. A __syncthreads() that not every thread of the block reaches, a block
// over 1,024 threads, a grid over the hardware's limits, or dynamic shared memory over 48 KiB
// without cudaFuncSetAttribute (or over the device's opt-in maximum) fails the launch, as it
// would on the device. Dynamic shared memory and cudaMalloc'd memory start filled with 0xFF
// bytes (NaN floats, -1 ints), so reading what was never written shows. Static __shared__
// arrays are plain statics: shared by the block's fibers, as on the device.
//
// Knobs (environment): EMB_EMU_DEVICES=0 (no device), EMB_EMU_MEMORY=bytes (device memory
// size, for out-of-memory paths), EMB_EMU_SEED=n (fiber and block order).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>

#ifndef EMB_BENCH_CUDA_EMU
#define EMB_BENCH_CUDA_EMU 1
#endif
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

struct alignas(16) float4 {
  float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// The running fiber's coordinates; set by the scheduler on every switch.
inline dim3 threadIdx, blockIdx, blockDim, gridDim;

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNoDevice = 100,
  cudaErrorLaunchFailure = 719,
};
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
enum cudaEventFlags { cudaEventDisableTiming = 2 };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum cudaDeviceAttr { cudaDevAttrClockRate = 13 };

struct cudaDeviceProp {
  char name[256];
  int major, minor, multiProcessorCount;
};

namespace cuda_emu {
struct Stream;
struct Event;
}  // namespace cuda_emu
using cudaStream_t = cuda_emu::Stream*;
using cudaEvent_t = cuda_emu::Event*;

const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetLastError();
cudaError_t cudaMallocBytes(void** p, size_t bytes);
cudaError_t cudaFree(void* p);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMallocHost(void** p, size_t bytes);
cudaError_t cudaFreeHost(void* p);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream = nullptr);
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
template <class T>
cudaError_t cudaMalloc(T** p, size_t bytes) {
  return cudaMallocBytes(reinterpret_cast<void**>(p), bytes);
}

void __syncthreads();
inline int atomicAdd(int* p, int v) {  // fibers switch only at barriers: a plain add is atomic
  const int old = *p;
  *p = old + v;
  return old;
}
inline int min(int a, int b) { return a < b ? a : b; }

namespace cuda_emu {

cudaError_t set_func_max_dynamic_smem(const void* func, int bytes);
// Queues body to run as grid x block fibers; a launch that cannot run is returned by the next
// cudaGetLastError(), one that fails while running by the next synchronisation.
void launch(const void* func, dim3 grid, dim3 block, size_t dynamic_smem, std::function<void()> body);
void* dynamic_shared();

template <class F>
struct Launch {
  F* func;
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;  // one queue for all streams: issue order is a valid device order
  template <class... A>
  void operator()(A... args) const {
    F* f = func;
    launch(reinterpret_cast<const void*>(f), grid, block, smem, [=] { f(args...); });
  }
};

}  // namespace cuda_emu

template <class F>
cudaError_t cudaFuncSetAttribute(F* func, cudaFuncAttribute, int value) {
  return cuda_emu::set_func_max_dynamic_smem(reinterpret_cast<const void*>(func), value);
}

// The two spots where CUDA syntax differs: kernel launches and extern __shared__ arrays.
#define EMB_LAUNCH(kernel, grid, block, smem, stream) \
  (::cuda_emu::Launch<decltype(kernel)>{kernel, dim3(grid), dim3(block), size_t(smem), stream})
#define EMB_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::cuda_emu::dynamic_shared())
