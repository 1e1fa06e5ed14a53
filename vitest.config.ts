import { defineConfig } from 'vitest/config';

// Only the project's own suites: a copy of the tree elsewhere under the root (a device
// staging folder, say) must not be collected. MA_SIMULATE_METAL_RENDER=1 makes the cpu
// backend refuse what the metal renderer refuses (test/support/simulate-metal-render.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: process.env.MA_SIMULATE_METAL_RENDER === '1' ? ['test/support/simulate-metal-render.ts'] : [],
  },
});
