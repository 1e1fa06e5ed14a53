/**
 * Constant folding cannot change a Metal result: for every float op of the GPU op
 * table (and so every math function of the MSL prelude and of Metal's library the
 * kernels call), the op's MSL — exactly as the metal backend renders it — is evaluated
 * on the host shim (test/codegen/msl/shim) twice per argument: once with the argument a
 * literal, as in a fused kernel where it became a constant, and once loaded at run time,
 * as in the unfused kernel that reads it from a buffer. Built at -O2, where clang folds
 * libm calls of constants (in double, then rounded, unlike the float functions it calls
 * at run time), the two must give identical bits (any NaN equals any NaN).
 *
 * The prelude's wrappers (ma_opaque: the argument read through a volatile) are what
 * keeps them equal; the control builds the same program with the volatile removed and
 * must see the folded and run-time bits differ, so the check is shown to bite. On the
 * GPU the same wrappers stop Metal's compiler; Metal's own folding is only observable on
 * a Mac (the property suites' fused-versus-unfused test under `npm run test:metal`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { MSL_PRELUDE } from '../../src/codegen/msl.js';
import { GPU_OPS } from '../../src/codegen/op-expressions.js';
import { BINARY_METHOD, UNARY_METHOD } from '../property/lib-eval.js';
import type { BinaryOp, UnaryOp } from '../reference/index.js';
import { SHIM_DIR } from './msl/host-backend.js';
import { findClang, missingTools, requireMslCheck } from './toolchain.js';

const why = missingTools({ clang: true });
const workDir = mkdtempSync(join(tmpdir(), 'metalarray-msl-fold-'));
const VALUES_PER_OP = 40;

/** One op's float32 computation as the metal backend renders it: statements over the loaded values v0 (and v1). */
interface OpBody {
  op: string;
  arity: 1 | 2;
  /** Names of the loaded values, in load order. */
  loads: string[];
  statements: string[];
  result: string;
}

/** The scalar tail of an elementwise kernel: loads, the op's statements, the store. */
function opBody(op: string, arity: 1 | 2, source: string): OpBody | undefined {
  const tail = source.lastIndexOf('for (int e = 0; e < 4 && base + e < N; e++) {');
  if (tail < 0) return undefined;
  const lines = source
    .slice(tail)
    .split('\n')
    .slice(1)
    .map((l) => l.trim());
  const loads: string[] = [];
  const statements: string[] = [];
  for (const line of lines) {
    const store = /^b0\[base \+ e\] = (v\d+);$/.exec(line);
    if (store) return { op, arity, loads, statements, result: store[1] };
    const load = /^const float (v\d+) = b\d+\[.*\];$/.exec(line);
    if (load) loads.push(load[1]);
    else if (/^const float v\d+ = /.test(line)) statements.push(line);
    else if (!/^(int64_t t_ = base \+ e;|const int64_t j = t_;)$/.test(line)) return undefined;
  }
  return undefined;
}

/** Every float32 unary and binary op of the library, rendered for Metal. */
function renderedOps(): OpBody[] {
  const x = ma.array(new Float32Array([0.5, 1.5, 2.5, 3.5, 4.5]));
  const y = ma.array(new Float32Array([1.25, 2.25, 3.25, 4.25, 5.25]));
  const out: OpBody[] = [];
  const take = (op: string, arity: 1 | 2, make: () => ma.MetalArray): void => {
    let r: ma.MetalArray;
    try {
      r = make();
    } catch {
      return; // not defined for float32 (bitwise ops, shifts)
    }
    if (r.dtype !== 'float32') return; // comparisons and predicates: no math function
    const sources = ma.kernelSources(r, 'metal');
    expect(sources.length, op).toBe(1);
    const body = opBody(op, arity, sources[0].source);
    expect(body, `${op}: the rendered kernel has the elementwise scalar tail`).toBeDefined();
    out.push(body as OpBody);
  };
  for (const op of Object.keys(UNARY_METHOD) as UnaryOp[]) take(op, 1, () => UNARY_METHOD[op](x));
  for (const op of Object.keys(BINARY_METHOD) as BinaryOp[]) take(op, 2, () => BINARY_METHOD[op](x, y));
  return out;
}

