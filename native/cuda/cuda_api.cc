// JS entry points of the CUDA runtime (see NativeCuda in src/runtime/native.ts).
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../common/buffer_handle.h"
#include "../common/errors.h"
#include "../common/exports.h"
#include "../common/js_args.h"
#include "../common/js_errors.h"
#include "cuda_runtime.h"
#include "nvrtc_compile.h"

namespace ma {
namespace {

using cuda::Runtime;

double LimitValue(std::uint64_t bytes) { return bytes == UINT64_MAX ? INFINITY : static_cast<double>(bytes); }

Napi::Value Probe(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), Runtime::Instance().Probe());
}

Napi::Value DeviceInfo(const Napi::CallbackInfo& info) {
  const cuda::DeviceInfo& d = Runtime::Instance().Info();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("name", d.name);
  o.Set("major", d.major);
  o.Set("minor", d.minor);
  o.Set("multiprocessors", d.multiprocessors);
  o.Set("nvrtc", d.nvrtc);
  return o;
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  const std::uint64_t nbytes = ByteCountArg(info[0], "nbytes");
  return Napi::Number::New(info.Env(), Runtime::Instance().Alloc(nbytes));
}

bool FreeFromHandle(std::int64_t id) noexcept { return Runtime::Instance().FreeQuietly(id); }

// cudaAllocOwned(nbytes) -> [id, handle]; see native/common/buffer_handle.h.
Napi::Value AllocOwned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::uint64_t nbytes = ByteCountArg(info[0], "nbytes");
  const std::uint32_t id = Runtime::Instance().Alloc(nbytes);
  Napi::Value handle = MakeBufferHandle(env, HandlePool::kCuda, id, nbytes);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, id));
  out.Set(1u, handle);
  return out;
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  Runtime::Instance().Free(BufferIdArg(info[0], "id"));
  return info.Env().Undefined();
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  const std::int64_t id = BufferIdArg(info[0], "id");
  const std::uint64_t off = ByteCountArg(info[1], "byteOffset");
  const ByteSpan src = ArrayBufferViewArg(info[2], "src");
  Runtime::Instance().Write(id, off, src.data, src.size);
  return info.Env().Undefined();
}

Napi::Value Read(const Napi::CallbackInfo& info) {
  const std::int64_t id = BufferIdArg(info[0], "id");
  const std::uint64_t off = ByteCountArg(info[1], "byteOffset");
  const ByteSpan dst = ArrayBufferViewArg(info[2], "dst");
  Runtime::Instance().Read(id, off, dst.data, dst.size);
  return info.Env().Undefined();
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  const MemoryStats s = Runtime::Instance().Stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("activeBytes", static_cast<double>(s.activeBytes));
  o.Set("cachedBytes", static_cast<double>(s.cachedBytes));
  o.Set("peakBytes", static_cast<double>(s.peakBytes));
  o.Set("activeBuffers", static_cast<double>(s.activeBuffers));
  o.Set("cachedBuffers", static_cast<double>(s.cachedBuffers));
  o.Set("cacheLimit", LimitValue(s.cacheLimit));
  o.Set("memoryLimit", LimitValue(s.memoryLimit));
  return o;
}

Napi::Value ClearCache(const Napi::CallbackInfo& info) {
  Runtime::Instance().ClearCache();
  return info.Env().Undefined();
}

Napi::Value SetCacheLimit(const Napi::CallbackInfo& info) {
  Runtime::Instance().SetCacheLimit(ByteLimitArg(info[0], "bytes"));
  return info.Env().Undefined();
}

Napi::Value SetMemoryLimit(const Napi::CallbackInfo& info) {
  Runtime::Instance().SetMemoryLimit(ByteLimitArg(info[0], "bytes"));
  return info.Env().Undefined();
}

Napi::Value Compile(const Napi::CallbackInfo& info) {
  const std::string name = CStringArg(info[0], "name");
  const std::string source = CStringArg(info[1], "source");
  const std::string arch = CStringArg(info[2], "arch");
  const std::vector<char> cubin = Runtime::Instance().Compile(name, source, arch);
  Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), cubin.size());
  std::memcpy(out.Data(), cubin.data(), cubin.size());
  return out;
}

// Why NVRTC can't be loaded here, or '' (no driver or device needed).
Napi::Value NvrtcProbe(const Napi::CallbackInfo& info) {
  std::string why;
  const bool loaded = cuda::LoadNvrtc(&why) != nullptr;
  return Napi::String::New(info.Env(), loaded ? std::string() : why);
}

