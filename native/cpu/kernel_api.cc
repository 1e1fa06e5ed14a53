// JS entry points loadKernels(path, symbols), replaceKernels(path, symbols, ids) loadBlas(request) and loadLapack(request).
#include <string>
#include <vector>

#include "../common/errors.h"
#include "../common/exports.h"
#include "../common/js_args.h"
#include "../common/js_errors.h"
#include "blas.h"
#include "lapack.h"
#include "kernel_registry.h"

namespace ma {
namespace {

Napi::Value LoadKernels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = CStringArg(info[0], "path");
  if (!info[1].IsArray()) Fail(ErrorCode::kBadArgument, "symbols must be an array of strings");
  const Napi::Array list = info[1].As<Napi::Array>();
  const std::uint32_t count = list.Length();
  std::vector<std::string> symbols;
  symbols.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string what = "symbols[" + std::to_string(i) + "]";
    symbols.push_back(CStringArg(list.Get(i), what.c_str()));
  }
  const std::vector<std::uint32_t> ids = KernelRegistry::Instance().Load(path, symbols);
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (std::uint32_t i = 0; i < ids.size(); ++i) out.Set(i, Napi::Number::New(env, ids[i]));
  return out;
}

// replaceKernels(path, symbols, ids): points published kernel ids at faster builds.
Napi::Value ReplaceKernels(const Napi::CallbackInfo& info) {
  const std::string path = CStringArg(info[0], "path");
  if (!info[1].IsArray() || !info[2].IsArray()) Fail(ErrorCode::kBadArgument, "symbols and ids must be arrays");
  const Napi::Array list = info[1].As<Napi::Array>();
  const Napi::Array idList = info[2].As<Napi::Array>();
  std::vector<std::string> symbols;
  std::vector<std::int64_t> ids;
  symbols.reserve(list.Length());
  ids.reserve(idList.Length());
  for (std::uint32_t i = 0; i < list.Length(); ++i) {
    const std::string what = "symbols[" + std::to_string(i) + "]";
    symbols.push_back(CStringArg(list.Get(i), what.c_str()));
  }
  for (std::uint32_t i = 0; i < idList.Length(); ++i) {
    const Napi::Value v = idList.Get(i);
    if (!v.IsNumber()) Fail(ErrorCode::kBadArgument, "ids[" + std::to_string(i) + "] must be a number");
    ids.push_back(v.As<Napi::Number>().Int64Value());
  }
  KernelRegistry::Instance().Replace(path, symbols, ids);
  return info.Env().Undefined();
}

Napi::Value LoadBlasApi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) Fail(ErrorCode::kBadArgument, "request must be a string");
  const BlasLibrary& blas = LoadBlas(info[0].As<Napi::String>().Utf8Value());
  Napi::Object out = Napi::Object::New(env);
  out.Set("path", Napi::String::New(env, blas.path));
  out.Set("gemmF32", Napi::Number::New(env, blas.gemmF32));
  out.Set("gemmF64", Napi::Number::New(env, blas.gemmF64));
  return out;
}

Napi::Value LoadLapackApi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) Fail(ErrorCode::kBadArgument, "request must be a string");
  const LapackLibrary& lapack = LoadLapack(info[0].As<Napi::String>().Utf8Value());
  Napi::Object out = Napi::Object::New(env);
  Napi::Array f32 = Napi::Array::New(env, kLapackKernelCount);
  Napi::Array f64 = Napi::Array::New(env, kLapackKernelCount);
  for (int i = 0; i < kLapackKernelCount; ++i) {
    f32.Set(i, Napi::Number::New(env, lapack.f32[i]));
    f64.Set(i, Napi::Number::New(env, lapack.f64[i]));
  }
  out.Set("path", Napi::String::New(env, lapack.path));
  out.Set("float32", f32);
  out.Set("float64", f64);
  return out;
}

}  // namespace

void RegisterKernelApi(Napi::Env env, Napi::Object exports) {
  exports.Set("loadKernels",
              Napi::Function::New<Guarded<LoadKernels, ErrorCode::kDlopen>>(env, "loadKernels"));
  exports.Set("replaceKernels",
              Napi::Function::New<Guarded<ReplaceKernels, ErrorCode::kDlopen>>(env, "replaceKernels"));
  exports.Set("loadBlas", Napi::Function::New<Guarded<LoadBlasApi, ErrorCode::kDlopen>>(env, "loadBlas"));
  exports.Set("loadLapack", Napi::Function::New<Guarded<LoadLapackApi, ErrorCode::kDlopen>>(env, "loadLapack"));
}

}  // namespace ma
