import { defineConfig } from 'vitest/config';

// Only the project's own suites: a copy of the tree elsewhere under the root (a device
// staging folder, say) must not be collected.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
  },
});
