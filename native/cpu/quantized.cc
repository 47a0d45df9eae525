// The quantized first stage (engine.h: score_quantized): Hamming distances of packed sign bits,
// or integer inner products of int8 / uint8 rows, at every bound in one pass, each query's top k
// per bound in FAISS's order. The corpus is packed once into the kernels' panels (quant.h); the
// queries are split between threads, and each thread takes the corpus a cache-sized block at a
// time for all of its queries.
#include <cstdlib>

#include "../quant.h"
#include "common.h"

namespace embbench {

namespace {

using Kind = QuantRequest::Kind;
using cpu::parallel_for;

// AVX-512 with VNNI runs the int8 / uint8 kernel; the Hamming kernel also needs VPOPCNTDQ (Ice
// Lake, Zen 4 on) and is AVX2's where it is missing (Cascade and Cooper Lake).
bool has_avx512_vnni() {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("popcnt");
#else
  return false;
#endif
}

bool has_vpopcntdq() {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vpopcntdq");
#else
  return false;
#endif
}

bool has_avx2_quant() {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#else
  return false;
#endif
}

#if defined(__x86_64__) || defined(_M_X64)
const QuantKernel* avx512_kernel() {
  if (!has_avx512_vnni()) return nullptr;
  if (has_vpopcntdq()) return &quant_kernel_avx512();
  static const QuantKernel mixed{"avx512-vnni", quant_kernel_avx2().hamming, quant_kernel_avx512().dot};
  return &mixed;
}
#endif

const QuantKernel* quant_kernel_for(ScoreRequest::Isa isa) {
  using I = ScoreRequest::Isa;
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == I::Auto) {
    const char* forced = std::getenv("EMB_BENCH_KERNEL");
    if (forced && std::strcmp(forced, "generic") == 0) return &quant_kernel_generic();
    if (forced && std::strcmp(forced, "avx2") == 0 && has_avx2_quant()) return &quant_kernel_avx2();
    if (const QuantKernel* k = avx512_kernel()) return k;
    if (has_avx2_quant()) return &quant_kernel_avx2();
    return &quant_kernel_generic();
  }
  if (isa == I::Avx512) return avx512_kernel();
  if (isa == I::Avx2) return has_avx2_quant() ? &quant_kernel_avx2() : nullptr;
#else
  if (isa == I::Avx2 || isa == I::Avx512) return nullptr;
#endif
  return &quant_kernel_generic();
}

// A hit as a 64-bit key whose unsigned order is the ranking order (larger: better). Hamming:
// smaller distance first, equal distances by ascending row (IndexBinaryFlat's order); dot: larger
// product first, equal products by descending row (IndexFlatIP's order).
inline Key hamming_key(int32_t dist, int32_t row) {
  return (static_cast<Key>(static_cast<uint32_t>(0x7FFFFFFF - dist)) << 32) |
         (0xFFFFFFFFu - static_cast<uint32_t>(row));
}
inline Key dot_key(int32_t ip, int32_t row) {
  return (static_cast<Key>(static_cast<uint32_t>(ip) ^ 0x80000000u) << 32) | static_cast<uint32_t>(row);
}
inline int32_t key_row_of(Key k, bool hamming) {
  const uint32_t low = static_cast<uint32_t>(k);
  return static_cast<int32_t>(hamming ? 0xFFFFFFFFu - low : low);
}
inline int32_t key_value_of(Key k, bool hamming) {
  const uint32_t high = static_cast<uint32_t>(k >> 32);
  return hamming ? 0x7FFFFFFF - static_cast<int32_t>(high) : static_cast<int32_t>(high ^ 0x80000000u);
}

int row_bytes(const QuantRequest& r) { return r.kind == Kind::Hamming ? (r.dim + 7) / 8 : r.dim; }

}  // namespace

EngineError validate_quantized(const QuantRequest& r) {
  auto bad = [](std::string m) { return EngineError{"ERR_INVALID_ARG", std::move(m)}; };
  if (r.kind != Kind::Hamming && r.dim > 32768)
    return bad("int8 / uint8 embeddings wider than 32768 are not supported");
  if (!quant_kernel_for(r.isa)) return bad("kernel: this CPU cannot run the kernel asked for");
  return cpu::check_request_shape(r.dim, r.nq, r.nc, r.k, r.dims, r.queries, r.corpus);
}

