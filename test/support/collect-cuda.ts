/**
 * Collects the CUDA kernels the suites generate, for the compile-only NVRTC check
 * (scripts/check-cuda-kernels.ts, run by .ci/run after the suite). With
 * MA_COLLECT_CUDA=<dir> vitest.config.ts loads this file; every plan the cpu backend
 * builds is also planned for CUDA in both of its dialects, exactly as a GPU machine
 * would plan it (the CUDA kernel-size limit, no library products), and each unique
 * kernel is written to <dir>/<arch>/<kernel name>.cu. The kernel name is a hash of the
 * source, so a file that exists is the same kernel and is not written again.
 *
 * A graph the CUDA renderer refuses (an op or dtype it has no kernel for) is recorded in
 * <dir>/refused/ with the reason; the check reports those, it does not compile them.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planSourcesFor, setPlanObserver } from '../../src/engine/executor.js';
import { CUDA_TARGETS, CudaPlanner } from './cuda-planner.js';

/** Writes `text` to `path` unless it exists, atomically (workers write in parallel). */
function writeOnce(path: string, text: string): void {
  if (existsSync(path)) return;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const root = process.env.MA_COLLECT_CUDA;
if (root) {
  const planners = CUDA_TARGETS.map((t) => {
    mkdirSync(join(root, t.arch), { recursive: true });
    return { arch: t.arch, planner: new CudaPlanner(t.dialect) };
  });
  mkdirSync(join(root, 'refused'), { recursive: true });
  setPlanObserver((nodes, outputs, backend, opts) => {
    if (backend.name !== 'cpu') return;
    for (const { arch, planner } of planners) {
      let sources: ReturnType<typeof planSourcesFor>;
      try {
        sources = planSourcesFor(nodes, outputs, planner, opts);
      } catch (err) {
        const message = `${(err as Error).name}: ${(err as Error).message}`;
        const key = createHash('sha256').update(message).digest('hex').slice(0, 16);
        writeOnce(join(root, 'refused', `${arch}-${key}.txt`), `${message}\n`);
        continue;
      }
      for (const k of sources) writeOnce(join(root, arch, `${k.name}.cu`), k.source);
    }
  });
}
