#include "shared_library.h"

#include <dlfcn.h>

#include "../common/errors.h"

namespace ma {
namespace {

std::string LastDlError() {
  const char* why = dlerror();
  return why != nullptr ? why : "unknown error";
}

}  // namespace

// dlerror() state is per thread on glibc and macOS; callers also serialize loads
// (KernelRegistry), so the message read here belongs to the call just made.
SharedLibrary SharedLibrary::Open(const std::string& path) {
  dlerror();  // clear a stale message
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    Fail(ErrorCode::kDlopen, "dlopen(\"" + path + "\") failed: " + LastDlError());
  }
  return SharedLibrary(handle, path);
}

SharedLibrary::~SharedLibrary() {
  // Only reached for libraries none of whose kernels were published (a load that
  // failed part-way), so nothing can be running code from them.
  if (handle_ != nullptr) dlclose(handle_);
}

void* SharedLibrary::Symbol(const std::string& name) const {
  dlerror();
  void* symbol = dlsym(handle_, name.c_str());
  if (symbol == nullptr) {
    // A null symbol without a dlerror() message exists (e.g. an absolute symbol at 0)
    // but is no callable kernel either.
    const char* why = dlerror();
    Fail(ErrorCode::kDlopen, "dlsym(\"" + name + "\") in \"" + path_ + "\" failed: " +
                                 (why != nullptr ? why : "the symbol is null"));
  }
  return symbol;
}

}  // namespace ma
