// The only N-API file: argument checks, typed-array views, and the async worker that runs
// the engine off the JavaScript thread. Errors reach JavaScript with a `code`.
#include <napi.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "engine.h"

namespace {

using embbench::EngineError;

Napi::Error coded_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

// Runs one engine call off the JavaScript thread and settles its promise: rejected with the
// engine's coded error, or resolved with what Result() builds.
template <class Request>
class EngineWorker : public Napi::AsyncWorker {
 public:
  EngineWorker(Napi::Env env, Request req, std::vector<Napi::Reference<Napi::Value>> keep)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        req_(std::move(req)),
        keep_(std::move(keep)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void OnOK() override {
    if (err_.ok())
      deferred_.Resolve(Result(Env()));
    else
      deferred_.Reject(coded_error(Env(), err_.code, err_.message).Value());
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 protected:
  virtual Napi::Value Result(Napi::Env env) = 0;

  Napi::Promise::Deferred deferred_;
  Request req_;
  std::vector<Napi::Reference<Napi::Value>> keep_;  // inputs stay alive until Execute ends
  EngineError err_;
};

// The per-dim result arrays of a top-k call, made on the JavaScript thread for the engine to
// fill: indices (Int32Array) and scores (ScoreArray of Score), one of each per dim, n entries.
template <class ScoreArray, class Score>
struct TopKArrays {
  Napi::Reference<Napi::Value> indices, scores;

  void make(Napi::Env env, size_t dims, size_t n, std::vector<int32_t*>& idx_out, std::vector<Score*>& sc_out) {
    Napi::Array idx_all = Napi::Array::New(env, dims), sc_all = Napi::Array::New(env, dims);
    for (size_t i = 0; i < dims; ++i) {
      auto idx = Napi::Int32Array::New(env, n);
      auto sc = ScoreArray::New(env, n);
      idx_all.Set(i, idx);
      sc_all.Set(i, sc);
      idx_out.push_back(idx.Data());
      sc_out.push_back(sc.Data());
    }
    indices = Napi::Persistent(Napi::Value(idx_all));
    scores = Napi::Persistent(Napi::Value(sc_all));
  }

  void set(Napi::Object result) {
    result.Set("indices", indices.Value());
    result.Set("scores", scores.Value());
  }
};

class ScoreWorker : public EngineWorker<embbench::ScoreRequest> {
 public:
  ScoreWorker(Napi::Env env, embbench::ScoreRequest req, bool cuda, std::vector<Napi::Reference<Napi::Value>> keep)
      : EngineWorker(env, std::move(req), std::move(keep)), cuda_(cuda) {
    const size_t n = static_cast<size_t>(req_.nq) * embbench::effective_k(req_);
    arrays_.make(env, req_.dims.size(), n, out_.indices, out_.scores);
  }

  void Execute() override {
    out_.stats = &stats_;
    err_ = cuda_ ? embbench::score_cuda(req_, out_) : embbench::score_cpu(req_, out_);
  }

 protected:
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("k", Napi::Number::New(env, embbench::effective_k(req_)));
    arrays_.set(result);
    if (!cuda_) {
      Napi::Object st = Napi::Object::New(env);
      st.Set("engine", stats_.engine);
      st.Set("fallback", stats_.fallback.empty() ? env.Null() : Napi::String::New(env, stats_.fallback));
      st.Set("pairs", Napi::Number::New(env, static_cast<double>(stats_.pairs)));
      st.Set("rescored", Napi::Number::New(env, static_cast<double>(stats_.rescored)));
      st.Set("needed", Napi::Number::New(env, static_cast<double>(stats_.needed)));
      st.Set("fallbackQueries", Napi::Number::New(env, static_cast<double>(stats_.fallback_queries)));
      st.Set("restartedQueries", Napi::Number::New(env, static_cast<double>(stats_.restarted_queries)));
      result.Set("stats", st);
    }
    return result;
  }

 private:
  bool cuda_;
  TopKArrays<Napi::Float32Array, float> arrays_;
  embbench::ScoreOutput out_;
  embbench::ScoreStats stats_;
};

// The bf16 bound check (bench/bound.js).
class BoundWorker : public EngineWorker<embbench::ScoreRequest> {
 public:
  using EngineWorker::EngineWorker;

  void Execute() override { err_ = embbench::bf16_bound_check(req_, check_); }

