// The GPU engine's source, compiled as C++ against the host emulation (cuda_runtime.h here),
// for bench/gpu_check.cc's emulated build (CMake option EMB_BENCH_CUDA_EMU).
#include "../score_cuda.cu"
