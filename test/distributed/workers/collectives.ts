// Run under `mpirun -np N`: every collective on every dtype against the single-process
// result each rank computes itself from every rank's (deterministic) input. Prints one
// JSON line: { rank, size, checks, failures }.
import * as ma from '../../../src/index.js';

const group = ma.distributed.init({ backend: 'mpi', strict: true });
const { rank, size } = group;
const DTYPES: ma.DType[] = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'bfloat16', 'float32', 'float64'];
const failures: string[] = [];
let checks = 0;

function same(name: string, got: ma.MetalArray, want: ma.MetalArray): void {
  checks++;
  const g = JSON.stringify({ s: got.shape, d: got.dtype, v: got.tolist() }, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  const w = JSON.stringify({ s: want.shape, d: want.dtype, v: want.tolist() }, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  if (g !== w) failures.push(`${name}: got ${g}, want ${w}`);
}

/** Rank r's input: small integers (exact in every dtype), shape [2 * size, 3]. */
function input(r: number, dtype: ma.DType): ma.MetalArray {
  const values = Array.from({ length: 2 * size * 3 }, (_, i) => ((i * 7 + r * 5) % 11) - (dtype.startsWith('u') || dtype === 'bool' ? 0 : 4));
  const base = ma.array(values, 'int32').reshape([2 * size, 3]);
  return dtype === 'bool' ? base.greater(5) : base.astype(dtype);
}

const all = (dtype: ma.DType): ma.MetalArray[] => Array.from({ length: size }, (_, r) => input(r, dtype));
const fold = (xs: ma.MetalArray[], f: (a: ma.MetalArray, b: ma.MetalArray) => ma.MetalArray): ma.MetalArray => xs.slice(1).reduce(f, xs[0]);

for (const dtype of DTYPES) {
  const mine = input(rank, dtype);
  const xs = all(dtype);
  const sum = dtype === 'bool' ? fold(xs, (a, b) => ma.logicalOr(a, b)) : fold(xs, (a, b) => ma.add(a, b).astype(dtype));
  same(`allSum ${dtype}`, ma.distributed.allSum(mine, group), sum);
  same(
    `allMax ${dtype}`,
    ma.distributed.allMax(mine, group),
    fold(xs, (a, b) => ma.maximum(a, b)),
  );
  same(
    `allMin ${dtype}`,
    ma.distributed.allMin(mine, group),
    fold(xs, (a, b) => ma.minimum(a, b)),
  );
  same(`allGather ${dtype}`, ma.distributed.allGather(mine, group), ma.concatenate(xs));
  same(`reduceScatter ${dtype}`, ma.distributed.reduceScatter(mine, group), sum.slice(`${2 * rank}:${2 * rank + 2}`));
  const root = size - 1;
  same(`broadcast ${dtype}`, ma.distributed.broadcast(mine, root, group), xs[root]);
  // A ring: rank 0 sends first, the others receive first (sends complete like MPI_Send).
  const next = (rank + 1) % size;
  const prev = (rank + size - 1) % size;
  let got: ma.MetalArray;
  if (rank === 0) {
    ma.distributed.send(mine, next, group);
    got = ma.distributed.recv(mine.shape, dtype, prev, group);
  } else {
    got = ma.distributed.recvLike(mine, prev, group);
    ma.distributed.send(mine, next, group);
  }
  same(`send/recv ${dtype}`, got, xs[prev]);
}

// A fused producer and consumer around a collective, and a strided (transposed) input.
const x = input(rank, 'float32');
same(
  'fused around allSum',
  ma.distributed.allSum(x.exp().T, group).log(),
  fold(
    all('float32').map((a) => a.exp().T),
    (a, b) => ma.add(a, b),
  ).log(),
);

// split: even and odd ranks.
const parity = group.split(rank % 2);
const members = Array.from({ length: size }, (_, r) => r).filter((r) => r % 2 === rank % 2);
checks++;
if (parity.size !== members.length || parity.rank !== members.indexOf(rank)) failures.push(`split: rank ${parity.rank} size ${parity.size}`);
same(
  'allSum on a split group',
  ma.distributed.allSum(x, parity),
  fold(
    members.map((r) => input(r, 'float32')),
    (a, b) => ma.add(a, b),
  ),
);
// key reverses the order.
const reversed = group.split(0, size - rank);
checks++;
if (reversed.rank !== size - 1 - rank) failures.push(`split with key: rank ${reversed.rank}, want ${size - 1 - rank}`);
ma.distributed.barrier(group);

console.log(JSON.stringify({ rank, size, checks, failures }));
