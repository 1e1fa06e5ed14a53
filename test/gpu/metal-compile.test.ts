/**
 * On macOS, Apple's own compiler checks the whole MSL corpus (test/codegen/msl-corpus.ts):
 * `xcrun -sdk macosx metal -std=metal3.1` with warnings as errors (the same two
 * relaxations as the Linux syntax check). This is the check Linux cannot make: Apple's
 * attribute, address-space and version rules. Skips with the reason elsewhere; under
 * REQUIRE_METAL=1 (the macOS CI job) a skip is a failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MSL_PRELUDE } from '../../src/codegen/msl.js';
import { buildCorpus } from '../codegen/msl-corpus.js';

const xcrun = process.platform === 'darwin' && spawnSync('xcrun', ['-sdk', 'macosx', '--find', 'metal'], { encoding: 'utf8' }).status === 0;
const requireMetal = process.env.REQUIRE_METAL === '1';

describe("Apple's Metal compiler accepts every generated kernel", () => {
  it.skipIf(!xcrun && !requireMetal)(`xcrun metal is present${xcrun ? '' : ' (skipped: needs macOS with Xcode)'}`, () => {
    expect(xcrun).toBe(true);
  });

  it.skipIf(!xcrun)('xcrun metal -c over the corpus', { timeout: 900_000 }, () => {
    const corpus = buildCorpus(300);
    const dir = mkdtempSync(join(tmpdir(), 'metalarray-xcrun-'));
    const file = join(dir, 'corpus.metal');
    writeFileSync(file, `${MSL_PRELUDE}\n${corpus.kernels.map((k) => k.source).join('\n\n')}\n`);
    const r = spawnSync(
      'xcrun',
      ['-sdk', 'macosx', 'metal', '-std=metal3.1', '-Werror', '-Wno-unused-variable', '-Wno-tautological-compare', '-c', file, '-o', join(dir, 'corpus.air')],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    expect(r.stderr.slice(0, 8000)).toBe('');
    expect(r.status).toBe(0);
  });
});
