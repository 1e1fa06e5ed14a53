// Buffers owned by JS values the garbage collector can see.
//
// A handle is a Node-API external value holding one pool buffer. Its finalizer is a
// "basic" finalizer (NAPI_EXPERIMENTAL, binding.gyp): Node runs it inside the garbage
// collection that finds the handle unreachable, so a synchronous JS loop that drops
// arrays without disposing them gets their memory back during its own GCs, not on a
// later turn of the event loop. A finalizer must not call into JS: it only returns the
// buffer to its (mutex-guarded, process-wide) pool and credits V8's external memory.
//
// Every handle's bytes are reported to V8 (napi_adjust_external_memory) while it holds
// them, so native memory makes V8 collect. An explicit release (dispose, tidy, the
// executor freeing an intermediate) frees at once and marks the handle released, so
// the finalizer that runs later does nothing: no double free.
#pragma once

#include <napi.h>

#include <cstdint>

namespace ma {

// The pool a handle's buffer came from.
enum class HandlePool : std::uint8_t { kHost, kCuda };

// Wraps buffer `id` of `pool` (already allocated, `classBytes` accounted) in a new
// handle and reports the bytes to V8. On failure the buffer is freed and this throws.
Napi::Value MakeBufferHandle(Napi::Env env, HandlePool pool, std::int64_t id, std::uint64_t classBytes);

// Frees the buffer of handle `value` unless it was released already; throws
// ERR_MA_BAD_ARGUMENT if `value` is not a handle.
void ReleaseBufferHandle(Napi::Env env, const Napi::Value& value);

// How a device pool frees a buffer from a finalizer: never throws, false for an
// unknown id. Set once by the device's API file when it registers.
using DeviceFreeFn = bool (*)(std::int64_t id) noexcept;
void SetCudaHandleFree(DeviceFreeFn fn);

// Bytes this environment has reported to V8 for live handles.
std::int64_t ReportedHandleBytes(Napi::Env env);

}  // namespace ma