 protected:
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("engine", check_.engine);
    result.Set("pairs", Napi::Number::New(env, static_cast<double>(check_.pairs)));
    result.Set("violations", Napi::Number::New(env, static_cast<double>(check_.violations)));
    result.Set("maxRatio", Napi::Number::New(env, check_.max_ratio));
    result.Set("maxError", Napi::Number::New(env, check_.max_error));
    return result;
  }

 private:
  embbench::BoundCheck check_;
};

// The first of `names` in `o` that is not an integer in [0, 2^31 - 1], said; "" when all are.
std::string check_ints(const Napi::Object& o, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    Napi::Value v = o.Get(name);
    if (!v.IsNumber()) return std::string(name) + " must be a number";
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int64_t>(d)))
      return std::string(name) + " must be an integer in [0, 2^31 - 1]";
  }
  return "";
}

// The optional `kernel` field ('auto' | 'generic' | 'avx2' | 'avx512') into `isa`; false when it is none of them.
bool read_isa(const Napi::Object& o, embbench::ScoreRequest::Isa& isa) {
  Napi::Value kernel = o.Get("kernel");
  if (kernel.IsUndefined()) return true;
  const std::string k = kernel.IsString() ? kernel.As<Napi::String>().Utf8Value() : "";
  using I = embbench::ScoreRequest::Isa;
  if (k == "generic")
    isa = I::Generic;
  else if (k == "avx2")
    isa = I::Avx2;
  else if (k == "avx512")
    isa = I::Avx512;
  else if (k != "auto")
    return false;
  return true;
}

// The `kind` field ('hamming' | 'int8' | 'uint8') into `kind`; false when it is none of them.
bool read_kind(const Napi::Object& o, embbench::QuantRequest::Kind& kind) {
  Napi::Value v = o.Get("kind");
  const std::string k = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  using K = embbench::QuantRequest::Kind;
  if (k == "hamming")
    kind = K::Hamming;
  else if (k == "int8")
    kind = K::Int8;
  else if (k == "uint8")
    kind = K::Uint8;
  else
    return false;
  return true;
}

// Reads score()'s options object into `req`; throws a coded error and returns false when bad.
bool read_request(const Napi::CallbackInfo& info, embbench::ScoreRequest& req, bool& cuda,
                  std::vector<Napi::Reference<Napi::Value>>& keep) {
  Napi::Env env = info.Env();
  auto fail = [&](const std::string& m) {
    coded_error(env, "ERR_INVALID_ARG", m).ThrowAsJavaScriptException();
    return false;
  };
  if (info.Length() != 1 || !info[0].IsObject()) return fail("expected one options object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto is_typed = [&](const char* name, napi_typedarray_type type) {
    Napi::Value v = o.Get(name);
    return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
  };
  if (!is_typed("queries", napi_float32_array)) return fail("queries must be a Float32Array");
  if (!is_typed("corpus", napi_float32_array)) return fail("corpus must be a Float32Array");
  if (!is_typed("dims", napi_int32_array)) return fail("dims must be an Int32Array");
  const std::string bad_int = check_ints(o, {"dim", "k", "threads"});
  if (!bad_int.empty()) return fail(bad_int);
  if (!o.Get("device").IsString()) return fail("device must be 'cpu' or 'cuda'");
  auto queries = o.Get("queries").As<Napi::Float32Array>();
  auto corpus = o.Get("corpus").As<Napi::Float32Array>();
  auto dims = o.Get("dims").As<Napi::Int32Array>();
  req.dim = o.Get("dim").As<Napi::Number>().Int32Value();
  req.k = o.Get("k").As<Napi::Number>().Int32Value();
  req.threads = o.Get("threads").As<Napi::Number>().Int32Value();
  const std::string device = o.Get("device").As<Napi::String>().Utf8Value();
  if (device != "cpu" && device != "cuda") return fail("device must be 'cpu' or 'cuda'");
  // Optional: precision 'auto' | 'fp32' | 'bf16' | 'bf16-portable', bf16MaxCandidateFraction in (0, 1].
  Napi::Value precision = o.Get("precision");
  if (!precision.IsUndefined()) {
    const std::string p = precision.IsString() ? precision.As<Napi::String>().Utf8Value() : "";
    using P = embbench::ScoreRequest::Precision;
    if (p == "fp32")
      req.precision = P::Fp32;
    else if (p == "bf16")
      req.precision = P::Bf16;
    else if (p == "bf16-portable")
      req.precision = P::Bf16Portable;
    else if (p != "auto")
      return fail("precision must be 'auto', 'fp32', 'bf16' or 'bf16-portable'");
  }
  if (!read_isa(o, req.isa)) return fail("kernel must be 'auto', 'generic', 'avx2' or 'avx512'");
  Napi::Value fraction = o.Get("bf16MaxCandidateFraction");
  if (!fraction.IsUndefined()) {
    const double f = fraction.IsNumber() ? fraction.As<Napi::Number>().DoubleValue() : -1;
    if (!(f > 0 && f <= 1)) return fail("bf16MaxCandidateFraction must be a number in (0, 1]");
    req.bf16_max_candidate_fraction = f;
  }
  if (req.dim <= 0) return fail("dim must be positive");
  // Data() includes the view's byteOffset, so subarray views read the right rows.
  if (queries.ElementLength() % req.dim != 0 || corpus.ElementLength() % req.dim != 0)
    return fail("embedding array lengths must be multiples of dim " + std::to_string(req.dim));
  req.queries = queries.Data();
  req.corpus = corpus.Data();
  req.nq = static_cast<int64_t>(queries.ElementLength() / req.dim);
  req.nc = static_cast<int64_t>(corpus.ElementLength() / req.dim);
  req.dims.assign(dims.Data(), dims.Data() + dims.ElementLength());
  EngineError err = embbench::validate(req);
  if (!err.ok()) {
    coded_error(env, err.code, err.message).ThrowAsJavaScriptException();
    return false;
  }
  cuda = device == "cuda";
  keep.push_back(Napi::Persistent(Napi::Value(queries)));
  keep.push_back(Napi::Persistent(Napi::Value(corpus)));
  return true;
}

