/**
 * Custom MSL kernels (`ma.customKernel` with `source.msl`) checked on Linux: the wrapper
 * src/codegen/custom.ts puts around a user body is valid MSL under the address-space
 * shim with every warning an error, and it runs on the host execution shim (one thread
 * per GPU thread, under ThreadSanitizer) with the right buffers, sizes, thread indices
 * and guard for threads past the grid. On a Mac, test/gpu/metal.test.ts runs the same
 * kinds of kernels through Metal.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CustomParam, customArgWords, renderCustomGpuKernel } from '../../src/codegen/custom.js';
import { MSL_PRELUDE } from '../../src/codegen/msl.js';
import { SHIM_DIR } from './msl/host-backend.js';
import { findClang, missingTools, requireMslCheck, runTool } from './toolchain.js';

const why = missingTools({ clang: true });
const dir = mkdtempSync(join(tmpdir(), 'metalarray-msl-custom-'));

interface Case {
  name: string;
  body: string;
  inputs: { name: string; data: number[] }[];
  outputs: { name: string; size: number }[];
  grid: [number, number, number];
  threads: [number, number, number];
  expected: (inputs: number[][]) => number[][];
}

const CASES: Case[] = [
  {
    name: 'saxpy',
    body: 'uint i = thread_position_in_grid.x; out[i] = 2.0f * x[i] + y[i];',
    inputs: [
      { name: 'x', data: [1, 2, 3, 4, 5, 6, 7] },
      { name: 'y', data: [10, 20, 30, 40, 50, 60, 70] },
    ],
    outputs: [{ name: 'out', size: 7 }],
    // 7 threads in groups of 4: the second group is partial, and its fourth thread must not write.
    grid: [7, 1, 1],
    threads: [4, 1, 1],
    expected: ([x, y]) => [x.map((v, i) => 2 * v + y[i])],
  },
  {
    name: 'grid2d',
    body: [
      'uint2 p = thread_position_in_grid.xy;',
      'uint w = threads_per_grid.x;',
      'out[p.y * w + p.x] = (float)(p.y * 100 + p.x) + (float)out_size * 0.0f + (float)x_size;',
    ].join('\n'),
    inputs: [{ name: 'x', data: [0, 0, 0] }],
    outputs: [{ name: 'out', size: 15 }],
    grid: [5, 3, 1],
    threads: [2, 2, 1],
    expected: () => [Array.from({ length: 15 }, (_, i) => Math.floor(i / 5) * 100 + (i % 5) + 3)],
  },
  {
    name: 'simd_rowsum',
    body: [
      'float v = x[threadgroup_position_in_grid.x * 32 + thread_index_in_simdgroup];',
      'float s = simd_sum(v);',
      'if (thread_index_in_simdgroup == 0) out[threadgroup_position_in_grid.x] = s;',
    ].join('\n'),
    inputs: [{ name: 'x', data: Array.from({ length: 64 }, (_, i) => i) }],
    outputs: [{ name: 'out', size: 2 }],
    grid: [64, 1, 1],
    threads: [32, 1, 1],
    expected: ([x]) => [[x.slice(0, 32).reduce((a, b) => a + b, 0), x.slice(32).reduce((a, b) => a + b, 0)]],
  },
];

function params(c: Case): CustomParam[] {
  return [
    ...c.inputs.map((b) => ({ name: b.name, dtype: 'float32' as const, output: false })),
    ...c.outputs.map((b) => ({ name: b.name, dtype: 'float32' as const, output: true })),
  ];
}

function source(c: Case): string {
  return renderCustomGpuKernel('msl', `custom_${c.name}`, params(c), c.body, c.threads[0] * c.threads[1] * c.threads[2]);
}

/** A host program that runs the kernel over literal buffers and prints the outputs. */
function program(c: Case): string {
  const bufs = [...c.inputs.map((b) => b.data), ...c.outputs.map((b) => new Array(b.size).fill(-1))];
  const words = customArgWords(bufs.length);
  const sizes = bufs.map((b) => b.length);
  const work = c.grid[0] * c.grid[1] * c.grid[2];
  const args = [work, c.threads[0] * c.threads[1] * c.threads[2], ...c.grid, ...sizes];
  const groups = c.grid.map((g, i) => Math.ceil(g / c.threads[i]));
  const decls = bufs.map((b, i) => `static float buf${i}[] = {${b.map((v) => `${v}.0f`).join(', ')}};`);
  const call = `custom_${c.name}(${[...bufs.map((_, i) => `buf${i}`), 'scratch', 'args', 't', 'g', 'bd'].join(', ')})`;
  const prints = c.outputs.map((_, k) => {
    const i = c.inputs.length + k;
    return `for (int j = 0; j < ${bufs[i].length}; j++) std::printf("%.9g%c", buf${i}[j], j + 1 < ${bufs[i].length} ? ' ' : '\\n');`;
  });
  return `${MSL_PRELUDE}
${source(c)}
#include <cstdio>
${decls.join('\n')}
static uint8_t scratch[16];
int main() {
  MaArgs<${words}> args = {{${args.join(', ')}}};
  metal::dispatch_threadgroups(uint3{${groups.join(', ')}}, uint3{${c.threads.join(', ')}}, [&](uint3 t, uint3 g, uint3 bd, uint3) { ${call}; });
  ${prints.join('\n  ')}
  return 0;
}
`;
}

