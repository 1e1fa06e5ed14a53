// The NCCL engine on one GPU: a single-rank communicator (the multi-GPU measurements have
// their own issue). Run on a CUDA machine with NCCL:
//   METALARRAY_NCCL_LIBRARY=/path/libnccl.so.2 REQUIRE_NCCL=1 npx vitest run test/distributed/nccl.test.ts
// Skipped without CUDA or NCCL unless REQUIRE_NCCL=1.
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { isAvailable } from '../../src/runtime/registry.js';

const required = process.env.REQUIRE_NCCL === '1';
let group: ma.distributed.Group | null = null;
let why = 'CUDA is not available';
if (isAvailable('cuda') || required) {
  try {
    group = ma.distributed.init({ backend: 'nccl', strict: true });
  } catch (err) {
    if (required) throw err;
    why = err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

describe.skipIf(group === null)(`NCCL on one GPU${group === null ? ` (skipped: ${why})` : ''}`, () => {
  const g = group as ma.distributed.Group;
  const cuda = (values: number[], dtype: ma.DType) => ma.array(values, dtype).to('cuda');

  it('is a single-rank NCCL group with NVLink multicast off', () => {
    expect([g.rank, g.size, g.backend]).toEqual([0, 1, 'nccl']);
    expect(process.env.NCCL_NVLS_ENABLE).toBe('0');
  });

  it('runs every collective through NCCL on every dtype it supports', () => {
    for (const dtype of ['bool', 'int8', 'uint8', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'bfloat16', 'float32', 'float64'] as ma.DType[]) {
      const x = dtype === 'bool' ? ma.array([true, false, true, true]).to('cuda') : cuda([1, 2, 3, 4], dtype);
      const want = x.tolist();
      for (const f of [ma.distributed.allSum, ma.distributed.allMax, ma.distributed.allMin, ma.distributed.allGather, ma.distributed.reduceScatter]) {
        const y = f(x, g);
        expect(y.backend).toBe('cuda');
        expect(y.tolist(), `${f.name} ${dtype}`).toEqual(want);
      }
      expect(ma.distributed.broadcast(x, 0, g).tolist()).toEqual(want);
    }
    // int16 moves as bytes but has no NCCL reduction.
    const h = cuda([1, 2], 'int16');
    expect(ma.distributed.allGather(h, g).tolist()).toEqual([1, 2]);
    expect(() => ma.distributed.allSum(h, g)).toThrow(ma.DTypeError);
  });

  it('takes host arrays and returns them on their backend; gradients flow', () => {
    const x = ma.array([1, 2, 3], 'float32');
    expect(ma.distributed.allSum(x, g).backend).toBe('cpu');
    const grad = ma.grad((v: ma.MetalArray) => ma.distributed.allSum(v, g).square().sum())(cuda([1, 2, 3], 'float32'));
    expect(grad.tolist()).toEqual([2, 4, 6]);
    ma.distributed.barrier(g);
    const split = g.split(0);
    expect([split.rank, split.size]).toEqual([0, 1]);
    expect(ma.distributed.allSum(cuda([5], 'float32'), split).tolist()).toEqual([5]);
  });
});
