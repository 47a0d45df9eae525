// The host emulation's runtime (see cuda_runtime.h): memory, device facts, the queue of
// device work, and the fiber scheduler that runs a thread block's threads between barriers.
// Fibers switch stacks with a few lines of x86-64 assembly; elsewhere (or with
// -DEMB_EMU_UCONTEXT) with ucontext, which is correct but about 8x slower (a syscall a switch).
#include <cstdint>
#include <deque>
#include <memory>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cuda_runtime.h"

#if !defined(__x86_64__) || defined(EMB_EMU_UCONTEXT)
#include <ucontext.h>
#endif

namespace cuda_emu {
namespace {

constexpr size_t kDefaultSmem = 48 * 1024;
constexpr size_t kOptinSmem = 227 * 1024;  // sm_90
constexpr size_t kStackBytes = 64 * 1024;

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Memory {
  std::map<void*, size_t> blocks;
  size_t used = 0;
  size_t limit() const { return env_size("EMB_EMU_MEMORY", size_t(1) << 40); }
};
Memory& memory() {
  static Memory m;
  return m;
}

cudaError_t sticky = cudaSuccess;  // the last launch failure, for cudaGetLastError
std::map<void*, size_t> pinned;    // cudaMallocHost blocks

// Device work in issue order; run only when the host waits for it.
std::deque<std::function<void()>> queue;
uint64_t issued = 0, done = 0;
void enqueue(std::function<void()> op) {
  queue.push_back(std::move(op));
  ++issued;
}
void run_until(uint64_t mark) {
  while (done < mark) {
    auto op = std::move(queue.front());
    queue.pop_front();
    ++done;
    op();
  }
}
void run_all() { run_until(issued); }
std::map<const void*, int> max_dynamic_smem;
std::mt19937_64 rng(env_size("EMB_EMU_SEED", 1));

// ---- fibers -------------------------------------------------------------------------------
struct Fiber {
  std::vector<unsigned char> stack = std::vector<unsigned char>(kStackBytes);
  void* sp = nullptr;
  bool done = false;
#if !defined(__x86_64__) || defined(EMB_EMU_UCONTEXT)
  ucontext_t ctx;
#endif
};

const std::function<void()>* g_body = nullptr;
Fiber* g_current = nullptr;
void* g_scheduler_sp = nullptr;
#if !defined(__x86_64__) || defined(EMB_EMU_UCONTEXT)
ucontext_t g_scheduler_ctx;
#endif

}  // namespace
}  // namespace cuda_emu

#if defined(__x86_64__) && !defined(EMB_EMU_UCONTEXT)
// switch_stack(save, load): saves the callee-saved registers, MXCSR and the x87 control word
// on this stack, stores the stack pointer in *save, and resumes the stack at load.
extern "C" void emb_emu_switch_stack(void** save, void* load);
asm(R"(
  .text
  .globl emb_emu_switch_stack
  .hidden emb_emu_switch_stack
  .type emb_emu_switch_stack, @function
emb_emu_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size emb_emu_switch_stack, .-emb_emu_switch_stack
  .section .note.GNU-stack,"",@progbits
  .text
)");
#endif

