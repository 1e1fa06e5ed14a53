// JS entry point loadKernels(path, symbols).
#include <string>
#include <vector>

#include "../common/errors.h"
#include "../common/exports.h"
#include "../common/js_args.h"
#include "../common/js_errors.h"
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

}  // namespace

void RegisterKernelApi(Napi::Env env, Napi::Object exports) {
  exports.Set("loadKernels",
              Napi::Function::New<Guarded<LoadKernels, ErrorCode::kDlopen>>(env, "loadKernels"));
}

}  // namespace ma
