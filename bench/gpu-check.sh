#!/usr/bin/env bash
# One prepared run for a GPU host (no Node.js needed): build the engine with CUDA, check it
# against the CPU engine (random data, edge cases, and shared/golden/random-768 when it is
# there), time nq 10k x nc 1M x 768 at five dims, then run the small checks under
# compute-sanitizer (memcheck, racecheck, synccheck) where it works (Firecracker hosts; not
# gVisor). Expected to take a few minutes on an H200-class host (an estimate: not yet timed).
# Usage: bash bench/gpu-check.sh [GOLDEN_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
golden="${1:-../shared/golden/random-768}"
[ -d "$golden" ] || golden=".golden/random-768"  # a copy inside the checkout (bench/README.md)
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader || true
nvcc --version | tail -2
lscpu | grep -E "Model name|^CPU\(s\)"
echo "CPU features: $(grep -o -w -E 'avx512f|avx2|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
build() {
  cmake -S . -B build-gpu-check -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMB_BENCH_GPU_CHECK=ON > build-gpu-check.log 2>&1 \
    || cmake -S . -B build-gpu-check -DCMAKE_BUILD_TYPE=Release -DEMB_BENCH_GPU_CHECK=ON >> build-gpu-check.log 2>&1
  cmake --build build-gpu-check -j "$(nproc)" --target emb_bench_gpu_check >> build-gpu-check.log 2>&1
}
echo "== build"
time build || { tail -40 build-gpu-check.log; exit 1; }
exe=./build-gpu-check/emb_bench_gpu_check
echo "== check and timing"
if [ -d "$golden" ]; then $exe "$golden"; else echo "(no golden dir: $golden)"; $exe; fi
status=$?
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck synccheck; do
    echo "== compute-sanitizer --tool $tool (small checks)"
    timeout 240 compute-sanitizer --tool "$tool" --error-exitcode 3 "$exe" --quick 2>&1 | grep -vE "^(random|k |device|bitwise)" | tail -15
    rc=${PIPESTATUS[0]}
    echo "compute-sanitizer $tool: exit $rc$([ "$rc" = 124 ] && echo ' (timed out)')"
    [ "$rc" = 0 ] || [ "$rc" = 124 ] || status=1
  done
fi
exit $status