const char* quant_kernel_name(ScoreRequest::Isa isa) {
  const QuantKernel* k = quant_kernel_for(isa);
  return k ? k->name : nullptr;
}

EngineError score_quantized(const QuantRequest& r, const QuantOutput& out) {
  EngineError err = validate_quantized(r);
  if (!err.ok()) return err;
  try {
    const QuantKernel& kern = *quant_kernel_for(r.isa);
    if (out.kernel) *out.kernel = kern.name;
    const bool hamming = r.kind == Kind::Hamming;
    std::vector<int> bounds = r.dims;
    std::sort(bounds.begin(), bounds.end());
    const int nb = static_cast<int>(bounds.size());
    const int maxb = bounds.back();
    const int K = static_cast<int>(std::min<int64_t>(r.k, r.nc));
    const int lanes = hamming ? kHammingLanes : kDotLanes;
    const int unit_dims = hamming ? 64 : 4;
    const int units = (maxb + unit_dims - 1) / unit_dims;
    const int rb = row_bytes(r);
    const int64_t npanels = (r.nc + lanes - 1) / lanes;
    const long long panel_bytes = static_cast<long long>(units) * 64;

    // Steps: each unit split at the bounds inside it (quant.h's QStep); q filled per query.
    std::vector<QStep> shape;
    std::vector<std::pair<int, int>> spans;  // each step's dims [lo, hi)
    {
      int next = 0;  // bounds[next] is the next bound to record
      for (int u = 0; u < units; ++u) {
        int lo = u * unit_dims;
        const int end = std::min((u + 1) * unit_dims, maxb);
        while (lo < end) {
          const int hi = next < nb && bounds[next] <= end ? bounds[next] : end;
          QStep st{u, -1, 0, 0};
          if (next < nb && hi == bounds[next]) st.record = next++;
          if (hamming)
            for (int i = lo; i < hi; ++i) st.mask |= uint64_t{1} << (8 * ((i / 8) % 8) + 7 - i % 8);
          shape.push_back(st);
          spans.emplace_back(lo, hi);
          lo = hi;
        }
      }
    }
    const int nsteps = static_cast<int>(shape.size());

    // The corpus in panels; int8 rows + 128; uint8: each row's prefix sums x 128 per bound.
    std::unique_ptr<uint8_t[]> panels(new uint8_t[static_cast<size_t>(npanels) * panel_bytes]);
    std::unique_ptr<int32_t[]> rowbias;
    if (r.kind == Kind::Uint8) rowbias.reset(new int32_t[static_cast<size_t>(npanels) * nb * lanes]);
    parallel_for(npanels, r.threads, [&](int64_t p) {
      uint8_t* dst = panels.get() + p * panel_bytes;
      std::memset(dst, 0, static_cast<size_t>(panel_bytes));
      for (int j = 0; j < lanes; ++j) {
        const int64_t row = p * lanes + j;
        if (row >= r.nc) {
          if (rowbias)
            for (int b = 0; b < nb; ++b) rowbias[(p * nb + b) * lanes + j] = 0;
          continue;
        }
        const uint8_t* src = r.corpus + row * rb;
        if (hamming) {
          for (int u = 0; u < units; ++u)
            for (int t = 0; t < 8 && u * 8 + t < rb; ++t) dst[(u * lanes + j) * 8 + t] = src[u * 8 + t];
        } else {
          const uint8_t flip = r.kind == Kind::Int8 ? 0x80 : 0;
          for (int i = 0; i < maxb; ++i) dst[((i / 4) * lanes + j) * 4 + i % 4] = src[i] ^ flip;
          if (rowbias) {
            int32_t sum = 0;
            int b = 0;
            for (int i = 0; i < maxb; ++i) {
              sum += src[i];
              while (b < nb && bounds[b] == i + 1) rowbias[(p * nb + b++) * lanes + j] = 128 * sum;
            }
          }
        }
      }
    });

    const int64_t block = std::max<int64_t>(4, (262144 / panel_bytes) / 4 * 4);
    const int threads = std::max(1, r.threads);
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(64, (r.nq + threads * 4 - 1) / (threads * 4)));
    const int64_t chunks = (r.nq + chunk - 1) / chunk;
    const int cap = 4 * K + lanes;
    parallel_for(chunks, threads, [&](int64_t c) {
      const int64_t q0 = c * chunk, q1 = std::min(r.nq, q0 + chunk);
      const int64_t nqc = q1 - q0;
      std::vector<QStep> steps(static_cast<size_t>(nqc) * nsteps);
      std::vector<int32_t> qbias(static_cast<size_t>(nqc) * nb, 0);
      std::vector<int32_t> thresh(static_cast<size_t>(nqc) * nb, hamming ? INT32_MAX : INT32_MIN);
      std::vector<Key> bufs(static_cast<size_t>(nqc) * nb * cap);
      std::vector<int> count(static_cast<size_t>(nqc) * nb, 0);
      for (int64_t q = 0; q < nqc; ++q) {
        const uint8_t* src = r.queries + (q0 + q) * rb;
        for (int s = 0; s < nsteps; ++s) {
          QStep st = shape[s];
          if (hamming) {
            uint8_t w[8] = {};
            for (int t = 0; t < 8 && st.unit * 8 + t < rb; ++t) w[t] = src[st.unit * 8 + t];
            std::memcpy(&st.q, w, 8);
          } else {
            int8_t w[4] = {};
            for (int i = spans[s].first; i < spans[s].second; ++i)
              w[i % 4] = static_cast<int8_t>(r.kind == Kind::Uint8 ? src[i] ^ 0x80 : src[i]);
            uint32_t v;
            std::memcpy(&v, w, 4);
            st.q = v;
          }
          steps[q * nsteps + s] = st;
        }
        if (r.kind == Kind::Int8) {
          int32_t sum = 0;
          int b = 0;
          for (int i = 0; i < maxb; ++i) {
            sum += static_cast<int8_t>(src[i]);
            while (b < nb && bounds[b] == i + 1) qbias[q * nb + b++] = -128 * sum;
          }
        }
      }
      const int sub = hamming ? 64 : 16;
      std::vector<int32_t> values(static_cast<size_t>(kQuantQueries) * sub * nb * lanes);
      std::vector<uint32_t> masks(static_cast<size_t>(kQuantQueries) * sub * nb);
      std::vector<uint64_t> any(static_cast<size_t>(kQuantQueries) * nb);
      auto cut = [&](Key* buf, int& n, int32_t& thr) {
        std::nth_element(buf, buf + (K - 1), buf + n, std::greater<Key>());
        n = K;
        thr = key_value_of(buf[K - 1], hamming);
      };
      // The kernel takes a query across `sub` panels at a time, so the threshold it filters with
      // tightens as the rows go by (a whole cache block at the first threshold, none, would push
      // every one of its rows).
      for (int64_t p0 = 0; p0 < npanels; p0 += block) {
        const int64_t p1 = std::min(npanels, p0 + block);
        for (int64_t g = 0; g < nqc; g += kQuantQueries)
          for (int64_t s0 = p0; s0 < p1; s0 += sub) {
            const int np = static_cast<int>(std::min<int64_t>(sub, p1 - s0));
            const int nqr = static_cast<int>(std::min<int64_t>(kQuantQueries, nqc - g));
            QuantTileArgs a{};
            a.nqueries = nqr;
            a.nsteps = nsteps;
            a.panels = panels.get() + s0 * panel_bytes;
            a.panel_bytes = panel_bytes;
            a.npanels = np;
            a.nb = nb;
            a.rowbias = rowbias ? rowbias.get() + s0 * nb * lanes : nullptr;
            for (int i = 0; i < nqr; ++i) {
              const int64_t q = g + i;
              a.steps[i] = steps.data() + q * nsteps;
              a.thresh[i] = thresh.data() + q * nb;
              a.qbias[i] = r.kind == Kind::Int8 ? qbias.data() + q * nb : nullptr;
              a.values[i] = values.data() + static_cast<size_t>(i) * sub * nb * lanes;
              a.masks[i] = masks.data() + static_cast<size_t>(i) * sub * nb;
              a.any[i] = any.data() + static_cast<size_t>(i) * nb;
            }
            std::fill(any.begin(), any.end(), 0);
            hamming ? kern.hamming(a) : kern.dot(a);
            for (int i = 0; i < nqr; ++i) {
              const int64_t q = g + i;
              for (int b = 0; b < nb; ++b)
                for (uint64_t panels_hit = a.any[i][b]; panels_hit; panels_hit &= panels_hit - 1) {
                  const int p = __builtin_ctzll(panels_hit);
                  uint32_t m = a.masks[i][static_cast<size_t>(p) * nb + b];
                  const size_t qb = static_cast<size_t>(q) * nb + b;
                  Key* buf = bufs.data() + qb * cap;
                  const int32_t* v = a.values[i] + (static_cast<size_t>(p) * nb + b) * lanes;
                  for (; m; m &= m - 1) {
                    const int j = __builtin_ctz(m);
                    const int64_t row = (s0 + p) * lanes + j;
                    if (row >= r.nc) break;
                    buf[count[qb]++] = hamming ? hamming_key(v[j], static_cast<int32_t>(row))
                                               : dot_key(v[j], static_cast<int32_t>(row));
                    if (count[qb] == cap) cut(buf, count[qb], thresh[qb]);
                  }
                }
            }
          }
      }
      // each bound's k best, best first, into the caller's rows (request.dims order)
      for (int64_t q = 0; q < nqc; ++q)
        for (size_t o = 0; o < r.dims.size(); ++o) {
          const int b = static_cast<int>(std::lower_bound(bounds.begin(), bounds.end(), r.dims[o]) - bounds.begin());
          const size_t qb = static_cast<size_t>(q) * nb + b;
          Key* buf = bufs.data() + qb * cap;
          int n = count[qb];
          if (n > K) {
            std::nth_element(buf, buf + (K - 1), buf + n, std::greater<Key>());
            n = K;
          }
          std::sort(buf, buf + n, std::greater<Key>());
          for (int i = 0; i < K; ++i) {
            out.indices[o][(q0 + q) * K + i] = key_row_of(buf[i], hamming);
            out.scores[o][(q0 + q) * K + i] = key_value_of(buf[i], hamming);
          }
        }
    });
    return {};
  } catch (const std::bad_alloc&) {
    return {"ERR_OOM", "out of memory in the quantized first stage"};
  }
}

}  // namespace embbench

