// Module registration. Runs once per JS environment (main thread and each
// worker_thread) that loads the addon; native state (pool, kernels, threads) is
// process-global and shared by all of them.
#include <dlfcn.h>
#include <napi.h>

#include <exception>
#include <mutex>
#include <new>
#include <string>

#include "env_state.h"
#include "errors.h"
#include "exports.h"
#include "js_errors.h"

namespace ma {
namespace {

// Node unloads an addon when the last environment that loaded it goes away (e.g. the
// only worker_thread using it exits). Our persistent worker threads and process-global
// state live in this library, so it must never be unloaded: take one extra reference
// with RTLD_NODELETE and keep it for the life of the process.
void PinAddonInProcess() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&PinAddonInProcess), &info) == 0 || info.dli_fname == nullptr) {
    Fail(ErrorCode::kDlopen, "dladdr could not locate the metalarray addon");
  }
  if (dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) == nullptr) {
    const char* why = dlerror();
    Fail(ErrorCode::kDlopen, std::string("cannot pin the metalarray addon ") + info.dli_fname +
                                 ": " + (why != nullptr ? why : "unknown error"));
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  try {
    static std::once_flag pinned;
    std::call_once(pinned, PinAddonInProcess);  // retried by a later load if it threw
    EnvState::Attach(env);
    RegisterBufferApi(env, exports);
    RegisterKernelApi(env, exports);
    RegisterPlanApi(env, exports);
#if defined(__linux__)
    RegisterCudaApi(env, exports);  // loads nothing until first used
    RegisterMpiApi(env, exports);   // libmpi is dlopen()ed by mpiOpen
    RegisterNcclApi(env, exports);  // libnccl is dlopen()ed by ncclOpen
#endif
#ifdef METALARRAY_WITH_METAL
    RegisterMetalApi(env, exports);  // the device opens lazily, on first use
#endif
  } catch (const Napi::Error&) {
    throw;  // already a JS exception; node-addon-api rethrows it into JS
  } catch (const Error& e) {
    throw MakeJsError(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw MakeJsError(env, ErrorCode::kOom, "out of host memory while loading the addon");
  } catch (const std::exception& e) {  // e.g. std::system_error from call_once
    throw MakeJsError(env, ErrorCode::kDlopen, std::string("loading the addon failed: ") + e.what());
  }
  return exports;
}

}  // namespace
}  // namespace ma

// NODE_API_MODULE pastes the function name into an identifier: it needs a plain name.
static Napi::Object InitMetalarray(Napi::Env env, Napi::Object exports) {
  return ma::Init(env, exports);
}

NODE_API_MODULE(metalarray, InitMetalarray)
