// JS entry points of the Metal backend (macOS builds only; see binding.gyp):
//   metalDeviceInfo(), metalCompile(source, names), metalLoadLibrary(metallibPath, source, names),
//   metalRunPlan(commands, args) -> GPU ms,
//   metalRunPlanAsync(commands, args, done); the pipeline cache: metalOpenArchive(path)
//   -> "" or why the file was not read, metalSaveArchive(path) -> written,
//   metalSetPipelineLimit(n), metalPipelineStats().
// Buffers come from the common pool (buffer_api.cc); the runtime wraps them for Metal.
// Each entry point drains its own autorelease pool; completion handlers run on a Metal
// thread and reach JS only through a thread-safe function.
#import <Foundation/Foundation.h>

#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../common/errors.h"
#include "../common/exports.h"
#include "../common/js_args.h"
#include "../common/js_errors.h"
#include "autorelease.h"
#include "metal_runtime.h"

namespace ma {
namespace {

using metal::WithAutoreleasePool;

Napi::Value DeviceInfoJs(const Napi::CallbackInfo& info) {
  return WithAutoreleasePool([&]() {
    const metal::DeviceInfo d = metal::Runtime::Instance().Info();
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", d.name);
    out.Set("family", d.family);
    out.Set("memoryBytes", Napi::Number::New(env, static_cast<double>(d.memoryBytes)));
    out.Set("maxBufferLength", Napi::Number::New(env, static_cast<double>(d.maxBufferLength)));
    out.Set("maxThreadsPerGroup", Napi::Number::New(env, static_cast<double>(d.maxThreadsPerThreadgroup)));
    out.Set("sharedMemoryBytes", Napi::Number::New(env, static_cast<double>(d.threadgroupMemoryBytes)));
    out.Set("simdWidth", Napi::Number::New(env, static_cast<double>(d.simdWidth)));
    out.Set("unifiedMemory", Napi::Boolean::New(env, d.unifiedMemory));
    out.Set("simdgroupMatrix", Napi::Boolean::New(env, d.simdgroupMatrix));
    out.Set("bfloat", Napi::Boolean::New(env, d.bfloat));
    out.Set("languageVersion", d.languageVersion);
    return out;
  });
}

Napi::Value CompileJs(const Napi::CallbackInfo& info) {
  return WithAutoreleasePool([&]() {
    const std::string source = CStringArg(info[0], "source");
    if (!info[1].IsArray()) Fail(ErrorCode::kBadArgument, "names must be an array of strings");
    const Napi::Array list = info[1].As<Napi::Array>();
    std::vector<std::string> names;
    names.reserve(list.Length());
    for (std::uint32_t i = 0; i < list.Length(); ++i) names.push_back(CStringArg(list.Get(i), "names[i]"));
    const std::vector<std::int32_t> ids = metal::Runtime::Instance().Compile(source, names);
    Napi::Array out = Napi::Array::New(info.Env(), ids.size());
    for (std::uint32_t i = 0; i < ids.size(); ++i) out.Set(i, Napi::Number::New(info.Env(), ids[i]));
    return out;
  });
}

Napi::Value LoadLibraryJs(const Napi::CallbackInfo& info) {
  return WithAutoreleasePool([&]() {
    const std::string path = CStringArg(info[0], "path");
    const std::string source = CStringArg(info[1], "source");
    if (!info[2].IsArray()) Fail(ErrorCode::kBadArgument, "names must be an array of strings");
    const Napi::Array list = info[2].As<Napi::Array>();
    std::vector<std::string> names;
    names.reserve(list.Length());
    for (std::uint32_t i = 0; i < list.Length(); ++i) names.push_back(CStringArg(list.Get(i), "names[i]"));
    const std::vector<std::int32_t> ids = metal::Runtime::Instance().LoadLibrary(path, source, names);
    Napi::Array out = Napi::Array::New(info.Env(), ids.size());
    for (std::uint32_t i = 0; i < ids.size(); ++i) out.Set(i, Napi::Number::New(info.Env(), ids[i]));
    return out;
  });
}

Napi::Value OpenArchiveJs(const Napi::CallbackInfo& info) {
  const std::string path = CStringArg(info[0], "path");
  return Napi::String::New(info.Env(), metal::Runtime::Instance().OpenArchive(path));
}

Napi::Value SaveArchiveJs(const Napi::CallbackInfo& info) {
  const std::string path = CStringArg(info[0], "path");
  if (path.empty()) Fail(ErrorCode::kBadArgument, "metalSaveArchive: path must not be empty");
  return Napi::Boolean::New(info.Env(), metal::Runtime::Instance().SaveArchive(path));
}

Napi::Value SetPipelineLimitJs(const Napi::CallbackInfo& info) {
  const std::uint64_t limit = ByteCountArg(info[0], "limit");
  metal::Runtime::Instance().SetPipelineLimit(static_cast<std::size_t>(limit));
  return info.Env().Undefined();
}

Napi::Value PipelineStatsJs(const Napi::CallbackInfo& info) {
  const metal::PipelineStats s = metal::Runtime::Instance().Stats();
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("compiled", Napi::Number::New(env, static_cast<double>(s.compiled)));
  out.Set("loaded", Napi::Number::New(env, static_cast<double>(s.loaded)));
  out.Set("evicted", Napi::Number::New(env, static_cast<double>(s.evicted)));
  out.Set("resident", Napi::Number::New(env, static_cast<double>(s.resident)));
  out.Set("limit", Napi::Number::New(env, static_cast<double>(s.limit)));
  out.Set("pending", Napi::Number::New(env, static_cast<double>(s.pending)));
  out.Set("archiveNote", s.archiveNote);
  return out;
}

Napi::Value RunPlanJs(const Napi::CallbackInfo& info) {
  return WithAutoreleasePool([&]() {
    const TypedSpan<std::int32_t> commands = Int32ArrayArg(info[0], "commands");
    const TypedSpan<std::int64_t> args = BigInt64ArrayArg(info[1], "args");
    metal::Runtime& runtime = metal::Runtime::Instance();
    const double ms = runtime.Run(runtime.Prepare(commands.data, commands.length, args.data, args.length));
    return Napi::Number::New(info.Env(), ms);
  });
}

// What a completion handler hands to the JS thread.
struct Completion {
  std::string error;  // "" on success
};

// Runs on the JS thread. Raw napi_call_function (as in cpu/plan_api.cc): an exception
// thrown by `done` stays pending and is reported as uncaught, never turned into a C++
// exception on this path.
void CallDone(Napi::Env env, Napi::Function done, Completion* completion) {
  std::unique_ptr<Completion> owned(completion);
  if (env == nullptr || done.IsEmpty()) return;  // environment shutting down
  napi_value arg = nullptr;
  if (owned->error.empty()) {
    napi_get_null(env, &arg);
  } else {
    arg = MakeJsError(env, ErrorCode::kGpu, owned->error).Value();
  }
  napi_value undefined = nullptr;
  napi_value result = nullptr;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, done, 1, &arg, &result);
}

Napi::Value RunPlanAsyncJs(const Napi::CallbackInfo& info) {
  return WithAutoreleasePool([&]() {
    const TypedSpan<std::int32_t> commands = Int32ArrayArg(info[0], "commands");
    const TypedSpan<std::int64_t> args = BigInt64ArrayArg(info[1], "args");
    const Napi::Function done = FunctionArg(info[2], "done");
    metal::Runtime& runtime = metal::Runtime::Instance();
    // Validated and pinned now, on the JS thread: a bad plan throws synchronously.
    auto plan = runtime.Prepare(commands.data, commands.length, args.data, args.length);
    auto tsfn = std::make_shared<Napi::ThreadSafeFunction>(
        Napi::ThreadSafeFunction::New(info.Env(), done, "metalarray.metalRunPlanAsync", 0, 1));
    try {
      runtime.RunAsync(plan, [tsfn](const std::string& error) {
        auto* completion = new Completion{error};
        if (tsfn->BlockingCall(completion, CallDone) != napi_ok) delete completion;
        tsfn->Release();
      });
    } catch (...) {
      tsfn->Release();  // nothing was committed: the handler will never run
      throw;
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void RegisterMetalApi(Napi::Env env, Napi::Object exports) {
  exports.Set("metalDeviceInfo", Napi::Function::New<Guarded<DeviceInfoJs, ErrorCode::kGpu>>(env, "metalDeviceInfo"));
  exports.Set("metalCompile", Napi::Function::New<Guarded<CompileJs, ErrorCode::kCompile>>(env, "metalCompile"));
  exports.Set("metalLoadLibrary", Napi::Function::New<Guarded<LoadLibraryJs, ErrorCode::kCompile>>(env, "metalLoadLibrary"));
  exports.Set("metalRunPlan", Napi::Function::New<Guarded<RunPlanJs, ErrorCode::kKernel>>(env, "metalRunPlan"));
  exports.Set("metalOpenArchive", Napi::Function::New<Guarded<OpenArchiveJs, ErrorCode::kGpu>>(env, "metalOpenArchive"));
  exports.Set("metalSaveArchive", Napi::Function::New<Guarded<SaveArchiveJs, ErrorCode::kGpu>>(env, "metalSaveArchive"));
  exports.Set("metalSetPipelineLimit",
              Napi::Function::New<Guarded<SetPipelineLimitJs, ErrorCode::kBadArgument>>(env, "metalSetPipelineLimit"));
  exports.Set("metalPipelineStats",
              Napi::Function::New<Guarded<PipelineStatsJs, ErrorCode::kGpu>>(env, "metalPipelineStats"));
  exports.Set("metalRunPlanAsync",
              Napi::Function::New<Guarded<RunPlanAsyncJs, ErrorCode::kKernel>>(env, "metalRunPlanAsync"));
}

}  // namespace ma
