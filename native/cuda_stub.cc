// Built when CUDA is not compiled in (node-gyp builds, or no nvcc): the GPU engine says so.
#include "engine.h"

namespace embbench {

bool cuda_compiled() { return false; }

EngineError cuda_device_info(std::string&, int& count) {
  count = 0;
  return {"ERR_NO_CUDA_BUILD",
          "this build of emb-bench has no CUDA engine; rebuild with `npm run build:native` on a "
          "machine with nvcc"};
}

EngineError score_cuda(const ScoreRequest&, const ScoreOutput&) {
  std::string name;
  int count;
  return cuda_device_info(name, count);
}

EngineError score_quantized_cuda(const QuantRequest&, const QuantOutput&) {
  std::string name;
  int count;
  return cuda_device_info(name, count);
}

}  // namespace embbench
