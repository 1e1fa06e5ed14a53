#include "js_errors.h"

namespace ma {

Napi::Error MakeJsError(Napi::Env env, ErrorCode code, const std::string& message) {
  // napi_create_error sets `code` itself, without running JS (property setters could),
  // so this also works while a worker's environment is shutting down.
  napi_value codeValue = nullptr;
  napi_value messageValue = nullptr;
  napi_value error = nullptr;
  if (napi_create_string_utf8(env, ErrorCodeName(code), NAPI_AUTO_LENGTH, &codeValue) != napi_ok ||
      napi_create_string_utf8(env, message.data(), message.size(), &messageValue) != napi_ok ||
      napi_create_error(env, codeValue, messageValue, &error) != napi_ok) {
    return Napi::Error::New(env);  // the pending exception (or a generic error) instead
  }
  return Napi::Error(env, error);
}

}  // namespace ma
