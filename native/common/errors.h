// Typed errors of the native core. Core code (pool, plans, loader) throws ma::Error
// and knows nothing about N-API; js_errors.h turns it into a JS Error with `code`.
#pragma once

#include <stdexcept>
#include <string>

namespace ma {

// Mirrors NativeErrorCode in src/runtime/native.ts.
enum class ErrorCode {
  kOom,          // ERR_MA_OOM
  kBadBuffer,    // ERR_MA_BAD_BUFFER
  kBadArgument,  // ERR_MA_BAD_ARGUMENT
  kDlopen,       // ERR_MA_DLOPEN
  kKernel,       // ERR_MA_KERNEL
  kGpu,          // ERR_MA_GPU
  kCompile,      // ERR_MA_COMPILE
};

const char* ErrorCodeName(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// Throws ma::Error. Kept out of line so the cold string building stays off hot paths.
[[noreturn]] void Fail(ErrorCode code, const std::string& message);

}  // namespace ma
