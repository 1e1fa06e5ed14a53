// JS entry points of the buffer pool: alloc, free, byteLength, write, read and the
// memory statistics and limits.
#include <cmath>
#include <cstring>
#include <string>

#include "buffer_handle.h"
#include "buffer_pool.h"
#include "env_state.h"
#include "errors.h"
#include "exports.h"
#include "js_args.h"
#include "js_errors.h"

namespace ma {
namespace {

void CheckRange(std::uint64_t byteOffset, std::uint64_t length, std::uint64_t byteLength,
                const char* op) {
  if (byteOffset > byteLength || length > byteLength - byteOffset) {
    Fail(ErrorCode::kBadArgument, std::string(op) + " of " + std::to_string(length) +
                                      " bytes at byteOffset " + std::to_string(byteOffset) +
                                      " exceeds the buffer's " + std::to_string(byteLength) +
                                      " bytes");
  }
}

// Limits are reported as Infinity when unset, which JS compares naturally.
double LimitValue(std::uint64_t bytes) {
  return bytes == UINT64_MAX ? INFINITY : static_cast<double>(bytes);
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::uint64_t nbytes = ByteCountArg(info[0], "nbytes");
  EnvState& state = EnvState::Of(env);
  BufferPool& pool = BufferPool::Instance();
  std::uint64_t classBytes = 0;
  const std::uint32_t id = pool.Allocate(nbytes, state.token(), &classBytes);
  try {
    state.ReportAlloc(env, classBytes);
  } catch (...) {
    pool.Free(id);  // the id never reached JS; do not leak the block
    throw;
  }
  return Napi::Number::New(env, id);
}

// allocOwned(nbytes) -> [id, handle]: the buffer is freed by releaseOwned(handle) or,
// if the handle becomes unreachable first, inside the GC that collects it.
Napi::Value AllocOwned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::uint64_t nbytes = ByteCountArg(info[0], "nbytes");
  EnvState& state = EnvState::Of(env);
  std::uint64_t classBytes = 0;
  const std::uint32_t id = BufferPool::Instance().Allocate(nbytes, state.token(), &classBytes);
  Napi::Value handle = MakeBufferHandle(env, HandlePool::kHost, id, classBytes);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, id));
  out.Set(1u, handle);
  return out;
}

Napi::Value ReleaseOwned(const Napi::CallbackInfo& info) {
  ReleaseBufferHandle(info.Env(), info[0]);
  return info.Env().Undefined();
}

Napi::Value ExternalBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(ReportedHandleBytes(info.Env())));
}

// The pin a zero-copy view holds; the hint is the slot index.
void FinalizeView(node_api_basic_env /*env*/, void* /*data*/, void* hint) {
  BufferPool::Instance().UnpinSlot(static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(hint)));
}

void KeepViewMemory(node_api_basic_env /*env*/, void* /*data*/, void* /*hint*/) {}

// view(id, unpinInGc) -> ArrayBuffer over the buffer's memory, no copy. The ArrayBuffer
// pins the block: freeing the buffer meanwhile invalidates its id, and the memory goes
// back to the pool only when the ArrayBuffer is gone, so a view never dangles.
// With unpinInGc the pin drops inside the GC that collects the ArrayBuffer object (a
// basic finalizer on it), which is only safe where JS cannot move its memory to another
// ArrayBuffer (no ArrayBuffer.prototype.transfer; Node copies, never moves, external
// buffers in postMessage); otherwise it drops with the backing store, which Node
// reports on a later tick.
Napi::Value View(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::int64_t id = BufferIdArg(info[0], "id");
  const bool unpinInGc = info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  BufferPool& pool = BufferPool::Instance();
  std::uint64_t byteLength = 0;
  std::uint32_t slot = 0;
  void* data = pool.PinForView(id, &byteLength, &slot);
  napi_value out = nullptr;
  void* hint = reinterpret_cast<void*>(static_cast<std::uintptr_t>(slot));
  napi_status status = napi_create_external_arraybuffer(env, data, static_cast<std::size_t>(byteLength),
                                                        unpinInGc ? KeepViewMemory : FinalizeView,
                                                        unpinInGc ? nullptr : hint, &out);
  if (status == napi_ok && unpinInGc) {
    status = napi_add_finalizer(env, out, nullptr, FinalizeView, hint, nullptr);
    if (status != napi_ok) {
      pool.UnpinSlot(slot);  // the ArrayBuffer is unreachable from JS; nothing reads it
      Fail(ErrorCode::kOom, "view: napi_add_finalizer failed");
    }
  }
  if (status != napi_ok) {
    pool.UnpinSlot(slot);
    Fail(ErrorCode::kBadArgument, "view: this Node.js does not allow external ArrayBuffers (status " +
                                      std::to_string(static_cast<int>(status)) + "); read with a copy");
  }
  return Napi::Value(env, out);
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::int64_t id = BufferIdArg(info[0], "id");
  EnvState& state = EnvState::Of(env);
  const FreedBuffer freed = BufferPool::Instance().Free(id);
  state.ReportFree(env, freed);
  return env.Undefined();
}

