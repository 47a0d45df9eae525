// `npm run bench -- bound`: the first stage's and the fp32 scores of every pair, against the
// error bound (bf16.h) that the two-stage engine relies on.
#include "bf16.h"

namespace embbench {
namespace cpu {

namespace {

// The bound check's scratch for one task: both panels, their norms, both tiles' scores.
struct CheckBuffers {
  AlignedBuffer p32, p16, inv, s32, s16;
  CheckBuffers(int max_dim, int nb, int MR, int NR)
      : p32(aligned_floats(static_cast<size_t>(max_dim) * NR)),
        p16(aligned_floats(static_cast<size_t>(max_dim) * NR)),
        inv(aligned_floats(static_cast<size_t>(nb) * NR)),
        s32(aligned_floats(static_cast<size_t>(nb) * MR * NR)),
        s16(aligned_floats(static_cast<size_t>(nb) * MR * NR)) {}
};

// One panel of the bound check: both first-stage and fp32 scores of every query against NR rows.
void check_panel(const ScoreRequest& r, const Kernel& kern, const Bf16Inputs& in, int64_t panel_index,
                 CheckBuffers& buf, BoundCheck& res) {
  const Kernel& k1 = in.hw ? *in.hw : kern;
  const int MR = kern.mr, NR = kern.nr;
  const int nb = static_cast<int>(in.bounds.size());
  const int max_dim = in.bounds.back();
  const ScoreRequest& r1 = in.stage1;
  const int64_t c0 = panel_index * NR;
  const int valid = static_cast<int>(std::min<int64_t>(NR, r.nc - c0));
  AlignedBuffer &p32 = buf.p32, &p16 = buf.p16, &inv = buf.inv, &s32 = buf.s32, &s16 = buf.s16;
  for (const auto& [k, src, stride, dst] : {std::tuple{&kern, r.corpus, int64_t(r.dim), p32.get()},
                                            std::tuple{&k1, r1.corpus, int64_t(r1.dim), p16.get()}}) {
    if (k->pack)
      k->pack(src + c0 * stride, stride, valid, max_dim, dst);
    else
      pack_panel(*k, src + c0 * stride, stride, valid, max_dim, dst);
  }
  for (int b = 0; b < nb; ++b)
    for (int j = 0; j < NR; ++j) inv[b * NR + j] = j < valid ? in.inv_c[b * r.nc + c0 + j] : 0.0f;
  std::vector<const float*> rows32(MR), rows16(MR);
  std::vector<float> iq(static_cast<size_t>(nb) * MR);
  for (int64_t q0 = 0; q0 < r.nq; q0 += MR) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, r.nq - q0));
    for (int i = 0; i < MR; ++i) {
      const int64_t q = q0 + std::min(i, mr - 1);
      rows32[i] = r.queries + q * r.dim;
      rows16[i] = k1.bf16 ? reinterpret_cast<const float*>(reinterpret_cast<const uint16_t*>(r1.queries) + q * r1.dim)
                          : r1.queries + q * r1.dim;
      for (int b = 0; b < nb; ++b) iq[b * MR + i] = in.inv_q[b * r.nq + q];
    }
    kern.tile(TileArgs{rows32.data(), p32.get(), in.bounds.data(), nb, iq.data(), inv.get(), c0, valid, s32.get()});
    k1.tile(TileArgs{rows16.data(), p16.get(), in.bounds.data(), nb, iq.data(), inv.get(), c0, valid, s16.get()});
    for (int b = 0; b < nb; ++b)
      for (int i = 0; i < mr; ++i) {
        const double rq = in.rho_q[(q0 + i) * nb + b];
        for (int j = 0; j < valid; ++j) {
          const size_t at = static_cast<size_t>(b * MR + i) * NR + j;
          const double err = std::fabs(static_cast<double>(s16[at]) - s32[at]);
          const double eps = PairErrorBound(in.bounds[b])(rq, in.rho_c[(c0 + j) * nb + b]);
          res.violations += err > eps;
          res.max_ratio = std::max(res.max_ratio, err / eps);
          res.max_error = std::max(res.max_error, err);
        }
      }
    res.pairs += static_cast<int64_t>(mr) * valid * nb;
  }
}

}  // namespace
}  // namespace cpu

using namespace cpu;

EngineError bf16_bound_check(const ScoreRequest& r, BoundCheck& out) {
  EngineError err = validate(r);
  if (err.ok()) err = validate_values(r);
  if (!err.ok()) return err;
  const Kernel& kern = *kernel_for(r.isa);
  try {
    Bf16Inputs in;
    std::string why = prepare_bf16_corpus(r, in);
    if (why.empty()) why = prepare_bf16_queries(r, in);
    if (!why.empty()) return {"ERR_INVALID_ARG", why};
    if (in.hw && (in.hw->mr != kern.mr || in.hw->nr != kern.nr))
      return {"ERR_INVALID_ARG", "the bf16 and fp32 kernels tile differently"};
    out = BoundCheck{};
    out.engine = std::string("cpu-") + kern.name + (in.hw ? "-bf16" : "-bf16-portable");
    const int threads = thread_count(r);
    std::vector<BoundCheck> part(threads);
    const int64_t panels = (r.nc + kern.nr - 1) / kern.nr;
    const int64_t per_task = (panels + threads - 1) / threads;
    parallel_for(threads, threads, [&](int64_t t) {
      CheckBuffers buf(in.bounds.back(), static_cast<int>(in.bounds.size()), kern.mr, kern.nr);
      for (int64_t p = t * per_task; p < std::min(panels, (t + 1) * per_task); ++p)
        check_panel(r, kern, in, p, buf, part[t]);
    });
    for (const BoundCheck& b : part) {
      out.pairs += b.pairs;
      out.violations += b.violations;
      out.max_ratio = std::max(out.max_ratio, b.max_ratio);
      out.max_error = std::max(out.max_error, b.max_error);
    }
  } catch (const std::bad_alloc&) {
    return {"ERR_OOM", "out of memory while checking the bound"};
  }
  return {};
}

}  // namespace embbench
