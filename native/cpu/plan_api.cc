// JS entry points runPlan, runPlanAsync and threadCount.
#include <memory>
#include <string>

#include "../common/errors.h"
#include "../common/exports.h"
#include "../common/js_args.h"
#include "../common/js_errors.h"
#include "plan.h"
#include "thread_pool.h"

namespace ma {
namespace {

// Runs one prepared plan on a libuv thread and reports to `done` on the JS thread.
// The plan (and with it the buffer pins) is owned here, so every way this ends,
// including a cancelled work item at environment teardown, drops the pins.
class PlanWorker final : public Napi::AsyncWorker {
 public:
  PlanWorker(const Napi::Function& done, std::unique_ptr<PreparedPlan> plan)
      : Napi::AsyncWorker(done, "metalarray.runPlanAsync"), plan_(std::move(plan)) {}

 protected:
  void Execute() override {
    try {
      plan_->Run();
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown exception");
    }
  }

  void OnOK() override { CallDone(Env().Null()); }

  void OnError(const Napi::Error& e) override {
    CallDone(MakeJsError(Env(), ErrorCode::kKernel, "plan failed: " + e.Message()).Value());
  }

 private:
  // Raw napi_call_function, not Napi::Function::Call: a failed call must not become a
  // C++ exception here. If `done` throws, its exception stays pending and Node reports
  // it as uncaught once this returns (as for any callback); if the environment is
  // shutting down (a worker that called process.exit in an earlier callback) JS cannot
  // run and there is nothing left to notify. node-addon-api would instead try to build
  // an Error in the dying environment, which is fatal.
  void CallDone(napi_value arg) {
    napi_env env = Env();
    napi_value undefined = nullptr;
    napi_value done = nullptr;
    napi_value result = nullptr;
    if (napi_get_undefined(env, &undefined) != napi_ok ||
        napi_get_reference_value(env, Callback(), &done) != napi_ok || done == nullptr) {
      return;
    }
    napi_call_function(env, undefined, done, 1, &arg, &result);
  }

  std::unique_ptr<PreparedPlan> plan_;
};

Napi::Value RunPlan(const Napi::CallbackInfo& info) {
  const TypedSpan<std::int32_t> commands = Int32ArrayArg(info[0], "commands");
  const TypedSpan<std::int64_t> args = BigInt64ArrayArg(info[1], "args");
  // One per thread, reused: after warm-up its vectors have capacity and a run does not
  // allocate. Not reentered: kernels never call back into JS.
  thread_local PreparedPlan plan;
  plan.Prepare(commands.data, commands.length, args.data, args.length);
  plan.Run();
  return info.Env().Undefined();
}

Napi::Value RunPlanAsync(const Napi::CallbackInfo& info) {
  const TypedSpan<std::int32_t> commands = Int32ArrayArg(info[0], "commands");
  const TypedSpan<std::int64_t> args = BigInt64ArrayArg(info[1], "args");
  const Napi::Function done = FunctionArg(info[2], "done");
  // Copied, validated and pinned now, on the JS thread: errors in the plan are thrown
  // synchronously, and the background thread only runs kernels.
  auto plan = std::make_unique<PreparedPlan>();
  plan->Prepare(commands.data, commands.length, args.data, args.length);
  auto worker = std::make_unique<PlanWorker>(done, std::move(plan));
  worker->Queue();
  worker.release();  // owned by libuv now; node-addon-api deletes it after OnOK/OnError
  return info.Env().Undefined();
}

// Marks the externals replayCreate makes, so replayRun never takes another addon object for one.
constexpr napi_type_tag kReplayTag = {0x6d6172706c617931ULL, 0x7265706c61793031ULL};

// A plan prepared once for compile's replays, owned by its JS handle (freed by GC).
Napi::Value ReplayCreate(const Napi::CallbackInfo& info) {
  const TypedSpan<std::int32_t> commands = Int32ArrayArg(info[0], "commands");
  const TypedSpan<std::int64_t> args = BigInt64ArrayArg(info[1], "args");
  const TypedSpan<std::int32_t> patch = Int32ArrayArg(info[2], "patch");
  auto plan = std::make_unique<PreparedPlan>();
  plan->PrepareReplay(commands.data, commands.length, args.data, args.length, patch.data, patch.length);
  auto handle = Napi::External<PreparedPlan>::New(info.Env(), plan.release(), [](Napi::Env, PreparedPlan* p) { delete p; });
  handle.TypeTag(&kReplayTag);
  return handle;
}

Napi::Value ReplayRun(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal() || !info[0].As<Napi::External<PreparedPlan>>().CheckTypeTag(&kReplayTag)) {
    Fail(ErrorCode::kBadArgument, "replay must be a handle from replayCreate");
  }
  PreparedPlan* plan = info[0].As<Napi::External<PreparedPlan>>().Data();
  const TypedSpan<std::int32_t> ids = Int32ArrayArg(info[1], "ids");
  plan->RunWith(ids.data, ids.length);
  return info.Env().Undefined();
}

Napi::Value ThreadCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ThreadPool::Instance().threadCount());
}

}  // namespace

void RegisterPlanApi(Napi::Env env, Napi::Object exports) {
  exports.Set("runPlan", Napi::Function::New<Guarded<RunPlan, ErrorCode::kKernel>>(env, "runPlan"));
  exports.Set("runPlanAsync",
              Napi::Function::New<Guarded<RunPlanAsync, ErrorCode::kKernel>>(env, "runPlanAsync"));
  exports.Set("replayCreate", Napi::Function::New<Guarded<ReplayCreate, ErrorCode::kKernel>>(env, "replayCreate"));
  exports.Set("replayRun", Napi::Function::New<Guarded<ReplayRun, ErrorCode::kKernel>>(env, "replayRun"));
  exports.Set("threadCount",
              Napi::Function::New<Guarded<ThreadCount, ErrorCode::kKernel>>(env, "threadCount"));
}

}  // namespace ma
