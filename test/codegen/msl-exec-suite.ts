/**
 * The oracle cases of msl-cases.ts run on the host execution shim under one sanitizer.
 * Each sanitizer's run is its own test file (msl-exec.test.ts: ThreadSanitizer, with the
 * controls; msl-exec-address.test.ts: AddressSanitizer and UBSan), so the two, each
 * minutes of clang builds, run side by side on two cores.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execute } from '../../src/engine/executor.js';
import * as R from '../reference/index.js';
import { CASES, expectClose, flat } from './msl-cases.js';
import { HostMslBackend } from './msl/host-backend.js';
import { findClang, missingTools, requireMslCheck } from './toolchain.js';

/** The sanitizers the host shim builds with, by option value. */
export const SANITIZERS = { thread: 'ThreadSanitizer', address: 'AddressSanitizer and UBSan' } as const;

/** Defines the suite that runs every case of msl-cases.ts on the shim under `sanitizer`. */
export function describeCasesOnHost(sanitizer: keyof typeof SANITIZERS): void {
  const why = missingTools({ clang: true });
  const label = SANITIZERS[sanitizer];
  describe(`generated MSL runs on the host execution shim under ${label} and matches the oracle`, () => {
    it.skipIf(why !== '' && !requireMslCheck)(`tools present${why ? ` (skipped: ${why})` : ''}`, () => {
      expect(why).toBe('');
    });
    const workDir = mkdtempSync(join(tmpdir(), `metalarray-msl-exec-${sanitizer}-`));
    const host = why === '' ? new HostMslBackend({ clang: findClang() as string, workDir, sanitizer, label: sanitizer }) : undefined;

    for (const c of CASES) {
      it.skipIf(!host)(c.name, { timeout: 300_000 }, () => {
        const backend = host as HostMslBackend;
        const { lib, ref } = c.run();
        const before = backend.launches.length;
        execute([lib.liveNode('test')], backend, { fusion: true, cpuMatmul: 'generated' });
        const launched = backend.launches.slice(before);
        const ran = launched.map((l) => l.strategy);
        if (c.source) expect(launched.some((l) => c.source?.test(l.source))).toBe(true);
        // The SIMD-group matmul's launch: 4 SIMD groups per 64×64 tile (gpu.ts SG).
        for (const l of launched) if (l.source.includes('simdgroup_multiply_accumulate(')) expect(l.group).toEqual([128, 1, 1]);
        if (c.grid) expect(launched.map((l) => l.grid)).toContainEqual(c.grid);
        for (const s of c.strategies) expect(ran, `strategies launched: ${ran.join(', ')}`).toContain(s);
        expect(lib.dtype).toBe(ref.dtype);
        expect(lib.shape).toEqual([...ref.nd.shape]);
        expectClose(flat(lib.tolist()), R.toFlat(ref), c.tol ?? 0, c.name);
      });
    }
  });
}
