#include "buffer_handle.h"

#include <atomic>
#include <memory>

#include "buffer_pool.h"
#include "env_state.h"
#include "errors.h"

namespace ma {
namespace {

std::atomic<DeviceFreeFn> cudaFree{nullptr};

struct Handle {
  std::int64_t id;
  std::uint64_t bytes;   // reported to V8 while held
  std::uint32_t owner;   // the allocating environment's token
  HandlePool pool;
  bool released;
};

// Returns the buffer to its pool; never throws (finalizers call it).
void FreeHandleBuffer(Handle& h) noexcept {
  if (h.released) return;
  h.released = true;
  if (h.pool == HandlePool::kHost) {
    FreedBuffer freed{};
    BufferPool::Instance().FreeIfOwned(h.id, h.owner, &freed);
  } else {
    DeviceFreeFn fn = cudaFree.load(std::memory_order_acquire);
    if (fn != nullptr) fn(h.id);
  }
}

// The basic finalizer: runs inside the GC that found the handle unreachable. It may
// only use "basic" Node-API calls (no JS, no handles): adjusting external memory and
// reading instance data are among them.
void FinalizeHandle(node_api_basic_env env, void* data, void* /*hint*/) {
  std::unique_ptr<Handle> h(static_cast<Handle*>(data));
  if (h->released) return;
  FreeHandleBuffer(*h);
  void* state = nullptr;
  if (napi_get_instance_data(env, &state) == napi_ok && state != nullptr) {
    static_cast<EnvState*>(state)->ReportHandleFree(env, h->bytes);
  }
}

Handle* HandleOf(Napi::Env env, const Napi::Value& value) {
  if (!value.IsExternal()) Fail(ErrorCode::kBadArgument, "buffer handle: expected a handle from allocOwned");
  void* data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == nullptr) {
    Fail(ErrorCode::kBadArgument, "buffer handle: not a metalarray buffer handle");
  }
  return static_cast<Handle*>(data);
}

}  // namespace

void SetCudaHandleFree(DeviceFreeFn fn) { cudaFree.store(fn, std::memory_order_release); }

Napi::Value MakeBufferHandle(Napi::Env env, HandlePool pool, std::int64_t id, std::uint64_t classBytes) {
  EnvState& state = EnvState::Of(env);
  std::unique_ptr<Handle> h(new Handle{id, classBytes, state.token(), pool, false});
  napi_value value = nullptr;
  if (napi_create_external(env, h.get(), FinalizeHandle, nullptr, &value) != napi_ok) {
    FreeHandleBuffer(*h);
    Fail(ErrorCode::kOom, "could not create a buffer handle (napi_create_external failed)");
  }
  h.release();  // owned by the external now; FinalizeHandle deletes it
  state.ReportHandleAlloc(env, classBytes);
  return Napi::Value(env, value);
}

void ReleaseBufferHandle(Napi::Env env, const Napi::Value& value) {
  Handle* h = HandleOf(env, value);
  if (h->released) return;
  FreeHandleBuffer(*h);
  EnvState::Of(env).ReportHandleFree(env, h->bytes);
}

std::int64_t ReportedHandleBytes(Napi::Env env) { return EnvState::Of(env).reportedHandleBytes(); }

}  // namespace ma
