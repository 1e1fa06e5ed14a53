// Entry-point registration. Each API file adds its functions to the module's exports;
// addon.cc calls them from the module initializer. Future backends (Metal on macOS,
// CUDA on Linux) add their own Register* function here.
#pragma once

#include <napi.h>

namespace ma {

void RegisterBufferApi(Napi::Env env, Napi::Object exports);  // common/buffer_api.cc
void RegisterKernelApi(Napi::Env env, Napi::Object exports);  // cpu/kernel_api.cc
void RegisterPlanApi(Napi::Env env, Napi::Object exports);    // cpu/plan_api.cc
void RegisterCudaApi(Napi::Env env, Napi::Object exports);    // cuda/cuda_api.cc (Linux)
void RegisterMpiApi(Napi::Env env, Napi::Object exports);     // cpu/mpi_api.cc (Linux)
void RegisterNcclApi(Napi::Env env, Napi::Object exports);    // cuda/nccl_api.cc (Linux)
#ifdef METALARRAY_WITH_METAL
void RegisterMetalApi(Napi::Env env, Napi::Object exports);  // metal/metal_api.mm (macOS)
#endif

}  // namespace ma