namespace embbench {

EngineError quantize_rows(const QuantizeRequest& r, uint8_t* out) {
  auto bad = [](std::string m) { return EngineError{"ERR_INVALID_ARG", std::move(m)}; };
  if (r.width <= 0 || r.width > r.cols) return bad("quantize: width must be in [1, cols]");
  if (r.rows < 0 || (r.rows > 0 && r.x == nullptr)) return bad("quantize: data is missing");
  const bool bits = r.kind == QuantRequest::Kind::Hamming;
  if (!bits && (r.min == nullptr || r.max == nullptr)) return bad("quantize: int8 / uint8 need ranges");
  const int w = r.width;
  std::vector<float> start(bits ? 0 : w), step(bits ? 0 : w);
  for (int j = 0; !bits && j < w; ++j) {
    start[j] = r.min[j];
    const float s = (r.max[j] - r.min[j]) / 255.0f;  // float32 arithmetic, as numpy's
    step[j] = s == 0.0f ? 1.0f : s;
  }
  const int rb = bits ? (w + 7) / 8 : w;
  const int shift = r.kind == QuantRequest::Kind::Int8 ? 128 : 0;
  try {
    cpu::parallel_for((r.rows + 4095) / 4096, std::max(1, r.threads), [&](int64_t blk) {
      const int64_t r0 = blk * 4096, r1 = std::min<int64_t>(r.rows, r0 + 4096);
      for (int64_t i = r0; i < r1; ++i) {
        const float* x = r.x + i * r.cols;
        uint8_t* o = out + i * rb;
        if (bits) {
          std::memset(o, 0, static_cast<size_t>(rb));
          for (int j = 0; j < w; ++j) o[j >> 3] |= static_cast<uint8_t>((x[j] > 0.0f) << (7 - (j & 7)));
        } else {
          for (int j = 0; j < w; ++j) {
            const float q = std::floor((x[j] - start[j]) / step[j]);
            const int b = q >= 255.0f ? 255 : q > 0.0f ? static_cast<int>(q) : 0;  // NaN: 0
            o[j] = static_cast<uint8_t>((b - shift) & 0xFF);
          }
        }
      }
    });
  } catch (const std::bad_alloc&) {
    return {"ERR_OOM", "out of memory while quantizing"};
  }
  return {};
}

}  // namespace embbench