// Compiles one kernel with the runtime's options for `arch`, without a driver or a
// device: { ok, error, log, cubinBytes, ptx, nvrtc }. A virtual `arch` (compute_80) stops
// at PTX (returned as text; no cubin), a real one (sm_80) runs ptxas too. A compile error
// is a result, not a throw.
Napi::Value CheckCompile(const Napi::CallbackInfo& info) {
  const std::string name = CStringArg(info[0], "name");
  const std::string source = CStringArg(info[1], "source");
  const std::string arch = CStringArg(info[2], "arch");
  std::string why;
  const cuda::NvrtcApi* api = cuda::LoadNvrtc(&why);
  if (api == nullptr) Fail(ErrorCode::kDlopen, why);
  int major = 0;
  int minor = 0;
  if (api->nvrtcVersion(&major, &minor) != cuda::kNvrtcSuccess) Fail(ErrorCode::kGpu, "nvrtcVersion failed");
  const cuda::NvrtcOutcome out = cuda::CompileKernel(*api, name, source, arch);
  if (!out.created) Fail(ErrorCode::kGpu, "nvrtcCreateProgram failed: " + out.error);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("ok", out.compiled);
  o.Set("error", out.error);
  o.Set("log", out.log);
  o.Set("cubinBytes", static_cast<double>(out.cubin.size()));
  o.Set("ptx", out.ptx);
  o.Set("nvrtc", std::to_string(major) + "." + std::to_string(minor));
  return o;
}

Napi::Value LoadModule(const Napi::CallbackInfo& info) {
  const ByteSpan image = ArrayBufferViewArg(info[0], "image");
  if (!info[1].IsArray()) Fail(ErrorCode::kBadArgument, "names must be an array of strings");
  const Napi::Array arr = info[1].As<Napi::Array>();
  std::vector<std::string> names;
  for (std::uint32_t i = 0; i < arr.Length(); i++) names.push_back(CStringArg(arr.Get(i), "names[i]"));
  // cuModuleLoadData reads the image as a NUL-safe blob; copy it so it is aligned.
  std::vector<std::uint8_t> copy(image.data, image.data + image.size);
  const std::vector<std::uint32_t> ids = Runtime::Instance().LoadModule(copy.data(), copy.size(), names);
  Napi::Array out = Napi::Array::New(info.Env(), ids.size());
  for (std::uint32_t i = 0; i < ids.size(); i++) out.Set(i, Napi::Number::New(info.Env(), ids[i]));
  return out;
}

Napi::Value RunPlan(const Napi::CallbackInfo& info) {
  const TypedSpan<std::int32_t> commands = Int32ArrayArg(info[0], "commands");
  const TypedSpan<std::int64_t> args = BigInt64ArrayArg(info[1], "args");
  Runtime& rt = Runtime::Instance();
  const cuda::Plan plan = rt.Prepare(commands.data, commands.length, args.data, args.length);
  try {
    rt.Issue(plan);
  } catch (...) {
    rt.Synchronize(nullptr);
    throw;
  }
  rt.Synchronize(&plan);
  return info.Env().Undefined();
}

// Waits for an event recorded after a plan's launches on a libuv thread, then calls
// `done` on the JS thread. The launches were issued on the JS thread (cuLaunchKernel
// copies the arguments), so only the wait happens off it.
class WaitWorker final : public Napi::AsyncWorker {
 public:
  WaitWorker(const Napi::Function& done, cuda::CUevent event, std::string what, cuda::Plan plan)
      : Napi::AsyncWorker(done, "metalarray.cudaRunPlanAsync"), event_(event), what_(std::move(what)), plan_(std::move(plan)) {}

