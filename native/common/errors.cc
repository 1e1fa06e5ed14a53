#include "errors.h"

namespace ma {

const char* ErrorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kOom:
      return "ERR_MA_OOM";
    case ErrorCode::kBadBuffer:
      return "ERR_MA_BAD_BUFFER";
    case ErrorCode::kBadArgument:
      return "ERR_MA_BAD_ARGUMENT";
    case ErrorCode::kDlopen:
      return "ERR_MA_DLOPEN";
    case ErrorCode::kKernel:
      return "ERR_MA_KERNEL";
    case ErrorCode::kGpu:
      return "ERR_MA_GPU";
    case ErrorCode::kCompile:
      return "ERR_MA_COMPILE";
  }
  return "ERR_MA_BAD_ARGUMENT";  // unreachable; keeps -Wreturn-type quiet
}

void Fail(ErrorCode code, const std::string& message) { throw Error(code, message); }

}  // namespace ma
