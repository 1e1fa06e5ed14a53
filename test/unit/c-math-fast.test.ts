/**
 * The speculative fast sin/cos (valid for |x| <= MA_TRIG_FAST_MAX): accuracy over that
 * range, the flag that sends a row to the accurate functions, and, end to end, that
 * kernels give accurate results for arguments outside the fast range.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { C_PRELUDE } from '../../src/codegen/c-prelude.js';
import { findCompiler } from '../../src/runtime/cpu/compiler.js';

const HARNESS = `
#include <stdio.h>
static double ulps(float got, double want) {
  float w = (float)want;
  if (w == 0) return got == 0 ? 0 : 1e9;
  int e; frexp(w, &e);
  double u = ldexp(1.0, e - 24);
  if (u < 1.4e-45) u = 1.4e-45;
  return fabs((double)got - want) / u;
}
int main(void) {
  double worst = 0;
  for (uint32_t b = 0; b < 0x7f800000u; b += 97) {
    float x; memcpy(&x, &b, 4);
    if (!(x <= MA_TRIG_FAST_MAX)) break;
    for (int s = 0; s < 2; s++) {
      float y = s ? -x : x;
      double a = ulps(ma_sinf_fast(y), sin((double)y)), c = ulps(ma_cosf_fast(y), cos((double)y));
      if (a > worst) worst = a;
      if (c > worst) worst = c;
    }
  }
  float nz = ma_sinf_fast(-0.0f);
  printf("%f %d %d %d %d %d\\n", worst, signbit(nz) != 0, ma_trig_big(MA_TRIG_FAST_MAX), ma_trig_big(9000.0f), ma_trig_big(NAN), ma_trig_big(-INFINITY));
  return 0;
}
`;

describe('fast sin/cos', () => {
  const cc = findCompiler();
  it.runIf(cc !== null)(
    'stay within 2 ULP over their range, keep -0, and flag what they cannot take',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'ma-fast-'));
      try {
        writeFileSync(join(dir, 't.c'), `${C_PRELUDE}\n${HARNESS}`);
        const flags = (cc?.flags ?? []).filter((f) => f !== '-shared' && f !== '-fPIC');
        const build = spawnSync('cc', [...flags, '-o', join(dir, 't'), join(dir, 't.c'), '-lm'], { encoding: 'utf8' });
        expect(build.status, build.stderr).toBe(0);
        const out = spawnSync(join(dir, 't'), [], { encoding: 'utf8', timeout: 120_000 });
        const [worst, negZero, atMax, above, nan, inf] = out.stdout.trim().split(' ').map(Number);
        expect(worst).toBeLessThanOrEqual(2);
        expect([negZero, atMax, above, nan, inf]).toEqual([1, 0, 1, 1, 1]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );

  it('a kernel with sin gives accurate results for huge, NaN and infinite arguments too', () => {
    const xs = [0.5, -0.0, 8191.5, 1e5, 3e30, Number.NaN, Number.POSITIVE_INFINITY, -123456.789];
    // The C renderer's sin: on the cpu backend whatever the run's default backend.
    const got = ma.sin(ma.array(xs).to('cpu').multiply(1)).toTypedArray() as Float32Array;
    xs.forEach((x, i) => {
      const want = Math.sin(Math.fround(x));
      if (Number.isNaN(want)) expect(Number.isNaN(got[i])).toBe(true);
      else expect(Math.abs(got[i] - want)).toBeLessThanOrEqual(2 * 2 ** -24 * Math.max(Math.abs(want), 2 ** -126));
    });
    expect(Object.is(got[1], -0)).toBe(true);
  });
});
