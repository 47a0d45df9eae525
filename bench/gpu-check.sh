#!/usr/bin/env bash
# One prepared run for a GPU host (no Node.js needed): build the engine with CUDA, check it
# against the CPU engine (random data, and shared/golden/random-768 when it is there), and
# time nq 10k x nc 1M x 768 at five dims. Usage: bash bench/gpu-check.sh [GOLDEN_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
golden="${1:-../shared/golden/random-768}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
cmake -S . -B build-gpu-check -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMB_BENCH_GPU_CHECK=ON > build-gpu-check.log 2>&1 \
  || cmake -S . -B build-gpu-check -DCMAKE_BUILD_TYPE=Release -DEMB_BENCH_GPU_CHECK=ON >> build-gpu-check.log 2>&1
cmake --build build-gpu-check -j "$(nproc)" --target emb_bench_gpu_check >> build-gpu-check.log 2>&1 || { tail -30 build-gpu-check.log; exit 1; }
if [ -d "$golden" ]; then ./build-gpu-check/emb_bench_gpu_check "$golden"; else ./build-gpu-check/emb_bench_gpu_check; fi