/** A float32 as a C hexadecimal literal (or the expression of a non-finite value). */
function floatLiteral(bits: number): string {
  const f = new Float32Array(new Uint32Array([bits]).buffer)[0];
  if (Number.isNaN(f)) return `as_type<float>(0x${bits.toString(16)}u)`;
  if (f === Number.POSITIVE_INFINITY) return 'INFINITY';
  if (f === Number.NEGATIVE_INFINITY) return '(-INFINITY)';
  const sign = bits >>> 31 ? '-' : '';
  const exp = (bits >>> 23) & 0xff;
  const frac = ((bits & 0x7fffff) << 1).toString(16).padStart(6, '0');
  return exp === 0 ? `${sign}0x0.${frac}p-126f` : `${sign}0x1.${frac}p${exp - 127}f`;
}

/** Deterministic float32 arguments: special values, then a spread of magnitudes. */
function argumentBits(count: number, seed: number): number[] {
  const special = [0, -0, 1, -1, 0.5, -0.5, 2, 1e-3, -3.75, 10, -20, 88, 1e-30, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN];
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const values = [...special];
  while (values.length < count) {
    const scale = [0.01, 1, 4, 30, 300][Math.floor(next() * 5)];
    values.push((next() * 2 - 1) * scale);
  }
  return values.map((v) => new Uint32Array(new Float32Array([v]).buffer)[0]);
}

/** The host program: per op, a function of run-time values and a function of literals, and a driver printing both. */
function program(ops: readonly OpBody[], prelude: string): { text: string; sites: { op: string; args: number[] }[] } {
  const parts: string[] = [prelude, '#include <cstdio>', '#include <cstring>'];
  const sites: { op: string; args: number[] }[] = [];
  const inputs: string[] = [];
  ops.forEach((o, i) => {
    const params = o.loads.map((v) => `float ${v}`).join(', ');
    const body = [...o.statements, `return ${o.result};`].join(' ');
    parts.push(`__attribute__((noinline)) static float ma_rt_${i}(${params}) { ${body} }`);
    const xs = argumentBits(VALUES_PER_OP, 1000 + i);
    const ys = argumentBits(VALUES_PER_OP, 5000 + i).reverse();
    const lit: string[] = [];
    xs.forEach((xb, k) => {
      const args = o.loads.length === 2 ? [xb, ys[k]] : [xb];
      const decls = o.loads.map((v, a) => `const float ${v} = ${floatLiteral(args[a])};`).join(' ');
      lit.push(`  { ${decls} ${o.statements.join(' ')} out[${sites.length}] = ${o.result}; }`);
      inputs.push(`{${args.map((b) => `0x${b.toString(16)}u`).join(', ')}${args.length === 1 ? ', 0u' : ''}}`);
      sites.push({ op: o.op, args });
    });
    parts.push(`__attribute__((noinline)) static void ma_lit_${i}(float *out) {\n${lit.join('\n')}\n}`);
  });
  // The run-time arguments: a volatile table, which no compiler may read at compile time.
  parts.push(`static volatile uint32_t ma_inputs[${sites.length}][2] = {${inputs.join(', ')}};`);
  const calls = ops.map((o, i) => {
    const first = sites.findIndex((s) => s.op === o.op);
    const args = o.loads.map((_, a) => `as_type<float>((uint32_t)ma_inputs[k][${a}])`).join(', ');
    return `  ma_lit_${i}(lit);\n  for (int k = ${first}; k < ${first + VALUES_PER_OP}; ++k) rt[k] = ma_rt_${i}(${args});`;
  });
  parts.push(`int main() {
  static float lit[${sites.length}], rt[${sites.length}];
${calls.join('\n')}
  for (int k = 0; k < ${sites.length}; ++k) std::printf("%u %u\\n", as_type<uint32_t>(lit[k]), as_type<uint32_t>(rt[k]));
  return 0;
}`);
  return { text: parts.join('\n'), sites };
}

interface Mismatch {
  op: string;
  args: string;
  literal: string;
  runtime: string;
}

