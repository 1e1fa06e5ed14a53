// Runs a function inside @autoreleasepool and lets its C++ exception out only after the
// pool has been drained: an exception unwinding through @autoreleasepool skips the
// drain, which would leak every object autoreleased in the block.
#pragma once

#import <Foundation/Foundation.h>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace ma::metal {

template <typename F>
auto WithAutoreleasePool(F&& body) -> std::invoke_result_t<F&> {
  using Result = std::invoke_result_t<F&>;
  std::exception_ptr failure;
  if constexpr (std::is_void_v<Result>) {
    @autoreleasepool {
      try {
        body();
      } catch (...) {
        failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
  } else {
    std::optional<Result> result;
    @autoreleasepool {
      try {
        result.emplace(body());
      } catch (...) {
        failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
    return std::move(*result);
  }
}

}  // namespace ma::metal
