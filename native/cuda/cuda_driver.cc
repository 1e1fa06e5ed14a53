#include "cuda_driver.h"

#include <dirent.h>
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

namespace ma::cuda {
namespace {

// Resolves `name` in `lib` into `*slot`; false (with the reason) if missing.
template <typename Fn>
bool Resolve(void* lib, const char* name, Fn* slot, std::string* why) {
  void* sym = dlsym(lib, name);
  if (sym == nullptr) {
    *why = std::string("symbol ") + name + " not found";
    return false;
  }
  *slot = reinterpret_cast<Fn>(sym);
  return true;
}

void* OpenFirst(const char* const* names, std::string* tried) {
  for (const char* const* n = names; *n != nullptr; ++n) {
    if (void* lib = dlopen(*n, RTLD_NOW | RTLD_LOCAL)) return lib;
    const char* err = dlerror();
    *tried += std::string(tried->empty() ? "" : "; ") + (err != nullptr ? err : *n);
  }
  return nullptr;
}

// NVRTC opens its builtins library by name (libnvrtc-builtins.so.M.m) when it compiles;
// next to an explicitly named libnvrtc (a pip wheel's lib folder, not on the loader's
// path) that lookup fails. Loading the builtins from the same folder first satisfies it,
// since the dynamic loader matches an already loaded library by its soname.
void PreloadBuiltinsBeside(const std::string& nvrtcPath, std::string* tried) {
  const std::size_t slash = nvrtcPath.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : nvrtcPath.substr(0, slash);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  struct DirCloser {
    DIR* d;
    ~DirCloser() { closedir(d); }
  } closer{d};
  const std::string prefix = "libnvrtc-builtins.so.";
  while (const dirent* e = readdir(d)) {
    const std::string file = e->d_name;
    if (file.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string path = dir + "/" + file;
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      const char* err = dlerror();
      *tried += std::string(tried->empty() ? "" : "; ") + (err != nullptr ? err : path);
    }
  }
}

NvrtcApi gNvrtc{};
const NvrtcApi* gNvrtcLoaded = nullptr;
std::string gNvrtcWhy;

void LoadNvrtcOnce() {
  static const char* const kNvrtcNames[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", nullptr};
  std::string tried;
  void* nvrtc = nullptr;
  // An explicit library first (CI takes NVRTC from its pip wheel, outside the loader's path).
  const char* explicitPath = std::getenv("METALARRAY_NVRTC_LIBRARY");
  if (explicitPath != nullptr && *explicitPath != '\0') {
    const char* const names[] = {explicitPath, nullptr};
    nvrtc = OpenFirst(names, &tried);
    if (nvrtc != nullptr) PreloadBuiltinsBeside(explicitPath, &tried);
  }
  if (nvrtc == nullptr) nvrtc = OpenFirst(kNvrtcNames, &tried);
  if (nvrtc == nullptr) {
    gNvrtcWhy = "NVRTC (libnvrtc.so) could not be loaded (" + tried +
                "); install the CUDA toolkit's runtime compiler or set METALARRAY_NVRTC_LIBRARY to libnvrtc.so.N";
    return;
  }
  NvrtcApi a{};
  std::string why;
  const bool ok = Resolve(nvrtc, "nvrtcCreateProgram", &a.nvrtcCreateProgram, &why) &&
                  Resolve(nvrtc, "nvrtcCompileProgram", &a.nvrtcCompileProgram, &why) &&
                  Resolve(nvrtc, "nvrtcGetProgramLogSize", &a.nvrtcGetProgramLogSize, &why) &&
                  Resolve(nvrtc, "nvrtcGetProgramLog", &a.nvrtcGetProgramLog, &why) &&
                  Resolve(nvrtc, "nvrtcGetCUBINSize", &a.nvrtcGetCUBINSize, &why) &&
                  Resolve(nvrtc, "nvrtcGetCUBIN", &a.nvrtcGetCUBIN, &why) &&
                  Resolve(nvrtc, "nvrtcGetPTXSize", &a.nvrtcGetPTXSize, &why) &&
                  Resolve(nvrtc, "nvrtcGetPTX", &a.nvrtcGetPTX, &why) &&
                  Resolve(nvrtc, "nvrtcDestroyProgram", &a.nvrtcDestroyProgram, &why) &&
                  Resolve(nvrtc, "nvrtcGetErrorString", &a.nvrtcGetErrorString, &why) &&
                  Resolve(nvrtc, "nvrtcVersion", &a.nvrtcVersion, &why);
  if (!ok) {
    gNvrtcWhy = "NVRTC is too old or incomplete: " + why;
    return;
  }
  gNvrtc = a;
  gNvrtcLoaded = &gNvrtc;
}

DriverApi gApi{};
const DriverApi* gLoaded = nullptr;
std::string gWhy;

void LoadOnce() {
  static const char* const kCudaNames[] = {"libcuda.so.1", "libcuda.so", nullptr};
  std::string tried;
  void* cuda = OpenFirst(kCudaNames, &tried);
  if (cuda == nullptr) {
    gWhy = "the NVIDIA driver library libcuda.so.1 could not be loaded (" + tried + ")";
    return;
  }
  const NvrtcApi* nvrtc = LoadNvrtc(&gWhy);
  if (nvrtc == nullptr) return;
  DriverApi a{};
  static_cast<NvrtcApi&>(a) = *nvrtc;
  std::string why;
  const bool ok =
      Resolve(cuda, "cuInit", &a.cuInit, &why) && Resolve(cuda, "cuDeviceGetCount", &a.cuDeviceGetCount, &why) &&
      Resolve(cuda, "cuDeviceGet", &a.cuDeviceGet, &why) && Resolve(cuda, "cuDeviceGetName", &a.cuDeviceGetName, &why) &&
      Resolve(cuda, "cuDeviceGetAttribute", &a.cuDeviceGetAttribute, &why) &&
      Resolve(cuda, "cuDevicePrimaryCtxRetain", &a.cuDevicePrimaryCtxRetain, &why) &&
      Resolve(cuda, "cuCtxSetCurrent", &a.cuCtxSetCurrent, &why) &&
      Resolve(cuda, "cuStreamCreate", &a.cuStreamCreate, &why) &&
      Resolve(cuda, "cuStreamSynchronize", &a.cuStreamSynchronize, &why) &&
      Resolve(cuda, "cuMemAlloc_v2", &a.cuMemAlloc, &why) && Resolve(cuda, "cuMemFree_v2", &a.cuMemFree, &why) &&
      Resolve(cuda, "cuMemAllocHost_v2", &a.cuMemAllocHost, &why) &&
      Resolve(cuda, "cuMemFreeHost", &a.cuMemFreeHost, &why) &&
      Resolve(cuda, "cuMemcpyHtoD_v2", &a.cuMemcpyHtoD, &why) && Resolve(cuda, "cuMemsetD8_v2", &a.cuMemsetD8, &why) &&
      Resolve(cuda, "cuMemcpyHtoDAsync_v2", &a.cuMemcpyHtoDAsync, &why) &&
      Resolve(cuda, "cuMemcpyDtoHAsync_v2", &a.cuMemcpyDtoHAsync, &why) &&
      Resolve(cuda, "cuModuleLoadData", &a.cuModuleLoadData, &why) &&
      Resolve(cuda, "cuModuleGetFunction", &a.cuModuleGetFunction, &why) &&
      Resolve(cuda, "cuFuncSetAttribute", &a.cuFuncSetAttribute, &why) &&
      Resolve(cuda, "cuLaunchKernel", &a.cuLaunchKernel, &why) &&
      Resolve(cuda, "cuEventCreate", &a.cuEventCreate, &why) && Resolve(cuda, "cuEventRecord", &a.cuEventRecord, &why) &&
      Resolve(cuda, "cuEventSynchronize", &a.cuEventSynchronize, &why) &&
      Resolve(cuda, "cuEventElapsedTime", &a.cuEventElapsedTime, &why) &&
      Resolve(cuda, "cuEventDestroy_v2", &a.cuEventDestroy, &why) &&
      Resolve(cuda, "cuGetErrorName", &a.cuGetErrorName, &why) &&
      Resolve(cuda, "cuGetErrorString", &a.cuGetErrorString, &why);
  if (!ok) {
    gWhy = "the CUDA libraries are too old or incomplete: " + why;
    return;
  }
  std::string graphWhy;
  a.graphs = Resolve(cuda, "cuStreamBeginCapture_v2", &a.cuStreamBeginCapture, &graphWhy) &&
             Resolve(cuda, "cuStreamEndCapture", &a.cuStreamEndCapture, &graphWhy) &&
             Resolve(cuda, "cuGraphInstantiateWithFlags", &a.cuGraphInstantiateWithFlags, &graphWhy) &&
             Resolve(cuda, "cuGraphLaunch", &a.cuGraphLaunch, &graphWhy) &&
             Resolve(cuda, "cuGraphExecDestroy", &a.cuGraphExecDestroy, &graphWhy) &&
             Resolve(cuda, "cuGraphDestroy", &a.cuGraphDestroy, &graphWhy) &&
             Resolve(cuda, "cuMemcpyDtoDAsync_v2", &a.cuMemcpyDtoDAsync, &graphWhy);
  gApi = a;
  gLoaded = &gApi;
}

}  // namespace

const DriverApi* LoadDriver(std::string* why) {
  static std::once_flag once;
  std::call_once(once, LoadOnce);
  if (gLoaded == nullptr && why != nullptr) *why = gWhy;
  return gLoaded;
}

const NvrtcApi* LoadNvrtc(std::string* why) {
  static std::once_flag once;
  std::call_once(once, LoadNvrtcOnce);
  if (gNvrtcLoaded == nullptr && why != nullptr) *why = gNvrtcWhy;
  return gNvrtcLoaded;
}

std::string DescribeResult(const DriverApi& api, CUresult r) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (api.cuGetErrorName(r, &name) != kCudaSuccess || name == nullptr) name = "CUDA_ERROR_UNKNOWN";
  if (api.cuGetErrorString(r, &text) != kCudaSuccess || text == nullptr) text = "unknown error";
  return std::string(name) + " (" + std::to_string(r) + "): " + text;
}

}  // namespace ma::cuda