// score({queries, corpus, dim, dims, k, threads, device, precision?, kernel?, bf16MaxCandidateFraction?})
//   -> Promise<{k, indices[], scores[], stats?}>
// checkBf16Bound(the same options, device 'cpu') -> Promise<{engine, pairs, violations, maxRatio, maxError}>
Napi::Value Start(const Napi::CallbackInfo& info, bool bound_check) {
  Napi::Env env = info.Env();
  embbench::ScoreRequest req;
  bool cuda = false;
  std::vector<Napi::Reference<Napi::Value>> keep;
  if (!read_request(info, req, cuda, keep)) return env.Undefined();
  if (bound_check && cuda) {
    coded_error(env, "ERR_INVALID_ARG", "the bound check runs on the CPU").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  using Worker = EngineWorker<embbench::ScoreRequest>;
  Worker* worker = bound_check ? static_cast<Worker*>(new BoundWorker(env, std::move(req), std::move(keep)))
                               : new ScoreWorker(env, std::move(req), cuda, std::move(keep));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Score(const Napi::CallbackInfo& info) { return Start(info, false); }
Napi::Value CheckBf16Bound(const Napi::CallbackInfo& info) { return Start(info, true); }

// The quantized first stage (score_quantized).
class QuantWorker : public EngineWorker<embbench::QuantRequest> {
 public:
  QuantWorker(Napi::Env env, embbench::QuantRequest req, bool cuda, std::vector<Napi::Reference<Napi::Value>> keep)
      : EngineWorker(env, std::move(req), std::move(keep)), cuda_(cuda) {
    const int64_t k = req_.k < req_.nc ? req_.k : req_.nc;
    arrays_.make(env, req_.dims.size(), static_cast<size_t>(req_.nq * k), out_.indices, out_.scores);
    out_.kernel = &kernel_;
  }

  void Execute() override {
    err_ = cuda_ ? embbench::score_quantized_cuda(req_, out_) : embbench::score_quantized(req_, out_);
  }

 protected:
  Napi::Value Result(Napi::Env env) override {
    Napi::Object result = Napi::Object::New(env);
    result.Set("k", Napi::Number::New(env, static_cast<double>(req_.k < req_.nc ? req_.k : req_.nc)));
    arrays_.set(result);
    result.Set("kernel", kernel_);
    return result;
  }

 private:
  bool cuda_;
  TopKArrays<Napi::Int32Array, int32_t> arrays_;
  embbench::QuantOutput out_;
  std::string kernel_;
};

// scoreQuantized({queries, corpus: Uint8Array | Int8Array, kind: 'hamming' | 'int8' | 'uint8', dim,
// dims: Int32Array, k, threads, kernel?, device?: 'cpu' | 'cuda'}) -> Promise<{k, indices[], scores[] (Int32Array),
// kernel}>
Napi::Value ScoreQuantized(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const std::string& code, const std::string& m) {
    coded_error(env, code, m).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 1 || !info[0].IsObject()) return fail("ERR_INVALID_ARG", "expected one options object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto bytes = [&](const char* name) {
    Napi::Value v = o.Get(name);
    if (!v.IsTypedArray()) return false;
    const auto t = v.As<Napi::TypedArray>().TypedArrayType();
    return t == napi_uint8_array || t == napi_int8_array;
  };
  if (!bytes("queries")) return fail("ERR_INVALID_ARG", "queries must be a Uint8Array or Int8Array");
  if (!bytes("corpus")) return fail("ERR_INVALID_ARG", "corpus must be a Uint8Array or Int8Array");
  Napi::Value dimsv = o.Get("dims");
  if (!dimsv.IsTypedArray() || dimsv.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    return fail("ERR_INVALID_ARG", "dims must be an Int32Array");
  const std::string bad_int = check_ints(o, {"dim", "k", "threads"});
  if (!bad_int.empty()) return fail("ERR_INVALID_ARG", bad_int);
  embbench::QuantRequest req;
  using K = embbench::QuantRequest::Kind;
  if (!read_kind(o, req.kind)) return fail("ERR_INVALID_ARG", "kind must be 'hamming', 'int8' or 'uint8'");
  if (!read_isa(o, req.isa)) return fail("ERR_INVALID_ARG", "kernel must be 'auto', 'generic', 'avx2' or 'avx512'");
  req.dim = o.Get("dim").As<Napi::Number>().Int32Value();
  req.k = o.Get("k").As<Napi::Number>().Int32Value();
  req.threads = std::max(1, o.Get("threads").As<Napi::Number>().Int32Value());
  if (req.dim <= 0) return fail("ERR_INVALID_ARG", "dim must be positive");
  const size_t rb = req.kind == K::Hamming ? (static_cast<size_t>(req.dim) + 7) / 8 : static_cast<size_t>(req.dim);
  auto queries = o.Get("queries").As<Napi::TypedArray>();
  auto corpus = o.Get("corpus").As<Napi::TypedArray>();
  if (queries.ByteLength() % rb != 0 || corpus.ByteLength() % rb != 0)
    return fail("ERR_INVALID_ARG", "byte lengths must be multiples of the row width " + std::to_string(rb));
  auto data = [](Napi::TypedArray a) { return static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(); };
  req.queries = data(queries);
  req.corpus = data(corpus);
  req.nq = static_cast<int64_t>(queries.ByteLength() / rb);
  req.nc = static_cast<int64_t>(corpus.ByteLength() / rb);
  auto dims = dimsv.As<Napi::Int32Array>();
  req.dims.assign(dims.Data(), dims.Data() + dims.ElementLength());
  EngineError err = embbench::validate_quantized(req);
  if (!err.ok()) return fail(err.code, err.message);
  std::vector<Napi::Reference<Napi::Value>> keep;
  keep.push_back(Napi::Persistent(Napi::Value(queries)));
  keep.push_back(Napi::Persistent(Napi::Value(corpus)));
  Napi::Value device = o.Get("device");
  const std::string dev = device.IsUndefined() ? "cpu" : device.IsString() ? device.As<Napi::String>().Utf8Value() : "";
  if (dev != "cpu" && dev != "cuda") return fail("ERR_INVALID_ARG", "device must be 'cpu' or 'cuda'");
  auto* worker = new QuantWorker(env, std::move(req), dev == "cuda", std::move(keep));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// quantize({x: Float32Array, cols, width, kind: 'hamming' | 'int8' | 'uint8', min?, max?: Float32Array, threads})
//   -> Promise<Uint8Array> (quantize_rows)
class QuantizeWorker : public EngineWorker<embbench::QuantizeRequest> {
 public:
  QuantizeWorker(Napi::Env env, embbench::QuantizeRequest req, std::vector<Napi::Reference<Napi::Value>> keep,
                 size_t bytes)
      : EngineWorker(env, req, std::move(keep)) {
    auto out = Napi::Uint8Array::New(env, bytes);
    data_ = out.Data();
    out_ = Napi::Persistent(Napi::Value(out));
  }
  void Execute() override { err_ = embbench::quantize_rows(req_, data_); }

 protected:
  Napi::Value Result(Napi::Env) override { return out_.Value(); }

 private:
  Napi::Reference<Napi::Value> out_;
  uint8_t* data_ = nullptr;
};

Napi::Value Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto fail = [&](const std::string& m) {
    coded_error(env, "ERR_INVALID_ARG", m).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (info.Length() != 1 || !info[0].IsObject()) return fail("expected one options object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto f32 = [&](const char* name) {
    Napi::Value v = o.Get(name);
    return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  };
  if (!f32("x")) return fail("x must be a Float32Array");
  const std::string bad_int = check_ints(o, {"cols", "width", "threads"});
  if (!bad_int.empty()) return fail(bad_int);
  embbench::QuantizeRequest req;
  using K = embbench::QuantRequest::Kind;
  if (!read_kind(o, req.kind)) return fail("kind must be 'hamming', 'int8' or 'uint8'");
  auto x = o.Get("x").As<Napi::Float32Array>();
  req.cols = o.Get("cols").As<Napi::Number>().Int32Value();
  req.width = o.Get("width").As<Napi::Number>().Int32Value();
  req.threads = std::max(1, o.Get("threads").As<Napi::Number>().Int32Value());
  if (req.cols <= 0 || req.width <= 0 || req.width > req.cols) return fail("need 1 <= width <= cols");
  if (x.ElementLength() % static_cast<size_t>(req.cols) != 0) return fail("x's length must be a multiple of cols");
  req.x = x.Data();
  req.rows = static_cast<int64_t>(x.ElementLength() / req.cols);
  std::vector<Napi::Reference<Napi::Value>> keep;
  keep.push_back(Napi::Persistent(Napi::Value(x)));
  if (req.kind != K::Hamming) {
    if (!f32("min") || !f32("max")) return fail("int8 / uint8 need min and max Float32Arrays");
    auto mn = o.Get("min").As<Napi::Float32Array>();
    auto mx = o.Get("max").As<Napi::Float32Array>();
    if (mn.ElementLength() < static_cast<size_t>(req.width) || mx.ElementLength() < static_cast<size_t>(req.width))
      return fail("min and max need a value for each of the width's columns");
    req.min = mn.Data();
    req.max = mx.Data();
    keep.push_back(Napi::Persistent(Napi::Value(mn)));
    keep.push_back(Napi::Persistent(Napi::Value(mx)));
  }
  const size_t rb = req.kind == K::Hamming ? (static_cast<size_t>(req.width) + 7) / 8 : static_cast<size_t>(req.width);
  auto* worker = new QuantizeWorker(env, req, std::move(keep), rb * static_cast<size_t>(req.rows));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernel", embbench::cpu_kernel_name());
  Napi::Array kernels = Napi::Array::New(env);
  for (const std::string& k : embbench::cpu_kernels()) kernels.Set(kernels.Length(), k);
  o.Set("kernels", kernels);
  const char* bf16 = embbench::cpu_bf16_kernel_name();
  o.Set("bf16Kernel", bf16 ? Napi::String::New(env, bf16) : env.Null());
  o.Set("quantKernel", embbench::quant_kernel_name(embbench::ScoreRequest::Isa::Auto));
  Napi::Array quant = Napi::Array::New(env);
  using I = embbench::ScoreRequest::Isa;
  for (auto [isa, name] :
       {std::pair{I::Generic, "generic"}, std::pair{I::Avx2, "avx2"}, std::pair{I::Avx512, "avx512"}})
    if (embbench::quant_kernel_name(isa)) quant.Set(quant.Length(), name);
  o.Set("quantKernels", quant);
  o.Set("threads", embbench::default_threads());
  o.Set("cudaCompiled", embbench::cuda_compiled());
  std::string name;
  int count = 0;
  EngineError err = embbench::cuda_device_info(name, count);
  o.Set("cudaDevices", count);
  o.Set("cudaDevice", name);
  o.Set("cudaError", err.ok() ? env.Null() : Napi::String::New(env, err.message));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("score", Napi::Function::New(env, Score));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("scoreQuantized", Napi::Function::New(env, ScoreQuantized));
  exports.Set("quantize", Napi::Function::New(env, Quantize));
  exports.Set("checkBf16Bound", Napi::Function::New(env, CheckBf16Bound));
  return exports;
}

}  // namespace

NODE_API_MODULE(emb_bench, Init)
