// Conversion of native failures into JS Errors carrying a `code` property.
#pragma once

#include <napi.h>

#include <exception>
#include <new>
#include <string>

#include "errors.h"

namespace ma {

// A JS Error with `message` and `code` set to ErrorCodeName(code).
Napi::Error MakeJsError(Napi::Env env, ErrorCode code, const std::string& message);

// Wraps an addon entry point so no C++ exception other than Napi::Error (which
// node-addon-api rethrows into JS) can escape into N-API: escaping exceptions would
// terminate the process. ma::Error keeps its code; anything unexpected gets the
// entry point's `Fallback` code so callers still see a typed error.
template <Napi::Value (*Fn)(const Napi::CallbackInfo&), ErrorCode Fallback>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return Fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw MakeJsError(info.Env(), e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw MakeJsError(info.Env(), ErrorCode::kOom, "out of host memory");
  } catch (const std::exception& e) {
    throw MakeJsError(info.Env(), Fallback, std::string("internal error: ") + e.what());
  } catch (...) {
    throw MakeJsError(info.Env(), Fallback, "internal error: unknown exception");
  }
}

}  // namespace ma
