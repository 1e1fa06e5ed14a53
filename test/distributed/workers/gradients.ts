// Run under `mpirun -np 2`: gradients (VJP and JVP) through the collectives against the
// analytic results each rank computes from every rank's input, averageGradients against
// the mean, and a mismatched call (CollectiveMismatchError on every rank, the group
// usable afterwards). Prints one JSON line: { rank, size, checks, failures }.
import * as ma from '../../../src/index.js';

const group = ma.distributed.init({ backend: 'mpi', strict: true });
const { rank, size } = group;
const failures: string[] = [];
let checks = 0;

function close(name: string, got: ma.MetalArray, want: ma.MetalArray): void {
  checks++;
  const g = Array.from(got.astype('float64').toTypedArray() as Float64Array);
  const w = Array.from(want.astype('float64').toTypedArray() as Float64Array);
  const ok = JSON.stringify(got.shape) === JSON.stringify(want.shape) && g.every((v, i) => Math.abs(v - w[i]) <= 1e-5 * (1 + Math.abs(v)));
  if (!ok) failures.push(`${name}: got ${JSON.stringify(g)}, want ${JSON.stringify(w)}`);
}

const values = (r: number, f: (i: number) => number): number[] => Array.from({ length: 6 * size }, (_, i) => f(i) * (((i + r) % 3) - 1) + r);
const input = (r: number): ma.MetalArray =>
  ma
    .array(
      values(r, (i) => 0.5 + i),
      'float32',
    )
    .reshape([2 * size, 3]);
const weight = (r: number): ma.MetalArray =>
  ma
    .array(
      values(r, (i) => 2 - 0.25 * i),
      'float32',
    )
    .reshape([2 * size, 3]);
const xs = Array.from({ length: size }, (_, r) => input(r));
const ws = Array.from({ length: size }, (_, r) => weight(r));
const sumOf = (a: ma.MetalArray[]): ma.MetalArray => a.slice(1).reduce((p, q) => p.add(q), a[0]);
const x = xs[rank];
const w = ws[rank];

// allSum: L_r = sum(w_r * y^2), y = sum_s x_s; dL/dx_r (summed over ranks' losses) = sum_s 2 w_s y.
const y = sumOf(xs);
close('grad allSum', ma.grad((v: ma.MetalArray) => ma.distributed.allSum(v, group).square().multiply(w).sum())(x), sumOf(ws).multiply(y).multiply(2));
// allGather: L_r = sum(W_r * gather), W_r of the gathered shape; grad_r = rows r of sum_s W_s.
const bigW = (r: number): ma.MetalArray => ma.concatenate(Array.from({ length: size }, (_, k) => weight(r).multiply(k + 1)));
const sumW = sumOf(Array.from({ length: size }, (_, r) => bigW(r)));
const rows = x.shape[0];
close(
  'grad allGather',
  ma.grad((v: ma.MetalArray) => ma.distributed.allGather(v, group).multiply(bigW(rank)).sum())(x),
  sumW.slice(`${rank * rows}:${(rank + 1) * rows}`),
);
// reduceScatter: L_r = sum(w_r[block] * rs); grad_r = concat of every rank's block weights.
const half = rows / size;
const block = (r: number): ma.MetalArray => weight(r).slice(`0:${half}`);
close(
  'grad reduceScatter',
  ma.grad((v: ma.MetalArray) => ma.distributed.reduceScatter(v, group).multiply(block(rank)).sum())(x),
  ma.concatenate(Array.from({ length: size }, (_, r) => block(r))),
);
// broadcast from 0: the root gets the sum of every rank's weights, the others zeros.
close('grad broadcast', ma.grad((v: ma.MetalArray) => ma.distributed.broadcast(v, 0, group).multiply(w).sum())(x), rank === 0 ? sumOf(ws) : ma.zerosLike(x));
// allMax: the gradient goes where this rank holds the maximum.
const top = xs.slice(1).reduce((p, q) => ma.maximum(p, q), xs[0]);
close('grad allMax', ma.grad((v: ma.MetalArray) => ma.distributed.allMax(v, group).multiply(w).sum())(x), ma.where(x.equal(top), sumOf(ws), 0));
// JVP of allSum: the tangent is allSum of the tangents (rank r's tangent is w_r).
const [, tangent] = ma.jvp((v: ma.MetalArray) => ma.distributed.allSum(v, group).multiply(2), [x], [w]);
close('jvp allSum', tangent as ma.MetalArray, sumOf(ws).multiply(2));
const [, gatherTangent] = ma.jvp((v: ma.MetalArray) => ma.distributed.allGather(v, group), [x], [w]);
close('jvp allGather', gatherTangent as ma.MetalArray, ma.concatenate(ws));

// averageGradients: several dtypes and sizes, buckets of 64 bytes (several collectives).
type Tree = { layers: [{ w: ma.MetalArray; b: ma.MetalArray }, { w: ma.MetalArray }]; scale: ma.MetalArray };
const tree = (r: number): Tree => ({
  layers: [{ w: weight(r), b: ma.array([r, 1, 2], 'float32') }, { w: input(r).astype('float64') }],
  scale: ma.array(r * 4, 'float32'),
});
const meanOf = (get: (t: Tree) => ma.MetalArray): ma.MetalArray => sumOf(Array.from({ length: size }, (_, r) => get(tree(r)))).divide(size);
for (const bucketBytes of [64, 1 << 20, 0]) {
  const avg = ma.distributed.averageGradients(tree(rank), group, { bucketBytes }) as Tree;
  close(
    `averageGradients(${bucketBytes}) layers[0].w`,
    avg.layers[0].w,
    meanOf((t) => t.layers[0].w),
  );
  close(
    `averageGradients(${bucketBytes}) layers[0].b`,
    avg.layers[0].b,
    meanOf((t) => t.layers[0].b),
  );
  close(
    `averageGradients(${bucketBytes}) layers[1].w`,
    avg.layers[1].w,
    meanOf((t) => t.layers[1].w),
  );
  close(
    `averageGradients(${bucketBytes}) scale`,
    avg.scale,
    meanOf((t) => t.scale),
  );
  checks++;
  if (avg.layers[1].w.dtype !== 'float64') failures.push(`averageGradients kept dtype: got ${avg.layers[1].w.dtype}`);
}

// A mismatched call: rank 0 sums 3 elements, the others 4. Every rank gets the error.
checks++;
try {
  ma.distributed.allSum(ma.zeros([rank === 0 ? 3 : 4], 'float32'), group);
  failures.push('mismatched shapes: no error');
} catch (err) {
  if (!(err instanceof ma.distributed.CollectiveMismatchError) || !/rank 0.*3 float32/s.test(err.message)) failures.push(`mismatched shapes: ${String(err)}`);
}
checks++;
try {
  ma.distributed.allSum(ma.zeros([2], rank === 0 ? 'float32' : 'int32'), group);
  failures.push('mismatched dtypes: no error');
} catch (err) {
  if (!(err instanceof ma.distributed.CollectiveMismatchError)) failures.push(`mismatched dtypes: ${String(err)}`);
}
// The group still works after a mismatch.
close('allSum after a mismatch', ma.distributed.allSum(x, group), y);

console.log(JSON.stringify({ rank, size, checks, failures }));
