/**
 * A sample of CUDA kernels, one of each strategy and edge (vector and scalar
 * elementwise paths, unaligned views, block-per-row softmax, split full sum, argmax,
 * column sum, scan, matmul with epilogue, float16, tensor-core float16 matmul, a
 * two-axis gather, random normals, sorts in shared memory and through scratch, a
 * scatter-add), for compute-sanitizer:
 *
 *   compute-sanitizer --tool memcheck  node --import tsx bench/gpu/sanitize.ts
 *   compute-sanitizer --tool racecheck node --import tsx bench/gpu/sanitize.ts
 *
 * An argument keeps only the cases whose names contain it. Exits non-zero if a result
 * differs from the CPU backend's.
 */
import * as ma from '../../src/index.js';

function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

/** Name, the kernel's result, and the allowed difference from the cpu (relative; absolute below 1). */
const cases: [string, () => ma.MetalArray, number?][] = [
  ['elementwise vector', () => ma.gelu(ma.array(rand(4099, 1)).multiply(3))],
  [
    'elementwise unaligned view',
    () =>
      ma
        .array(rand(5 * 103, 2))
        .reshape(5, 103)
        .slice(':', '1:')
        .add(1),
  ],
  ['softmax rows', () => ma.softmax(ma.array(rand(37 * 517, 3)).reshape(37, 517), -1)],
  ['split full sum', () => ma.array(rand(1 << 20, 4)).sum()],
  [
    'row sum',
    () =>
      ma
        .array(rand(300 * 257, 5))
        .reshape(300, 257)
        .sum(1),
  ],
  [
    'column sum',
    () =>
      ma
        .array(rand(300 * 257, 6))
        .reshape(300, 257)
        .sum(0),
  ],
  [
    'argmax',
    () =>
      ma
        .array(rand(33 * 1000, 7))
        .reshape(33, 1000)
        .argmax(1)
        .astype('float32'),
  ],
  ['scan', () => ma.cumsum(ma.array(rand(9 * 300, 8)).reshape(9, 300), 1)],
  ['matmul epilogue', () => ma.relu(ma.matmul(ma.array(rand(70 * 33, 9)).reshape(70, 33), ma.array(rand(33 * 45, 10)).reshape(33, 45)).add(0.25))],
  [
    'float32 matmul, cp.async 16-byte copies, batched',
    () => ma.matmul(ma.array(rand(2 * 160 * 96, 19)).reshape(2, 160, 96), ma.array(rand(2 * 96 * 200, 20)).reshape(2, 96, 200)),
  ],
  [
    'float32 matmul, cp.async element copies (offset, transposed, odd sizes)',
    () =>
      ma.matmul(
        ma
          .array(rand(131 * 68, 21))
          .reshape(131, 68)
          .slice(':', '1:'),
        ma
          .array(rand(129 * 67, 22))
          .reshape(129, 67)
          .transpose(),
      ),
  ],
  [
    'tf32 matmul on tensor cores',
    () => {
      ma.setMatmulPrecision('tf32');
      try {
        const a = ma.array(rand(200 * 136, 23)).reshape(200, 136);
        const b = ma.array(rand(136 * 264, 24)).reshape(136, 264);
        const w = ma.array(rand(264 * 136, 25)).reshape(264, 136);
        // B with n contiguous, and with k contiguous (x @ w.T), staged in both layouts.
        return ma.concatenate([ma.matmul(a, b).add(0.5), ma.matmul(a, w.T)], 0).eval();
      } finally {
        ma.setMatmulPrecision('highest');
      }
    },
    2e-2, // TF32 keeps 10 mantissa bits: K=136 terms of magnitude < 1
  ],
  [
    'tf32 matmul, element copies',
    () => {
      ma.setMatmulPrecision('tf32');
      try {
        // A offset by one element and B with K % 4 != 0: neither moves in 16-byte copies.
        const a = ma
          .array(rand(70 * 133 + 1, 26))
          .slice(ma.range(1, 70 * 133 + 1))
          .reshape(70, 133);
        return ma.matmul(a, ma.array(rand(133 * 50, 27)).reshape(133, 50)).eval();
      } finally {
        ma.setMatmulPrecision('highest');
      }
    },
    2e-2,
  ],
  ['float16', () => ma.array(rand(1001, 11)).astype('float16').multiply(2).exp().astype('float32')],
  [
    'float16 matmul on tensor cores',
    () =>
      ma
        .matmul(
          ma
            .array(rand(131 * 67, 12))
            .reshape(131, 67)
            .astype('float16'),
          ma
            .array(rand(67 * 129, 13))
            .reshape(67, 129)
            .astype('float16'),
        )
        .astype('float32'),
    2 ** -9, // float32 sums in another order, rounded to float16: an ulp or two
  ],
  [
    'two-axis gather',
    () =>
      ma
        .array(rand(7 * 9 * 5, 14))
        .reshape(7, 9, 5)
        .slice(Int32Array.of(6, 0, 3), null, Int32Array.of(4, -1, 2))
        .exp(),
  ],
  ['random normal', () => ma.random.normal(ma.random.key(3), [4099])],
  ['sort in shared memory', () => ma.sort(ma.array(rand(37 * 517, 15)).reshape(37, 517), -1)],
  ['argsort through scratch', () => ma.argsort(ma.array(rand(3 * 9000, 16)).reshape(3, 9000), -1).astype('float32')],
  [
    'scatter add, repeated positions',
    () =>
      ma
        .array(rand(1000, 17))
        .at(ma.array(Int32Array.from({ length: 3000 }, (_, i) => (i * 7919) % 97)))
        .add(ma.array(rand(3000, 18))),
  ],
];

const only = process.argv[2] ?? '';
let bad = 0;
for (const [name, build, tol = 1e-4] of cases) {
  if (!name.includes(only)) continue;
  ma.setBackend('cpu');
  const want = Float64Array.from(build().toTypedArray() as ArrayLike<number>);
  ma.setBackend('cuda');
  const got = Float64Array.from(build().toTypedArray() as ArrayLike<number>);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - got[i]) / Math.max(tol < 1e-3 ? 1e-6 : 1, Math.abs(want[i])));
  const ok = got.length === want.length && worst <= tol;
  if (!ok) bad++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (max rel diff ${worst.toExponential(2)})`);
}
process.exit(bad === 0 ? 0 : 1);