 protected:
  void Execute() override {
    try {
      Runtime::Instance().WaitEvent(event_, what_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { CallDone(Env().Null()); }
  void OnError(const Napi::Error& e) override { CallDone(MakeJsError(Env(), ErrorCode::kGpu, e.Message()).Value()); }

 private:
  void CallDone(napi_value arg) {
    napi_env env = Env();
    napi_value undefined = nullptr;
    napi_value done = nullptr;
    napi_value result = nullptr;
    if (napi_get_undefined(env, &undefined) != napi_ok || napi_get_reference_value(env, Callback(), &done) != napi_ok ||
        done == nullptr) {
      return;
    }
    napi_call_function(env, undefined, done, 1, &arg, &result);
  }
  cuda::CUevent event_;
  std::string what_;
  cuda::Plan plan_;  // its args copies live until the worker is deleted, after the wait
};

Napi::Value RunPlanAsync(const Napi::CallbackInfo& info) {
  const TypedSpan<std::int32_t> commands = Int32ArrayArg(info[0], "commands");
  const TypedSpan<std::int64_t> args = BigInt64ArrayArg(info[1], "args");
  const Napi::Function done = FunctionArg(info[2], "done");
  Runtime& rt = Runtime::Instance();
  cuda::Plan plan = rt.Prepare(commands.data, commands.length, args.data, args.length);
  try {
    rt.Issue(plan);
  } catch (...) {
    rt.Synchronize(nullptr);  // let launches already issued finish before the plan is freed
    throw;
  }
  const cuda::CUevent event = rt.RecordEvent();
  const std::string what = " after a plan of " + std::to_string(plan.launches.size()) + " kernel(s)";
  auto worker = std::make_unique<WaitWorker>(done, event, what, std::move(plan));
  worker->Queue();
  worker.release();  // owned by libuv now
  return info.Env().Undefined();
}

Napi::Value TimePlan(const Napi::CallbackInfo& info) {
  const TypedSpan<std::int32_t> commands = Int32ArrayArg(info[0], "commands");
  const TypedSpan<std::int64_t> args = BigInt64ArrayArg(info[1], "args");
  const double reps = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
  if (!(reps >= 1 && reps <= 100000)) Fail(ErrorCode::kBadArgument, "reps must be an integer in [1, 100000]");
  Runtime& rt = Runtime::Instance();
  const cuda::Plan plan = rt.Prepare(commands.data, commands.length, args.data, args.length);
  const std::vector<double> ms = rt.Time(plan, static_cast<int>(reps));
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), ms.size());
  for (std::size_t i = 0; i < ms.size(); i++) out[i] = ms[i];
  return out;
}

Napi::Value GraphSupport(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), Runtime::Instance().GraphSupport());
}

Napi::Value GraphCreate(const Napi::CallbackInfo& info) {
  const TypedSpan<std::int32_t> commands = Int32ArrayArg(info[0], "commands");
  const TypedSpan<std::int64_t> args = BigInt64ArrayArg(info[1], "args");
  const std::uint32_t id = Runtime::Instance().CreateGraph(commands.data, commands.length, args.data, args.length);
  return Napi::Number::New(info.Env(), id);
}

std::uint32_t GraphIdArg(const Napi::Value& v) {
  const double id = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(id >= 1 && id <= UINT32_MAX) || id != static_cast<double>(static_cast<std::uint32_t>(id))) {
    Fail(ErrorCode::kBadArgument, "a CUDA graph id must be a positive integer");
  }
  return static_cast<std::uint32_t>(id);
}

Napi::Value GraphReplay(const Napi::CallbackInfo& info) {
  const std::uint32_t id = GraphIdArg(info[0]);
  const TypedSpan<std::int32_t> before = Int32ArrayArg(info[1], "before");
  const TypedSpan<std::int32_t> after = Int32ArrayArg(info[2], "after");
  Runtime::Instance().ReplayGraph(id, before.data, before.length, after.data, after.length);
  return info.Env().Undefined();
}

Napi::Value GraphDestroy(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Runtime::Instance().DestroyGraph(GraphIdArg(info[0])));
}

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New<Guarded<Fn, ErrorCode::kGpu>>(env, name));
}

}  // namespace

void RegisterCudaApi(Napi::Env env, Napi::Object exports) {
  Export<Probe>(env, exports, "cudaProbe");
  Export<DeviceInfo>(env, exports, "cudaDeviceInfo");
  Export<Alloc>(env, exports, "cudaAlloc");
  Export<Free>(env, exports, "cudaFree");
  SetCudaHandleFree(FreeFromHandle);
  Export<AllocOwned>(env, exports, "cudaAllocOwned");
  Export<Write>(env, exports, "cudaWrite");
  Export<Read>(env, exports, "cudaRead");
  Export<Stats>(env, exports, "cudaMemoryStats");
  Export<ClearCache>(env, exports, "cudaClearCache");
  Export<SetCacheLimit>(env, exports, "cudaSetCacheLimit");
  Export<SetMemoryLimit>(env, exports, "cudaSetMemoryLimit");
  Export<Compile>(env, exports, "cudaCompile");
  Export<NvrtcProbe>(env, exports, "cudaNvrtcProbe");
  Export<CheckCompile>(env, exports, "cudaCheckCompile");
  Export<LoadModule>(env, exports, "cudaLoadModule");
  Export<RunPlan>(env, exports, "cudaRunPlan");
  Export<RunPlanAsync>(env, exports, "cudaRunPlanAsync");
  Export<TimePlan>(env, exports, "cudaTimePlan");
  Export<GraphSupport>(env, exports, "cudaGraphSupport");
  Export<GraphCreate>(env, exports, "cudaGraphCreate");
  Export<GraphReplay>(env, exports, "cudaGraphReplay");
  Export<GraphDestroy>(env, exports, "cudaGraphDestroy");
}

}  // namespace ma
