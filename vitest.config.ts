import { defineConfig } from 'vitest/config';

// A GPU backend compiles each new kernel at run time (NVRTC, Metal's compiler: hundreds of
// milliseconds each), so tests that make many kernels need longer on it than on the cpu.
const gpuDefault = (process.env.METALARRAY_BACKEND ?? 'cpu') !== 'cpu';

// Only the project's own suites: a copy of the tree elsewhere under the root (a device
// staging folder, say) must not be collected. MA_SIMULATE_METAL_RENDER=1 makes the cpu
// backend refuse what the metal renderer refuses (test/support/simulate-metal-render.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: gpuDefault ? 60_000 : 5_000,
    // Tests check the code that runs in steady state, the -O3 build (no -O1 first build
    // whose loops are not vectorized). The tiered path has its own tests
    // (test/unit/tiered-compile.test.ts), which set the mode per child process.
    // METALARRAY_VALIDATE_IR: every kernel's IR is checked between lowering and rendering
    // (src/codegen/validate-ir.ts); production leaves it off.
    env: { METALARRAY_COMPILE: process.env.METALARRAY_COMPILE ?? 'full', METALARRAY_VALIDATE_IR: process.env.METALARRAY_VALIDATE_IR ?? '1' },
    setupFiles: [
      ...(process.env.MA_SIMULATE_METAL_RENDER === '1' ? ['test/support/simulate-metal-render.ts'] : []),
      // MA_COLLECT_CUDA=<dir>: every CUDA kernel the suites plan, for the NVRTC check (.ci/run).
      ...(process.env.MA_COLLECT_CUDA ? ['test/support/collect-cuda.ts'] : []),
    ],
  },
});
