/**
 * Workload l: the native core's fixed cost per plan, timed on the addon directly (moved
 * here from test/unit/native.test.ts: tests do not time things). A one-kernel plan whose
 * kernel bumps a counter is run in batches; each sample is a batch's time per call.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNative } from '../dist/runtime/native.js';

/** Per-call times of `runPlan` for a tiny one-kernel plan, in milliseconds, one per batch. */
export function runPlanOverheadSamples(batches = 30, callsPerBatch = 10_000): number[] {
  const addon = loadNative();
  if (!addon) throw new Error('runplan: the native addon did not load (npm run build)');
  const dir = mkdtempSync(join(tmpdir(), 'metalarray-bench-runplan-'));
  try {
    const source = join(dir, 'bump.c');
    const lib = join(dir, 'bump.so');
    writeFileSync(source, '#include <stdint.h>\nvoid ma_bump(void *const *bufs, const int64_t *args, int64_t start, int64_t end) { ++*(int64_t *)bufs[0]; }\n');
    execFileSync('cc', ['-O2', '-shared', '-fPIC', '-o', lib, source]);
    const [bump] = addon.loadKernels(lib, ['ma_bump']);
    const counter = addon.alloc(8);
    try {
      addon.write(counter, 0, new BigInt64Array(1)); // pool memory is not zeroed
      const commands = new Int32Array([bump, 0, 1, counter]);
      const args = new BigInt64Array([1n, 1n]);
      for (let i = 0; i < callsPerBatch; i++) addon.runPlan(commands, args); // warm up
      const samples: number[] = [];
      for (let b = 0; b < batches; b++) {
        const start = process.hrtime.bigint();
        for (let i = 0; i < callsPerBatch; i++) addon.runPlan(commands, args);
        samples.push(Number(process.hrtime.bigint() - start) / 1e6 / callsPerBatch);
      }
      // Every call ran the kernel once.
      const count = new BigInt64Array(1);
      addon.read(counter, 0, count);
      const expected = BigInt(callsPerBatch * (batches + 1));
      if (count[0] !== expected) throw new Error(`runplan: the kernel ran ${count[0]} times, expected ${expected}`);
      return samples;
    } finally {
      addon.free(counter);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