namespace cuda_emu {

struct Stream {};
struct Event {
  uint64_t mark = 0;  // the queue position it was recorded at
};

namespace {

void to_scheduler() {
#if defined(__x86_64__) && !defined(EMB_EMU_UCONTEXT)
  emb_emu_switch_stack(&g_current->sp, g_scheduler_sp);
#else
  swapcontext(&g_current->ctx, &g_scheduler_ctx);
#endif
}

void to_fiber(Fiber& f) {
  g_current = &f;
#if defined(__x86_64__) && !defined(EMB_EMU_UCONTEXT)
  emb_emu_switch_stack(&g_scheduler_sp, f.sp);
#else
  swapcontext(&g_scheduler_ctx, &f.ctx);
#endif
}

[[noreturn]] void fiber_main() {
  (*g_body)();
  g_current->done = true;
  to_scheduler();
  std::abort();  // a finished fiber is never resumed
}

void start_fiber(Fiber& f) {
  f.done = false;
#if defined(__x86_64__) && !defined(EMB_EMU_UCONTEXT)
  // The frame emb_emu_switch_stack pops: MXCSR and x87 control word, r15..rbp, then the
  // return address (fiber_main), above which sits a null "caller" so that fiber_main starts
  // with the stack aligned as after a call.
  auto top = reinterpret_cast<uintptr_t>(f.stack.data() + f.stack.size()) & ~uintptr_t(15);
  auto* s = reinterpret_cast<uint64_t*>(top);
  *--s = 0;
  *--s = reinterpret_cast<uint64_t>(&fiber_main);
  for (int i = 0; i < 6; ++i) *--s = 0;
  *--s = 0x1F80ull | (0x037Full << 32);
  f.sp = s;
#else
  getcontext(&f.ctx);
  f.ctx.uc_stack.ss_sp = f.stack.data();
  f.ctx.uc_stack.ss_size = f.stack.size();
  f.ctx.uc_link = nullptr;
  makecontext(&f.ctx, reinterpret_cast<void (*)()>(&fiber_main), 0);
#endif
}

std::vector<unsigned char> g_dynamic_smem;

bool launch_error(cudaError_t e, const std::string& why) {
  std::fprintf(stderr, "cuda-emu: launch failed: %s\n", why.c_str());
  if (sticky == cudaSuccess) sticky = e;
  return false;
}

// One thread block; false when its threads disagree on a barrier.
bool run_block(unsigned threads) {
  static std::vector<Fiber> fibers;
  if (fibers.size() < threads) fibers.resize(threads);
  std::vector<unsigned> live(threads);
  for (unsigned t = 0; t < threads; ++t) {
    start_fiber(fibers[t]);
    live[t] = t;
  }
  while (!live.empty()) {
    std::shuffle(live.begin(), live.end(), rng);
    for (unsigned t : live) {
      threadIdx = dim3(t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y));
      to_fiber(fibers[t]);
    }
    size_t finished = 0;
    for (unsigned t : live) finished += fibers[t].done;
    if (finished == live.size()) break;
    if (finished > 0)
      return launch_error(cudaErrorLaunchFailure, "block (" + std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "): " +
                                                      std::to_string(finished) + " of " + std::to_string(live.size()) +
                                                      " threads returned while the others wait at __syncthreads()");
  }
  return true;
}

}  // namespace

cudaError_t set_func_max_dynamic_smem(const void* func, int bytes) {
  if (bytes < 0 || size_t(bytes) > kOptinSmem) return cudaErrorInvalidValue;
  max_dynamic_smem[func] = bytes;
  return cudaSuccess;
}

void* dynamic_shared() { return g_dynamic_smem.data(); }

void run_grid(dim3 grid, dim3 block, size_t dynamic_smem, const std::function<void()>& body) {
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  g_dynamic_smem.assign(std::max<size_t>(dynamic_smem, 1), 0xFF);
  gridDim = grid;
  blockDim = block;
  g_body = &body;
  std::vector<uint64_t> order(uint64_t(grid.x) * grid.y * grid.z);
  for (uint64_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  for (uint64_t b : order) {
    blockIdx = dim3(unsigned(b % grid.x), unsigned((b / grid.x) % grid.y), unsigned(b / (uint64_t(grid.x) * grid.y)));
    std::fill(g_dynamic_smem.begin(), g_dynamic_smem.end(), 0xFF);
    if (!run_block(static_cast<unsigned>(threads))) break;
  }
  g_body = nullptr;
}

void launch(const void* func, dim3 grid, dim3 block, size_t dynamic_smem, std::function<void()> body) {
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 2147483647u || grid.y > 65535 ||
      grid.z > 65535) {
    launch_error(cudaErrorInvalidConfiguration, "grid (" + std::to_string(grid.x) + "," + std::to_string(grid.y) + "," + std::to_string(grid.z) +
                                                    ") x block (" + std::to_string(block.x) + "," + std::to_string(block.y) + "," +
                                                    std::to_string(block.z) + ")");
    return;
  }
  const auto opt = max_dynamic_smem.find(func);
  const size_t allowed = opt == max_dynamic_smem.end() ? kDefaultSmem : size_t(opt->second);
  if (dynamic_smem > allowed) {
    launch_error(cudaErrorInvalidValue, std::to_string(dynamic_smem) + " bytes of dynamic shared memory, " + std::to_string(allowed) +
                                            " allowed (cudaFuncSetAttribute raises it to at most " + std::to_string(kOptinSmem) + ")");
    return;
  }
  enqueue([=] { run_grid(grid, block, dynamic_smem, body); });
}


}  // namespace cuda_emu

