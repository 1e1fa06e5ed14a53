// RAII handle of a dlopen()ed shared object.
#pragma once

#include <string>
#include <utility>

namespace ma {

class SharedLibrary {
 public:
  // dlopen(path, RTLD_NOW | RTLD_LOCAL): every symbol is resolved up front so a broken
  // library fails here, not in the middle of a plan. Throws ERR_MA_DLOPEN.
  static SharedLibrary Open(const std::string& path);

  SharedLibrary(SharedLibrary&& other) noexcept : handle_(other.handle_), path_(std::move(other.path_)) {
    other.handle_ = nullptr;
  }
  SharedLibrary& operator=(SharedLibrary&&) = delete;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  // Closes the library unless KeepLoadedForever() was called.
  ~SharedLibrary();

  // Resolves a symbol; throws ERR_MA_DLOPEN if it is missing or null.
  void* Symbol(const std::string& name) const;

  // Gives up the handle without closing it: once kernels from the library are
  // published, any later plan may call them, so it stays loaded for the process life.
  void KeepLoadedForever() noexcept { handle_ = nullptr; }

 private:
  SharedLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  void* handle_;
  std::string path_;
};

}  // namespace ma