describe('custom MSL kernels on Linux', () => {
  it.skipIf(why !== '' && !requireMslCheck)(`tools present${why ? ` (skipped: ${why})` : ''}`, () => {
    expect(why).toBe('');
  });

  it.skipIf(why !== '')('the wrapper around each body passes clang -fsyntax-only -Wall -Werror with Metal address spaces', () => {
    const file = join(dir, 'syntax.metal');
    writeFileSync(file, `${MSL_PRELUDE}\n${CASES.map(source).join('\n\n')}\n`);
    const flags = ['-std=c++14', '-fsyntax-only', '-Wall', '-Werror', '-Wno-unknown-attributes', '-DMSL_SHIM_ADDRESS_SPACES', `-I${SHIM_DIR}`];
    const r = runTool(findClang() as string, [...flags, '-x', 'c++', file]);
    expect(r.output).toBe('');
    expect(r.ok).toBe(true);
    // A body that writes through an input (a `device const` pointer) is rejected, as Metal rejects it.
    const bad = renderCustomGpuKernel('msl', 'custom_bad', params(CASES[0]), 'x[0] = 1.0f;', 4);
    writeFileSync(file, `${MSL_PRELUDE}\n${bad}\n`);
    expect(runTool(findClang() as string, [...flags, '-x', 'c++', file]).ok).toBe(false);
  });

  for (const c of CASES) {
    it.skipIf(why !== '')(`${c.name} runs on the host shim under ThreadSanitizer with the right results`, { timeout: 120_000 }, () => {
      const cpp = join(dir, `${c.name}.cpp`);
      const exe = join(dir, c.name);
      writeFileSync(cpp, program(c));
      const build = runTool(findClang() as string, [
        '-std=c++20',
        '-pthread',
        '-O1',
        '-g',
        '-fsanitize=thread',
        '-Wno-unknown-attributes',
        `-I${SHIM_DIR}`,
        '-x',
        'c++',
        cpp,
        '-o',
        exe,
      ]);
      expect(build.output).toBe('');
      const run = spawnSync(exe, { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const got = run.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' ').map(Number));
      expect(got).toEqual(c.expected(c.inputs.map((b) => b.data)));
    });
  }

  it.skipIf(why !== '')('the guard keeps threads of a partial group off the buffers: AddressSanitizer reports them without it', { timeout: 120_000 }, () => {
    const asan = (name: string, text: string) => {
      const cpp = join(dir, `${name}.cpp`);
      writeFileSync(cpp, text);
      const exe = join(dir, name);
      const flags = ['-std=c++20', '-pthread', '-O1', '-g', '-fsanitize=address', '-Wno-unknown-attributes', `-I${SHIM_DIR}`];
      const build = runTool(findClang() as string, [...flags, '-x', 'c++', cpp, '-o', exe]);
      expect(build.output).toBe('');
      return spawnSync(exe, { encoding: 'utf8' });
    };
    const text = program(CASES[0]);
    expect(asan('guarded', text).status).toBe(0);
    const unguarded = text.replace(/\) return;/, ') {}');
    expect(unguarded).not.toBe(text);
    const r = asan('unguarded', unguarded);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/AddressSanitizer: global-buffer-overflow/);
  });
});
