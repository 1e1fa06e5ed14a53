// Run under `mpirun -np 2`: rank 1 never makes the collective rank 0 waits in, so rank 0
// must get CollectiveTimeoutError after its 300 ms timeout, and the group refuses further
// use. Rank 0 prints one JSON line and exits with code 3 (rank 1 exits once rank 0's
// line is out, without finalizing; mpirun then reports the failed job). With PEER_DIES=1,
// rank 1 exits with code 5 at once instead and mpirun must end the job, not hang.
import * as ma from '../../../src/index.js';

const group = ma.distributed.init({ backend: 'mpi', strict: true, timeoutMs: 300 });
if (group.rank === 0) {
  const result: Record<string, string> = {};
  try {
    ma.distributed.allSum(ma.ones([4], 'float32'), group);
    result.first = 'no error';
  } catch (err) {
    result.first = err instanceof ma.distributed.CollectiveTimeoutError ? `CollectiveTimeoutError: ${err.message}` : String(err);
  }
  try {
    ma.distributed.barrier(group);
    result.after = 'no error';
  } catch (err) {
    result.after = err instanceof ma.distributed.DistributedError ? `${err.name}: ${err.message}` : String(err);
  }
  console.log(JSON.stringify(result));
  process.exit(3);
} else if (process.env.PEER_DIES === '1') {
  // A peer that dies: mpirun sees the non-zero exit and ends the job (rank 0 included).
  process.exit(5);
} else {
  // Wait (without calling any collective) until rank 0 has given up; mpirun ends us then.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20_000);
  process.exit(4);
}
