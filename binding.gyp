{
  "targets": [
    {
      "target_name": "metalarray",
      # node-addon-api headers, with C++ exceptions. Not the `node_addon_api_except`
      # dependency target: its except.gypi is merged over this target's settings and
      # would force MACOSX_DEPLOYMENT_TARGET to 10.7 (checked with `gyp -f gypd`).
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        # Node-API's experimental level: "basic" finalizers run inside the garbage
        # collection that finds their object unreachable (native/common/buffer_handle.h),
        # not on a later tick. Node 20.10+ and 22 have them.
        "NAPI_EXPERIMENTAL",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        # A worker_thread being terminated cannot take a JS exception; without this,
        # node-addon-api turns the failed throw into std::terminate (process crash).
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      # Every .cc under native/common and native/cpu; keep this list in step with them.
      "sources": [
        "native/common/addon.cc",
        "native/common/buffer_api.cc",
        "native/common/buffer_handle.cc",
        "native/common/buffer_pool.cc",
        "native/common/env_state.cc",
        "native/common/errors.cc",
        "native/common/js_args.cc",
        "native/common/js_errors.cc",
        "native/cpu/blas.cc",
        "native/cpu/kernel_api.cc",
        "native/cpu/kernel_registry.cc",
        "native/cpu/lapack.cc",
        "native/cpu/plan.cc",
        "native/cpu/plan_api.cc",
        "native/cpu/shared_library.cc",
        "native/cpu/thread_pool.cc"
      ],
      "conditions": [
        ["OS=='linux'", {
          # node's common.gypi adds -O3 and -std=gnu++17 for Release; replace them.
          "cflags!": ["-O3", "-fno-exceptions"],
          "cflags_cc!": ["-std=gnu++17", "-fno-exceptions"],
          "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
          "cflags_cc": ["-std=c++20", "-fexceptions"],
          "libraries": ["-ldl", "-pthread"],
          "ldflags": ["-pthread"],
          # The CUDA runtime: libcuda and NVRTC are dlopen()ed at run time, so this
          # builds (and the addon loads) on machines without CUDA.
          "sources": [
            "native/cuda/cuda_api.cc",
            "native/cuda/cuda_driver.cc",
            "native/cuda/cuda_runtime.cc",
            "native/cuda/cuda_graph.cc",
            "native/cuda/nvrtc_compile.cc",
            # ma.distributed: Open MPI and NCCL, dlopen()ed at first use.
            "native/cpu/mpi_api.cc",
            "native/cuda/nccl_api.cc"
          ]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
            "CLANG_CXX_LIBRARY": "libc++",
            "MACOSX_DEPLOYMENT_TARGET": "11.0",
            "GCC_OPTIMIZATION_LEVEL": "2",
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
            "WARNING_CFLAGS": ["-Wall", "-Wextra", "-Wno-unused-parameter"]
          }
        }],
        # The Metal backend: Objective-C++ with ARC, macOS 14+ (MSL 3.1 for bfloat).
        ["OS=='mac'", {
          "sources": [
            "native/metal/metal_api.mm",
            "native/metal/metal_runtime.mm"
          ],
          "defines": ["METALARRAY_WITH_METAL"],
          "xcode_settings": {
            "CLANG_ENABLE_OBJC_ARC": "YES",
            "MACOSX_DEPLOYMENT_TARGET": "14.0"
          },
          "link_settings": {
            # CoreGraphics: MTLCreateSystemDefaultDevice needs it in non-GUI processes.
            "libraries": ["-framework Metal", "-framework Foundation", "-framework CoreGraphics"]
          }
        }]
      ]
    }
  ]
}
