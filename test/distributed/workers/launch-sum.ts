// Started by `metalarray-launch --backend mpi` in test/distributed/launch.test.ts: one allSum.
import * as ma from '../../../src/index.js';

const group = ma.distributed.init();
const total = ma.distributed.allSum(ma.array([group.rank + 1], 'float32'), group);
console.log(JSON.stringify({ rank: group.rank, size: group.size, backend: group.backend, total: total.tolist() }));
