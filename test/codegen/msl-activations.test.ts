/**
 * Accuracy of the MSL prelude's float sigmoid, silu, gelu and logaddexp (src/codegen/msl.ts:
 * Metal has no double, so these are float code of their own), compiled as C++ against the
 * execution shim (test/codegen/msl/shim; the host libm stands in for `metal::precise::exp`)
 * and swept over every 257th float bit pattern plus every 5th pattern of [-15, -0.5], where
 * gelu's tail is, against double-precision references. Bounds in float ulps, RELATIVE to the
 * value everywhere (subnormal results in ulps of 2^-149): gelu 4 (measured 3.55), sigmoid and
 * silu 3 (2.0 and 2.6 with the host's exp; Apple's precise exp adds its own error),
 * logaddexp(x, x) 1 (x + ln2 with ln2 split, so the cancellation at -ln2 is exact).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MSL_PRELUDE } from '../../src/codegen/msl.js';
import { SHIM_DIR } from './msl/host-backend.js';
import { findClang, missingTools, requireMslCheck } from './toolchain.js';

const HARNESS = String.raw`
#include <cstdio>
#include <cmath>
#include <cstring>
#include <cstdlib>
/* Error of got in float ulps at the exact value ref; a NaN, Inf or signed-zero mismatch is 1e9. */
static double ulp_err(float got, double ref) {
  if (std::isnan(ref)) return std::isnan(got) ? 0 : 1e9;
  if (std::isnan(got)) return 1e9;
  if (std::isinf(ref) || std::isinf(got)) return (double)got == ref || (float)ref == got ? 0 : 1e9;
  if (got == 0 && ref == 0) return std::signbit(got) == std::signbit(ref) ? 0 : 1e9;
  double a = std::fabs(ref), u;
  if (a < 0x1p-126) u = 0x1p-149; else { int e; std::frexp(a, &e); u = std::ldexp(1.0, e - 24); }
  return std::fabs((double)got - ref) / u;
}
static double ref_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }
static double ref_silu(double x) { return std::isinf(x) && x < 0 ? NAN : x * ref_sigmoid(x); }
static double ref_gelu(double x) { return std::isinf(x) && x < 0 ? NAN : 0.5 * x * std::erfc(-x * 0.70710678118654752440); }
struct Worst { double ulps = 0; float at = 0; float got = 0; double want = 0; };
static void track(Worst &w, float x, float got, double want) {
  double e = ulp_err(got, want);
  if (e > w.ulps) { w.ulps = e; w.at = x; w.got = got; w.want = want; }
}
static void print(const char *name, const Worst &w, bool last) {
  std::printf("\"%s\":{\"ulps\":%.4f,\"at\":\"%a\",\"got\":\"%a\",\"want\":\"%a\"}%s", name, w.ulps, (double)w.at, (double)w.got, w.want, last ? "" : ",");
}
static void one(float x, Worst *w) {
  double xd = x;
  track(w[0], x, ma_gelu_f(x), ref_gelu(xd));
  track(w[1], x, ma_sigmoid_f(x), ref_sigmoid(xd));
  track(w[2], x, ma_silu_f(x), ref_silu(xd));
  /* logaddexp(x, x) = x + ln2 exactly rounded once (x is a float: the double sum is exact to 2^-50). */
  track(w[3], x, ma_logaddexp(x, x), xd + 0.69314718055994530942);
}
int main() {
  Worst w[4];
  for (uint64_t b = 0; b < (1ull << 32); b += 257) { uint32_t u = (uint32_t)b; float x; std::memcpy(&x, &u, 4); one(x, w); }
  for (uint32_t b = 0xbf000000u; b < 0xc1700000u; b += 5) { float x; std::memcpy(&x, &b, 4); one(x, w); }
  const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 0x1p-149f, -0x1p-149f, -88.7f, -89.0f, -100.0f, -13.2f, -14.4f, -20.0f, 20.0f};
  for (float x : specials) one(x, w);
  std::printf("{");
  print("gelu", w[0], false); print("sigmoid", w[1], false); print("silu", w[2], false); print("logaddexp", w[3], true);
  std::printf("}\n");
}
`;

const why = missingTools({ clang: true });
const workDir = mkdtempSync(join(tmpdir(), 'metalarray-msl-act-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

interface Worst {
  ulps: number;
  at: string;
  got: string;
  want: string;
}

const BOUNDS: Record<string, number> = { gelu: 4, sigmoid: 3, silu: 3, logaddexp: 1 };

describe('MSL prelude: sigmoid, silu, gelu and logaddexp are accurate relative to the value, tails included', () => {
  it.skipIf(why !== '' && !requireMslCheck)(`tools present${why ? ` (skipped: ${why})` : ''}`, () => {
    expect(why).toBe('');
  });

  it.skipIf(why !== '')('swept against double references', { timeout: 300_000 }, () => {
    const cpp = join(workDir, 'activations.cpp');
    const exe = join(workDir, 'activations');
    writeFileSync(cpp, `${MSL_PRELUDE}\n${HARNESS}`);
    const build = spawnSync(findClang() as string, ['-std=c++20', '-O2', '-Wno-unknown-attributes', `-I${SHIM_DIR}`, '-x', 'c++', cpp, '-o', exe], {
      encoding: 'utf8',
    });
    expect(build.status, build.stderr).toBe(0);
    const r = spawnSync(exe, [], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, Worst>;
    for (const [fn, bound] of Object.entries(BOUNDS)) {
      const w = result[fn];
      expect(w, `no result for ${fn}`).toBeDefined();
      expect(w.ulps, `${fn}: ${w.ulps} ulp at x = ${w.at} (got ${w.got}, exact ${w.want})`).toBeLessThanOrEqual(bound);
    }
  });
});
