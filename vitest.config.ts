import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// A GPU backend compiles each new kernel at run time (NVRTC, Metal's compiler: hundreds of
// milliseconds each), so tests that make many kernels need longer on it than on the cpu.
const gpuDefault = (process.env.METALARRAY_BACKEND ?? 'cpu') !== 'cpu';

// Only the project's own suites: a copy of the tree elsewhere under the root (a device
// staging folder, say) must not be collected. MA_SIMULATE_METAL_RENDER=1 makes the cpu
// backend refuse what the metal renderer refuses (test/support/simulate-metal-render.ts).
// The files that take minutes (the property suites, the MSL host runs under each
// sanitizer) start first. Without a results cache (a fresh clone, as on CI) vitest runs
// the largest files first, which put the two MSL files last and left a core idle at the
// end; heavy files first brings two workers' finish times together (about 70 s less on
// CI's 2 cores, from the last CI's per-file times). Within a rank vitest's order stands.
const HEAVY_FIRST = [/\/test\/codegen\/msl-exec[^/]*\.test\.ts$/, /\/test\/property\//];

class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification): number => {
      const i = HEAVY_FIRST.findIndex((pattern) => pattern.test(file.moduleId));
      return i < 0 ? HEAVY_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A timeout catches a hang, not slowness (speed is measured in bench/): on the cpu a
    // test's first run compiles its kernels cold with gcc -O3, which takes seconds each on
    // a loaded 2-core machine running two test files at once.
    testTimeout: gpuDefault ? 60_000 : 30_000,
    // One test file per core, all of them: most of a file's time is a compiler child
    // process (gcc, clang) or single-threaded JavaScript, so on CI's 2 cores two files
    // at once take about half the time (vitest's default leaves one core idle). Files
    // run in separate processes, so memory checks (RSS, active bytes) stay per file.
    maxWorkers: Math.max(2, availableParallelism()),
    sequence: { sequencer: HeavyFirstSequencer },
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
