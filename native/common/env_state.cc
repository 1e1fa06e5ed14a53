#include "env_state.h"

#include <mutex>
#include <unordered_map>

#include "errors.h"

namespace ma {
namespace {

// Live environments by owner token, so a free from one environment can credit the
// allocating one. Entries go away with their environment; credits for a gone
// environment are dropped (its isolate no longer exists).
class EnvRegistry {
 public:
  static EnvRegistry& Instance() {
    static EnvRegistry* const registry = new EnvRegistry();  // never destroyed, see BufferPool
    return *registry;
  }

  std::uint32_t Register(std::shared_ptr<std::atomic<std::int64_t>> credits) {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint32_t token = 0;
    do {
      token = nextToken_++;
    } while (token == 0 || envs_.count(token) != 0);  // 0 means "no owner"; skip on wrap-around
    envs_.emplace(token, std::move(credits));
    return token;
  }

  void Unregister(std::uint32_t token) {
    std::lock_guard<std::mutex> lock(mu_);
    envs_.erase(token);
  }

  void Credit(std::uint32_t token, std::int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = envs_.find(token);
    if (it != envs_.end()) it->second->fetch_add(bytes, std::memory_order_relaxed);
  }

 private:
  std::mutex mu_;
  std::uint32_t nextToken_ = 1;
  std::unordered_map<std::uint32_t, std::shared_ptr<std::atomic<std::int64_t>>> envs_;
};

}  // namespace

EnvState::EnvState() : credits_(std::make_shared<std::atomic<std::int64_t>>(0)) {
  token_ = EnvRegistry::Instance().Register(credits_);
}

EnvState::~EnvState() {
  EnvRegistry::Instance().Unregister(token_);
  // Nothing in this environment can free its buffers any more; return them to the
  // pool. (No V8 accounting: the isolate is going away.)
  BufferPool::Instance().ReleaseOwnedBy(token_);
}

void EnvState::Attach(Napi::Env env) {
  std::unique_ptr<EnvState> state(new EnvState());
  env.SetInstanceData(state.get());  // the default finalizer deletes it at teardown
  state.release();
}

EnvState& EnvState::Of(Napi::Env env) {
  EnvState* state = env.GetInstanceData<EnvState>();
  if (state == nullptr) Fail(ErrorCode::kBadArgument, "metalarray addon is not initialized in this environment");
  return *state;
}

void EnvState::ApplyCredits(Napi::Env env) {
  // A relaxed load first keeps the common case (no cross-environment frees) to a read.
  if (credits_->load(std::memory_order_relaxed) == 0) return;
  const std::int64_t bytes = credits_->exchange(0, std::memory_order_relaxed);
  if (bytes != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -bytes);
}

void EnvState::ReportAlloc(Napi::Env env, std::uint64_t bytes) {
  ApplyCredits(env);
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<std::int64_t>(bytes));
}

void EnvState::ReportHandleAlloc(Napi::Env env, std::uint64_t bytes) {
  ReportAlloc(env, bytes);
  handleBytes_ += static_cast<std::int64_t>(bytes);
}

void EnvState::ReportHandleFree(node_api_basic_env env, std::uint64_t bytes) noexcept {
  handleBytes_ -= static_cast<std::int64_t>(bytes);
  std::int64_t adjusted = 0;
  napi_adjust_external_memory(env, -static_cast<std::int64_t>(bytes), &adjusted);
}

void EnvState::ReportFree(Napi::Env env, const FreedBuffer& freed) {
  ApplyCredits(env);
  if (freed.owner == token_) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<std::int64_t>(freed.bytes));
  } else {
    EnvRegistry::Instance().Credit(freed.owner, static_cast<std::int64_t>(freed.bytes));
  }
}

}  // namespace ma
