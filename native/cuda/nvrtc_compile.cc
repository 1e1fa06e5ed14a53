#include "nvrtc_compile.h"

namespace ma::cuda {

std::vector<std::string> KernelCompileOptions(const std::string& arch) {
  // No FMA contraction: a*b+c rounds twice, as on the CPU backend (fused kernels give the
  // same bits as one kernel per op). IEEE division and square root, denormals kept.
  return {"--gpu-architecture=" + arch, "--fmad=false", "--std=c++17", "-default-device"};
}

NvrtcOutcome CompileKernel(const NvrtcApi& api, const std::string& name, const std::string& source,
                           const std::string& arch) {
  NvrtcOutcome out;
  nvrtcProgram prog = nullptr;
  const nvrtcResult created = api.nvrtcCreateProgram(&prog, source.c_str(), (name + ".cu").c_str(), 0, nullptr, nullptr);
  if (created != kNvrtcSuccess) {
    out.error = api.nvrtcGetErrorString(created);
    return out;
  }
  out.created = true;
  // Owns the program for every way out of this function.
  struct ProgramGuard {
    const NvrtcApi* api;
    nvrtcProgram* prog;
    ~ProgramGuard() { api->nvrtcDestroyProgram(prog); }
  } guard{&api, &prog};
  const std::vector<std::string> options = KernelCompileOptions(arch);
  std::vector<const char*> opts;
  opts.reserve(options.size());
  for (const std::string& o : options) opts.push_back(o.c_str());
  const nvrtcResult compiled = api.nvrtcCompileProgram(prog, static_cast<int>(opts.size()), opts.data());
  std::size_t logSize = 0;
  if (api.nvrtcGetProgramLogSize(prog, &logSize) == kNvrtcSuccess && logSize > 1) {
    out.log.resize(logSize);
    if (api.nvrtcGetProgramLog(prog, out.log.data()) != kNvrtcSuccess) out.log.clear();
    while (!out.log.empty() && (out.log.back() == '\0' || out.log.back() == '\n')) out.log.pop_back();
  }
  if (compiled != kNvrtcSuccess) {
    out.error = api.nvrtcGetErrorString(compiled);
    return out;
  }
  std::size_t size = 0;
  const nvrtcResult sized = api.nvrtcGetCUBINSize(prog, &size);
  if (sized != kNvrtcSuccess || size == 0) {
    out.error = "NVRTC produced no cubin";
    return out;
  }
  out.cubin.resize(size);
  const nvrtcResult got = api.nvrtcGetCUBIN(prog, out.cubin.data());
  if (got != kNvrtcSuccess) {
    out.cubin.clear();
    out.error = std::string("nvrtcGetCUBIN failed: ") + api.nvrtcGetErrorString(got);
    return out;
  }
  out.compiled = true;
  return out;
}

}  // namespace ma::cuda
