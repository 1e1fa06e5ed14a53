// Validation of JS arguments. Every helper throws ma::Error(kBadArgument) naming the
// argument on malformed input, so entry points never act on a half-checked value.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ma {

// A buffer id: any integer-valued number. Ids outside the pool's range are left to the
// pool to reject as unknown (ERR_MA_BAD_BUFFER), matching ids found in plans.
std::int64_t BufferIdArg(const Napi::Value& value, const char* what);

// A byte count or offset: an integer in [0, 2^53).
std::uint64_t ByteCountArg(const Napi::Value& value, const char* what);

// A limit in bytes: an integer >= 0, or Infinity meaning "no limit" (UINT64_MAX).
std::uint64_t ByteLimitArg(const Napi::Value& value, const char* what);

struct ByteSpan {
  std::uint8_t* data;
  std::size_t size;
};

// The bytes viewed by a TypedArray or DataView.
ByteSpan ArrayBufferViewArg(const Napi::Value& value, const char* what);

template <typename T>
struct TypedSpan {
  const T* data;
  std::size_t length;  // in elements
};

TypedSpan<std::int32_t> Int32ArrayArg(const Napi::Value& value, const char* what);
TypedSpan<std::int64_t> BigInt64ArrayArg(const Napi::Value& value, const char* what);

// A string without embedded NUL characters (they would silently truncate C APIs).
std::string CStringArg(const Napi::Value& value, const char* what);

Napi::Function FunctionArg(const Napi::Value& value, const char* what);

}  // namespace ma
