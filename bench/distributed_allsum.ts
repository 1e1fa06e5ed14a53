// allSum bandwidth over MPI: run under `mpirun -np 2 node --import tsx bench/distributed_allsum.ts`.
// Each size: warm-up, a barrier, then a fixed number of allSum calls on a float32 leaf
// (the same loop as bench/mpi4py_allreduce.py). Rank 0 prints one JSON line per size: time
// per call, algorithm bandwidth (bytes / time) and bus bandwidth (x 2(n-1)/n, NCCL's
// convention for all-reduce).
import * as ma from '../src/index.js';

const group = ma.distributed.init({ backend: 'mpi', strict: true });
const sizes = (process.env.SIZES ?? '4096,65536,1048576,16777216,67108864').split(',').map(Number);
for (const bytes of sizes) {
  const x = ma.full([bytes / 4], group.rank + 1, 'float32');
  x.eval();
  for (let i = 0; i < 3; i++) ma.distributed.allSum(x, group).dispose();
  ma.distributed.barrier(group);
  // A fixed count per size (same formula as the mpi4py peer): about 256 MiB moved, 5..200 calls.
  const iters = Math.min(200, Math.max(5, Math.floor((256 << 20) / bytes)));
  const start = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) ma.distributed.allSum(x, group).dispose();
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  const seconds = elapsed / iters;
  const algbw = bytes / seconds / 1e9;
  if (group.rank === 0) {
    console.log(
      JSON.stringify({
        impl: 'metalarray',
        ranks: group.size,
        bytes,
        iters,
        usPerCall: +(seconds * 1e6).toFixed(1),
        algbwGBs: +algbw.toFixed(3),
        busbwGBs: +((algbw * 2 * (group.size - 1)) / group.size).toFixed(3),
      }),
    );
  }
  x.dispose();
}
