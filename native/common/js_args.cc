#include "js_args.h"

#include <cmath>
#include <cstring>

#include "errors.h"

namespace ma {
namespace {

constexpr double kTwoPow53 = 9007199254740992.0;
constexpr double kTwoPow64 = 18446744073709551616.0;

[[noreturn]] void BadArgument(const char* what, const char* expectation) {
  Fail(ErrorCode::kBadArgument, std::string(what) + " must be " + expectation);
}

// Raw N-API keeps these checks cheap: a failed napi_get_value_double or
// napi_get_typedarray_info only reports a status, it sets no pending JS exception.
double NumberOrThrow(const Napi::Value& value, const char* what, const char* expectation) {
  double d = 0;
  if (napi_get_value_double(value.Env(), value, &d) != napi_ok) BadArgument(what, expectation);
  return d;
}

bool ElementSize(napi_typedarray_type type, std::size_t* size) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      *size = 1;
      return true;
    case napi_int16_array:
    case napi_uint16_array:
      *size = 2;
      return true;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      *size = 4;
      return true;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      *size = 8;
      return true;
    default:  // element types newer than this build (e.g. Float16Array)
      return false;
  }
}

struct TypedArrayInfo {
  napi_typedarray_type type;
  std::size_t length;
  void* data;
};

bool GetTypedArray(const Napi::Value& value, TypedArrayInfo* info) {
  napi_value arrayBuffer = nullptr;
  std::size_t byteOffset = 0;
  return napi_get_typedarray_info(value.Env(), value, &info->type, &info->length, &info->data,
                                  &arrayBuffer, &byteOffset) == napi_ok;
}

}  // namespace

std::int64_t BufferIdArg(const Napi::Value& value, const char* what) {
  const double d = NumberOrThrow(value, what, "an integer buffer id");
  if (!(std::trunc(d) == d) || std::fabs(d) >= kTwoPow53) BadArgument(what, "an integer buffer id");
  return static_cast<std::int64_t>(d);
}

std::uint64_t ByteCountArg(const Napi::Value& value, const char* what) {
  const double d = NumberOrThrow(value, what, "an integer in [0, 2^53)");
  if (!(d >= 0 && d < kTwoPow53 && std::trunc(d) == d)) BadArgument(what, "an integer in [0, 2^53)");
  return static_cast<std::uint64_t>(d);
}

std::uint64_t ByteLimitArg(const Napi::Value& value, const char* what) {
  const double d = NumberOrThrow(value, what, "a non-negative integer or Infinity");
  if (d == INFINITY) return UINT64_MAX;
  if (!(d >= 0 && std::trunc(d) == d)) BadArgument(what, "a non-negative integer or Infinity");
  return d >= kTwoPow64 ? UINT64_MAX : static_cast<std::uint64_t>(d);
}

ByteSpan ArrayBufferViewArg(const Napi::Value& value, const char* what) {
  TypedArrayInfo info{};
  if (GetTypedArray(value, &info)) {
    std::size_t elementSize = 0;
    if (!ElementSize(info.type, &elementSize)) BadArgument(what, "a TypedArray of a supported type or a DataView");
    return {static_cast<std::uint8_t*>(info.data), info.length * elementSize};
  }
  std::size_t byteLength = 0;
  void* data = nullptr;
  napi_value arrayBuffer = nullptr;
  std::size_t byteOffset = 0;
  if (napi_get_dataview_info(value.Env(), value, &byteLength, &data, &arrayBuffer, &byteOffset) == napi_ok) {
    return {static_cast<std::uint8_t*>(data), byteLength};
  }
  BadArgument(what, "a TypedArray or DataView");
}

TypedSpan<std::int32_t> Int32ArrayArg(const Napi::Value& value, const char* what) {
  TypedArrayInfo info{};
  if (!GetTypedArray(value, &info) || info.type != napi_int32_array) BadArgument(what, "an Int32Array");
  return {static_cast<const std::int32_t*>(info.data), info.length};
}

TypedSpan<std::int64_t> BigInt64ArrayArg(const Napi::Value& value, const char* what) {
  TypedArrayInfo info{};
  if (!GetTypedArray(value, &info) || info.type != napi_bigint64_array) BadArgument(what, "a BigInt64Array");
  // Kernels read the block as int64_t*; V8 backing stores are 8-byte aligned and a
  // BigInt64Array's byteOffset is a multiple of 8, so this only guards the contract.
  if (info.length != 0 && reinterpret_cast<std::uintptr_t>(info.data) % alignof(std::int64_t) != 0) {
    BadArgument(what, "8-byte aligned");
  }
  return {static_cast<const std::int64_t*>(info.data), info.length};
}

std::string CStringArg(const Napi::Value& value, const char* what) {
  if (!value.IsString()) BadArgument(what, "a string");
  std::string s = value.As<Napi::String>().Utf8Value();
  if (s.empty() || std::memchr(s.data(), '\0', s.size()) != nullptr) {
    BadArgument(what, "a non-empty string without NUL characters");
  }
  return s;
}

Napi::Function FunctionArg(const Napi::Value& value, const char* what) {
  if (!value.IsFunction()) BadArgument(what, "a function");
  return value.As<Napi::Function>();
}

}  // namespace ma
