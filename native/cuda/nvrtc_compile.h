// One CUDA kernel through NVRTC, with the options the runtime compiles with. Shared by
// the runtime (Runtime::Compile, on a device) and the compile-only check (cudaCheckCompile,
// on any machine with NVRTC), so the check compiles exactly what a device would.
#pragma once

#include <string>
#include <vector>

#include "cuda_driver.h"

namespace ma::cuda {

// What one compilation gave: the cubin (or PTX, for a virtual arch) if it compiled,
// NVRTC's log either way.
struct NvrtcOutcome {
  bool created = false;  // false: nvrtcCreateProgram itself failed (see error)
  bool compiled = false;
  std::string error;  // NVRTC's result string when not compiled, or the output step's failure
  std::string log;
  std::vector<char> cubin;  // for a real arch (sm_XX): NVRTC's front end, optimizer and ptxas
  std::string ptx;          // for a virtual arch (compute_XX): front end and optimizer, no ptxas
};

// True for a virtual architecture (compute_80, compute_90a): NVRTC stops at PTX.
bool IsVirtualArch(const std::string& arch);

// The options every kernel is compiled with for `arch` (e.g. sm_90a).
std::vector<std::string> KernelCompileOptions(const std::string& arch);

// Compiles `source` (named `name`.cu) for `arch` and fetches the cubin, or the PTX when
// `arch` is virtual (the compile-only check's fast path; the runtime always passes sm_XX).
// Never throws on a compile error: the caller decides what a failure means.
NvrtcOutcome CompileKernel(const NvrtcApi& api, const std::string& name, const std::string& source,
                           const std::string& arch);

}  // namespace ma::cuda
