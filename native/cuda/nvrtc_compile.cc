#include "nvrtc_compile.h"

namespace ma::cuda {

std::vector<std::string> KernelCompileOptions(const std::string& arch) {
  // No FMA contraction: a*b+c rounds twice, as on the CPU backend (fused kernels give the
  // same bits as one kernel per op). IEEE division and square root, denormals kept.
  return {"--gpu-architecture=" + arch, "--fmad=false", "--std=c++17", "-default-device"};
}

bool IsVirtualArch(const std::string& arch) { return arch.rfind("compute_", 0) == 0; }

namespace {

// Copies the program's PTX into out->ptx (no trailing NUL); false with out->error set on failure.
bool FetchPtx(const NvrtcApi& api, nvrtcProgram prog, NvrtcOutcome* out) {
  std::size_t size = 0;
  const nvrtcResult sized = api.nvrtcGetPTXSize(prog, &size);
  if (sized != kNvrtcSuccess || size <= 1) {
    out->error = "NVRTC produced no PTX";
    return false;
  }
  out->ptx.resize(size);
  const nvrtcResult got = api.nvrtcGetPTX(prog, out->ptx.data());
  if (got != kNvrtcSuccess) {
    out->ptx.clear();
    out->error = std::string("nvrtcGetPTX failed: ") + api.nvrtcGetErrorString(got);
    return false;
  }
  while (!out->ptx.empty() && out->ptx.back() == '\0') out->ptx.pop_back();
  return true;
}

// Copies the program's cubin into out->cubin; false with out->error set on failure.
bool FetchCubin(const NvrtcApi& api, nvrtcProgram prog, NvrtcOutcome* out) {
  std::size_t size = 0;
  const nvrtcResult sized = api.nvrtcGetCUBINSize(prog, &size);
  if (sized != kNvrtcSuccess || size == 0) {
    out->error = "NVRTC produced no cubin";
    return false;
  }
  out->cubin.resize(size);
  const nvrtcResult got = api.nvrtcGetCUBIN(prog, out->cubin.data());
  if (got != kNvrtcSuccess) {
    out->cubin.clear();
    out->error = std::string("nvrtcGetCUBIN failed: ") + api.nvrtcGetErrorString(got);
    return false;
  }
  return true;
}

}  // namespace

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
  if (!(IsVirtualArch(arch) ? FetchPtx(api, prog, &out) : FetchCubin(api, prog, &out))) return out;
  out.compiled = true;
  return out;
}

}  // namespace ma::cuda