/** Builds and runs the program; returns the sites whose folded and run-time bits differ. */
function foldMismatches(ops: readonly OpBody[], prelude: string, label: string): Mismatch[] {
  const { text, sites } = program(ops, prelude);
  const cpp = join(workDir, `${label}.cpp`);
  const exe = join(workDir, label);
  writeFileSync(cpp, text);
  const build = spawnSync(findClang() as string, ['-std=c++20', '-O2', '-pthread', '-Wno-unknown-attributes', `-I${SHIM_DIR}`, '-x', 'c++', cpp, '-o', exe], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (build.status !== 0) throw new Error(`fold program failed to build (${cpp}):\n${build.stderr.slice(0, 4000)}`);
  const r = spawnSync(exe, [], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`fold program failed (status ${r.status}): ${r.stderr}`);
  const rows = r.stdout.trim().split('\n');
  expect(rows.length).toBe(sites.length);
  const isNaN32 = (b: number) => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;
  const out: Mismatch[] = [];
  rows.forEach((row, k) => {
    const [lit, rt] = row.split(' ').map(Number);
    if (lit === rt || (isNaN32(lit) && isNaN32(rt))) return;
    const f = (b: number) => `${new Float32Array(new Uint32Array([b]).buffer)[0]} (0x${b.toString(16)})`;
    out.push({ op: sites[k].op, args: sites[k].args.map(f).join(', '), literal: f(lit), runtime: f(rt) });
  });
  return out;
}

describe('a literal argument and a loaded one give identical bits for every float op on the MSL host shim', () => {
  it.skipIf(why !== '' && !requireMslCheck)(`tools present${why ? ` (skipped: ${why})` : ''}`, () => {
    expect(why).toBe('');
  });

  const ops = why === '' ? renderedOps() : [];

  it.skipIf(why !== '')('the ops cover every math function the GPU op table and the MSL prelude call', () => {
    // float32 rows of the GPU op table (Metal has no float64): `@fn(` / `%fn(` are libm
    // functions, `ma_*(` prelude helpers.
    const rows = Object.values(GPU_OPS).flatMap((row) => (row ? [row.f, row.float] : []).filter((x): x is string => x !== undefined));
    const wanted = new Set<string>();
    for (const row of rows) {
      for (const m of row.matchAll(/[@%](\w+)\(/g)) wanted.add(`ma_${m[1]}`);
      for (const m of row.matchAll(/\b(ma_\w+)\(/g)) if (!m[1].endsWith('_N')) wanted.add(m[1]);
    }
    expect(wanted.size).toBeGreaterThanOrEqual(25);
    // Exact functions keep Metal's names (no wrapper); the rest resolve to a ma_ name.
    // copysign and fmod (issue 22's NumPy functions) are exact operations: their results are
    // representable, so Metal's plain functions give the only right answer and fold alike.
    const exact = new Set(['ma_fabs', 'ma_floor', 'ma_ceil', 'ma_rint', 'ma_trunc', 'ma_fma', 'ma_copysign', 'ma_fmod']);
    const rendered = ops.flatMap((o) => o.statements).join('\n');
    const missing = [...wanted].filter((fn) => {
      const name = exact.has(fn) ? `metal::${fn.slice(3)}` : fn;
      return !rendered.includes(`${name}(`);
    });
    expect(missing).toEqual([]);
    expect(ops.length).toBeGreaterThanOrEqual(40);
    // Every precise function is reached through its wrapper, never directly.
    expect(rendered).not.toContain('metal::precise::');
  });

  it.skipIf(why !== '')(`folded and run-time bits agree (${VALUES_PER_OP} arguments per op, -O2)`, { timeout: 600_000 }, () => {
    const mismatches = foldMismatches(ops, MSL_PRELUDE, 'wrapped');
    expect(mismatches.slice(0, 20)).toEqual([]);
  });

  it.skipIf(why !== '')('without the volatile in ma_opaque the folded bits differ (the check bites)', { timeout: 600_000 }, () => {
    const unwrapped = MSL_PRELUDE.replace('volatile float ma_v = x;', 'float ma_v = x;');
    expect(unwrapped).not.toBe(MSL_PRELUDE);
    const mismatches = foldMismatches(ops, unwrapped, 'unwrapped');
    expect(mismatches.length).toBeGreaterThan(0);
    // Where it bites: libm functions the compiler folds in double (exp, log, sin, ...).
    expect(new Set(mismatches.map((m) => m.op)).size).toBeGreaterThan(3);
  });
});