Napi::Value ByteLength(const Napi::CallbackInfo& info) {
  const std::int64_t id = BufferIdArg(info[0], "id");
  return Napi::Number::New(info.Env(), static_cast<double>(BufferPool::Instance().ByteLength(id)));
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  const std::int64_t id = BufferIdArg(info[0], "id");
  const std::uint64_t byteOffset = ByteCountArg(info[1], "byteOffset");
  const ByteSpan src = ArrayBufferViewArg(info[2], "src");
  // Pinned for the copy, so a free from another thread cannot release it meanwhile.
  BufferPool::PinnedBuffer buffer(BufferPool::Instance(), id);
  CheckRange(byteOffset, src.size, buffer.byteLength(), "write");
  if (src.size != 0) std::memcpy(buffer.data() + byteOffset, src.data, src.size);
  return info.Env().Undefined();
}

Napi::Value Read(const Napi::CallbackInfo& info) {
  const std::int64_t id = BufferIdArg(info[0], "id");
  const std::uint64_t byteOffset = ByteCountArg(info[1], "byteOffset");
  const ByteSpan dst = ArrayBufferViewArg(info[2], "dst");
  BufferPool::PinnedBuffer buffer(BufferPool::Instance(), id);
  CheckRange(byteOffset, dst.size, buffer.byteLength(), "read");
  if (dst.size != 0) std::memcpy(dst.data, buffer.data() + byteOffset, dst.size);
  return info.Env().Undefined();
}

Napi::Value MemoryStatsValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const MemoryStats s = BufferPool::Instance().Stats();
  Napi::Object out = Napi::Object::New(env);
  out.Set("activeBytes", Napi::Number::New(env, static_cast<double>(s.activeBytes)));
  out.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(s.cachedBytes)));
  out.Set("peakBytes", Napi::Number::New(env, static_cast<double>(s.peakBytes)));
  out.Set("activeBuffers", Napi::Number::New(env, static_cast<double>(s.activeBuffers)));
  out.Set("cachedBuffers", Napi::Number::New(env, static_cast<double>(s.cachedBuffers)));
  out.Set("cacheLimit", Napi::Number::New(env, LimitValue(s.cacheLimit)));
  out.Set("memoryLimit", Napi::Number::New(env, LimitValue(s.memoryLimit)));
  return out;
}

Napi::Value ClearCache(const Napi::CallbackInfo& info) {
  BufferPool::Instance().ClearCache();
  return info.Env().Undefined();
}

Napi::Value SetCacheLimit(const Napi::CallbackInfo& info) {
  BufferPool::Instance().SetCacheLimit(ByteLimitArg(info[0], "bytes"));
  return info.Env().Undefined();
}

Napi::Value SetMemoryLimit(const Napi::CallbackInfo& info) {
  BufferPool::Instance().SetMemoryLimit(ByteLimitArg(info[0], "bytes"));
  return info.Env().Undefined();
}

Napi::Value ResetPeak(const Napi::CallbackInfo& info) {
  BufferPool::Instance().ResetPeak();
  return info.Env().Undefined();
}

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  // Unexpected failures in pool functions are resource failures: report them as OOM.
  exports.Set(name, Napi::Function::New<Guarded<Fn, ErrorCode::kOom>>(env, name));
}

}  // namespace

void RegisterBufferApi(Napi::Env env, Napi::Object exports) {
  Export<Alloc>(env, exports, "alloc");
  Export<Free>(env, exports, "free");
  Export<AllocOwned>(env, exports, "allocOwned");
  Export<ReleaseOwned>(env, exports, "releaseOwned");
  Export<ExternalBytes>(env, exports, "externalBytes");
  Export<View>(env, exports, "view");
  Export<ByteLength>(env, exports, "byteLength");
  Export<Write>(env, exports, "write");
  Export<Read>(env, exports, "read");
  Export<MemoryStatsValue>(env, exports, "memoryStats");
  Export<ClearCache>(env, exports, "clearCache");
  Export<SetCacheLimit>(env, exports, "setCacheLimit");
  Export<SetMemoryLimit>(env, exports, "setMemoryLimit");
  Export<ResetPeak>(env, exports, "resetPeak");
}

}  // namespace ma
