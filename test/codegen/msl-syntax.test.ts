/**
 * Every kernel of the corpus (msl-corpus.ts: ops × dtypes × shape classes × kernel kinds,
 * and random property-test graphs), rendered as MSL, passes `clang -fsyntax-only
 * -Werror` under the shim header (test/codegen/msl/shim/metal_stdlib) with Metal's
 * address spaces mapped to clang address spaces. Controls show that the check rejects
 * mixing device, threadgroup and thread pointers, and an unknown Metal function.
 *
 * Flags: -Wno-unknown-attributes, because clang does not know Metal's [[buffer(n)]]
 * and position attributes (the macOS job compiles with Apple's compiler, which does);
 * -Wno-unused-variable, because the walker declares every output dim uniformly;
 * -Wno-tautological-compare, because an op of a value with itself (`maximum(x, x)`,
 * `x > x`) renders as a comparison of one SSA name with itself, which is correct.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MSL_PRELUDE } from '../../src/codegen/msl.js';
import { SHIM_DIR } from './msl/host-backend.js';
import { buildCorpus, type Corpus, type CorpusKernel } from './msl-corpus.js';
import { findClang, missingTools, requireMslCheck, runTool } from './toolchain.js';

const why = missingTools({ clang: true });
const dir = mkdtempSync(join(tmpdir(), 'metalarray-msl-syntax-'));
const FLAGS = [
  '-std=c++14',
  '-fsyntax-only',
  '-Wall',
  '-Werror',
  '-Wno-unknown-attributes',
  '-Wno-unused-variable',
  '-Wno-tautological-compare',
  '-DMSL_SHIM_ADDRESS_SPACES',
  `-I${SHIM_DIR}`,
];

function check(name: string, text: string): ReturnType<typeof runTool> {
  const file = join(dir, `${name}.metal`);
  writeFileSync(file, text);
  return runTool(findClang() as string, [...FLAGS, '-x', 'c++', file]);
}

/** The kernel that line `line` (1-based) of the checked file belongs to. */
function kernelAt(corpus: Corpus, starts: number[], line: number): string {
  let k = -1;
  for (let i = 0; i < starts.length && starts[i] <= line; i++) k = i;
  return k < 0 ? 'the prelude' : `${corpus.kernels[k].name} (${corpus.kernels[k].origin})`;
}

describe('every generated kernel is valid MSL for clang with Metal address spaces', () => {
  it.skipIf(why !== '' && !requireMslCheck)(`tools present${why ? ` (skipped: ${why})` : ''}`, () => {
    expect(why).toBe('');
  });

  const corpus = buildCorpus(300);

  it('the corpus covers every kernel kind and every Metal dtype, and refuses float64 with a DTypeError', () => {
    expect(corpus.failures).toEqual([]);
    const kinds = new Set(corpus.kernels.map((k) => k.kind));
    for (const kind of ['elementwise', 'reduce', 'scan', 'matmul', 'sort', 'scatter']) expect(kinds).toContain(kind);
    for (const d of ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'bfloat16', 'float32']) {
      expect(
        corpus.kernels.some((k) => k.origin.includes(`(${d},`)),
        d,
      ).toBe(true);
    }
    // Float matmuls take the SIMD-group matrix kernel, integer ones the scalar kernel.
    const matmuls = corpus.kernels.filter((k) => k.kind === 'matmul');
    expect(matmuls.some((k) => /\(float32,/.test(k.origin) && k.source.includes('simdgroup_multiply_accumulate('))).toBe(true);
    expect(matmuls.some((k) => /\(bfloat16,/.test(k.origin) && k.source.includes('simdgroup_multiply_accumulate('))).toBe(true);
    expect(matmuls.some((k) => /\(int32,/.test(k.origin) && !k.source.includes('simdgroup_'))).toBe(true);
    expect(corpus.refused.length).toBeGreaterThan(0);
    for (const r of corpus.refused) expect(r.message).toMatch(/^\S+.*: float64 is not supported by the metal backend/);
    expect(corpus.kernels.length).toBeGreaterThan(500);
  });

  it.skipIf(why !== '')('all kernels pass clang -fsyntax-only -Werror', { timeout: 600_000 }, () => {
    const preludeLines = MSL_PRELUDE.split('\n').length;
    const starts: number[] = [];
    let line = preludeLines + 1;
    const parts: string[] = [];
    for (const k of corpus.kernels) {
      starts.push(line);
      parts.push(k.source);
      line += k.source.split('\n').length + 1;
    }
    const r = check('corpus', `${MSL_PRELUDE}\n${parts.join('\n\n')}\n`);
    const errors = [...r.output.matchAll(/corpus\.metal:(\d+):\d+: error: (.*)/g)]
      .slice(0, 20)
      .map((m) => `${kernelAt(corpus, starts, Number(m[1]))}: ${m[2]}`);
    expect(errors).toEqual([]);
    expect(r.ok, r.output.slice(0, 4000)).toBe(true);
  });

  const kernel = corpus.kernels.find((k) => k.kind === 'reduce' && k.source.includes('MA_THREADGROUP'));
  const controls: Record<string, (src: string) => string> = {
    'a device pointer passed as a thread pointer': (src) =>
      `inline float ma_first(const float *p) { return p[0]; }\n${src.replace(/\{\n/, '{\n  (void)ma_first((device const float *)b0);\n')}`,
    'a threadgroup array stored into a device pointer': (src) => {
      const shared = /MA_THREADGROUP\((\w+), (\w+), \d+\);/.exec(src);
      if (!shared) throw new Error('control needs a threadgroup array');
      return src.replace(shared[0], `${shared[0]}\n  device ${shared[1]} *escape = ${shared[2]}; (void)escape;`);
    },
    'an unknown Metal function': (src) => src.replaceAll('ma_shfl_down(', 'simd_shufle_down('),
  };
  const matmul = corpus.kernels.find((k) => k.source.includes('simdgroup_multiply_accumulate('));
  const matmulControls: Record<string, (src: string) => string> = {
    'a simdgroup matrix loaded from thread memory': (src) =>
      src.replace('simdgroup_load(fa0, As', 'float ma_tile[64] = {}; simdgroup_load(fa0, ma_tile, 8); simdgroup_load(fa0, As'),
    'a simdgroup matrix of a shape Metal lacks (8×4)': (src) =>
      src.replace(
        'simdgroup_multiply_accumulate(acc00, fa0, fb0, acc00);',
        'simdgroup_matrix<float, 8, 4> ma_h; simdgroup_multiply_accumulate(acc00, fa0, ma_h, acc00);',
      ),
  };
  const all: [string, (src: string) => string, CorpusKernel | undefined][] = [
    ...Object.entries(controls).map(([l, f]): [string, (src: string) => string, CorpusKernel | undefined] => [l, f, kernel]),
    ...Object.entries(matmulControls).map(([l, f]): [string, (src: string) => string, CorpusKernel | undefined] => [l, f, matmul]),
  ];
  for (const [label, mutate, k] of all) {
    it.skipIf(why !== '')(`control: rejects ${label}`, () => {
      expect(k, 'a kernel of the corpus to mutate').toBeDefined();
      const good = check('control-good', `${MSL_PRELUDE}\n${k?.source}\n`);
      expect(good.ok, good.output).toBe(true);
      const mutated = mutate(k?.source as string);
      expect(mutated).not.toBe(k?.source);
      const bad = check('control-bad', `${MSL_PRELUDE}\n${mutated}\n`);
      expect(bad.ok).toBe(false);
      expect(bad.output).toMatch(/error:/);
    });
  }
});