using namespace cuda_emu;

void __syncthreads() {
  if (!g_current) std::abort();  // called outside a kernel
  to_scheduler();
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = static_cast<int>(env_size("EMB_EMU_DEVICES", 1));
  return *count > 0 ? cudaSuccess : cudaErrorNoDevice;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int) {
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "host emulation of a CUDA device");
  prop->major = 9;
  prop->multiProcessorCount = 1;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr, int) {
  *value = 1000000;  // "clock rate" in kHz; emulated timings mean nothing
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  int n = 0;
  cudaGetDeviceCount(&n);
  return device >= 0 && device < n ? cudaSuccess : cudaErrorInvalidValue;
}


cudaError_t cudaGetLastError() {
  const cudaError_t e = sticky;
  sticky = cudaSuccess;
  return e;
}

cudaError_t cudaMallocBytes(void** p, size_t bytes) {
  Memory& m = memory();
  *p = nullptr;
  if (m.used + bytes > m.limit()) return cudaErrorMemoryAllocation;
  void* q = std::malloc(std::max<size_t>(bytes, 1));
  if (!q) return cudaErrorMemoryAllocation;
  std::memset(q, 0xFF, bytes);
  m.blocks[q] = bytes;
  m.used += bytes;
  *p = q;
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  run_all();  // as on the device, freeing waits for the work in flight
  if (!p) return cudaSuccess;
  Memory& m = memory();
  const auto it = m.blocks.find(p);
  if (it == m.blocks.end()) return cudaErrorInvalidValue;
  m.used -= it->second;
  m.blocks.erase(it);
  std::free(p);
  return cudaSuccess;
}

static bool in_block(const std::map<void*, size_t>& blocks, const void* p, size_t bytes) {
  auto it = blocks.upper_bound(const_cast<void*>(p));
  if (it == blocks.begin()) return false;
  --it;
  const auto* base = static_cast<const unsigned char*>(it->first);
  const auto* q = static_cast<const unsigned char*>(p);
  return q >= base && q + bytes <= base + it->second;
}
// Copies must stay inside one allocation on the device side, as on the device.
static bool in_device_block(const void* p, size_t bytes) { return in_block(memory().blocks, p, bytes); }
static bool in_pinned_block(const void* p, size_t bytes) { return in_block(pinned, p, bytes); }

static bool copy_in_bounds(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  const bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  return !(dst_dev && !in_device_block(dst, bytes)) && !(src_dev && !in_device_block(src, bytes));
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (!copy_in_bounds(dst, src, bytes, kind)) return cudaErrorInvalidValue;
  run_all();
  if (bytes) std::memmove(dst, src, bytes);
  return sticky;
}

// Pageable host memory is read (or, for downloads, written) before the call returns, as
// CUDA does; cudaMallocHost memory when the copy runs.
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  if (!copy_in_bounds(dst, src, bytes, kind)) return cudaErrorInvalidValue;
  if (!bytes) return cudaSuccess;
  if (kind == cudaMemcpyHostToDevice && !in_pinned_block(src, bytes)) {
    auto copy = std::make_shared<std::vector<unsigned char>>(static_cast<const unsigned char*>(src), static_cast<const unsigned char*>(src) + bytes);
    enqueue([=] { std::memcpy(dst, copy->data(), bytes); });
  } else if (kind == cudaMemcpyDeviceToHost && !in_pinned_block(dst, bytes)) {
    run_all();
    std::memmove(dst, src, bytes);
  } else {
    enqueue([=] { std::memmove(dst, src, bytes); });
  }
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  if (!in_device_block(p, bytes)) return cudaErrorInvalidValue;
  enqueue([=] { std::memset(p, value, bytes); });
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** p, size_t bytes) {
  *p = std::malloc(std::max<size_t>(bytes, 1));
  if (!*p) return cudaErrorMemoryAllocation;
  std::memset(*p, 0xFF, bytes);
  pinned[*p] = bytes;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* p) {
  run_all();
  if (!p) return cudaSuccess;
  if (!pinned.erase(p)) return cudaErrorInvalidValue;
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  *stream = new Stream;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) {
  run_all();
  return sticky;
}
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;  // work already queued still runs, as on the device
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) {
  *event = new Event;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  event->mark = issued;
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  run_until(event->mark);
  return sticky;
}
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
