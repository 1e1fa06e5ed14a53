/**
 * Reductions nested in an enclosing reduction's kernel, where the inner one reads none of
 * its own loop variables (a reduction over a size-1 axis or a broadcast axis). Its body
 * lives in the enclosing loop, so the inner reduce must be emitted there too: it once
 * went before the loop and read a value never declared (`'v0' undeclared`) on every
 * renderer. Backward passes make this pattern (the gradient of a broadcast is a sum
 * over the broadcast axes, reduced again).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

const x = (): ma.MetalArray => ma.array([1, 2, 3], 'float32');
const x2 = (): ma.MetalArray =>
  ma.array(
    [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ],
    'float32',
  );

const cases: [string, () => ma.MetalArray, number][] = [
  ['sum(exp(max over a size-1 axis))', () => ma.sum(ma.exp(ma.max(ma.expandDims(x(), -1), 1))), Math.E + Math.exp(2) + Math.exp(3)],
  [
    'sum(m*m), m a sum over a size-1 axis',
    () => {
      const m = ma.sum(ma.expandDims(x(), -1), 1);
      return ma.sum(m.multiply(m));
    },
    14,
  ],
  [
    'sum(exp(sum over a broadcast axis))',
    () => ma.sum(ma.sum(ma.broadcastTo(ma.expandDims(x(), 0), [4, 3]), 0).exp()),
    Math.exp(4) + Math.exp(8) + Math.exp(12),
  ],
  [
    'a sum over a broadcast axis times a max, summed',
    () => ma.sum(ma.sum(ma.broadcastTo(ma.expandDims(x2(), 0), [2, 3, 4]), 0).multiply(ma.max(x2(), 0))),
    1668,
  ],
  ['mean over a size-1 axis inside a max over rows', () => ma.max(ma.mean(ma.expandDims(x2(), 1), 1).multiply(2), 1), Number.NaN],
];

describe('a reduction nested in another whose body reads none of its own loop variables', () => {
  for (const [name, build, expected] of cases) {
    it(`${name}: compiles on every renderer and gives the right value`, () => {
      const y = build();
      for (const backend of ['cuda', 'metal'] as const) expect(() => ma.kernelSources(y, backend)).not.toThrow();
      if (Number.isNaN(expected)) expect(Array.from(y.toTypedArray() as Float32Array)).toEqual([8, 16, 24]);
      else expect(Math.abs((y.item() as number) - expected) / expected).toBeLessThan(1e-6); // float32 sums
    });
  }

  it('fused and unfused evaluation agree', () => {
    for (const [, build] of cases) {
      const fused = Array.from(build().toTypedArray() as Float32Array);
      ma.setFusion(false);
      try {
        expect(Array.from(build().toTypedArray() as Float32Array)).toEqual(fused);
      } finally {
        ma.setFusion(true);
      }
    }
  });
});

describe('a generated kernel that fails to compile', () => {
  it('is reported as a bug in metalarray, with the graph that produced it', () => {
    // A compiler that answers --version but fails every build.
    const dir = mkdtempSync(join(tmpdir(), 'ma-badcc-'));
    try {
      const cc = join(dir, 'cc');
      writeFileSync(cc, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "badcc 1.0"; exit 0; fi\necho "badcc: refused" >&2\nexit 1\n');
      chmodSync(cc, 0o755);
      const script = join(dir, 'run.ts');
      writeFileSync(
        script,
        `import * as ma from ${JSON.stringify(join(process.cwd(), 'src/index.ts'))};
try { ma.array([1, 2, 3], 'float32').exp().sum().item(); console.log('NO ERROR'); }
catch (e) { console.log(e.name); console.log(e.message); console.log('SOURCE', typeof e.source === 'string' && e.source.length > 0); }`,
      );
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
        encoding: 'utf8',
        env: { ...process.env, CC: cc, METALARRAY_CACHE_DIR: join(dir, 'cache'), METALARRAY_BACKEND: 'cpu' },
        timeout: 60_000,
      });
      const out = r.stdout;
      expect(out).toContain('CompileError');
      expect(out).toContain('bug in metalarray');
      expect(out).toMatch(/graph \(post-order\):\n%0 = leaf float32\[3\]/);
      expect(out).toMatch(/reduce sum float32\[\]/);
      expect(out).toContain('badcc: refused');
      expect(out).toContain('SOURCE true');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
