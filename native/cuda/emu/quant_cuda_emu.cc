// The quantized GPU engine's source, compiled as C++ against the host emulation (cuda_runtime.h
// here), for the emulated builds (CMake option EMB_BENCH_CUDA_EMU).
#include "../quant_cuda.cu"
