// Per-environment state (the main thread and each worker_thread that loads the addon
// get their own) and the reporting of native memory to each environment's V8 heap.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "buffer_pool.h"

namespace ma {

class EnvState {
 public:
  // Creates the state of `env` and attaches it as the addon's instance data; it is
  // destroyed when the environment is torn down.
  static void Attach(Napi::Env env);
  static EnvState& Of(Napi::Env env);

  ~EnvState();
  EnvState(const EnvState&) = delete;
  EnvState& operator=(const EnvState&) = delete;

  // Owner token stored with every buffer this environment allocates.
  std::uint32_t token() const { return token_; }

  // Reports an allocation made by this environment to its V8 heap, which lets the GC
  // weigh native memory when deciding to collect the JS objects that own buffers.
  void ReportAlloc(Napi::Env env, std::uint64_t bytes);
  // Reports the bytes of a buffer handle (buffer_handle.h) made or freed in this
  // environment. The free variant is safe inside a GC finalizer (basic Node-API only).
  void ReportHandleAlloc(Napi::Env env, std::uint64_t bytes);
  void ReportHandleFree(node_api_basic_env env, std::uint64_t bytes) noexcept;
  // Net bytes reported for live handles: what this environment's V8 heap counts as
  // external memory on the library's behalf.
  std::int64_t reportedHandleBytes() const { return handleBytes_; }

  // Reports a free made from this environment. A buffer allocated by another
  // environment is credited to that one, which applies it on its own thread: V8's
  // external memory counter of an isolate may only be touched from its thread.
  void ReportFree(Napi::Env env, const FreedBuffer& freed);

 private:
  EnvState();
  void ApplyCredits(Napi::Env env);

  std::uint32_t token_;
  std::int64_t handleBytes_ = 0;  // only touched on this environment's thread
  // Bytes freed from other environments on our behalf, not yet reported to V8.
  std::shared_ptr<std::atomic<std::int64_t>> credits_;
};

}  // namespace ma
