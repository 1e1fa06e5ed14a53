/**
 * The collectives: allSum, allMax, allMin, allGather, reduceScatter, broadcast, send,
 * recv, recvLike, barrier. Each evaluates its input (with everything pending beneath it,
 * as one fused plan), runs on the group's engine at the call, and returns a leaf the
 * graph after it fuses over as usual. Float results carry VJP and JVP rules (collectives
 * themselves), so data- and tensor-parallel models differentiate; every rank must run the
 * same backward pass, as it ran the same forward pass.
 */
import { MetalArray } from '../array/array.js';
import { defaultBackend } from '../array/context.js';
import { zeros } from '../array/creation.js';
import { checkArgCount } from '../core/arguments.js';
import { checkDType, type DType, isFloat } from '../core/dtype.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { astype, where } from '../ops/elementwise.js';
import { divide, equal } from '../ops/elementwise-ops.js';
import { attachCustomRule, primalNode } from '../transforms/autodiff.js';
import { checkRank, type EngineCall, type Operation, type ReduceOp } from './engine.js';
import { defaultGroup, type Group } from './group.js';

function checkArray(name: string, x: unknown): MetalArray {
  if (!(x instanceof MetalArray)) throw new ArgumentError(`${name}: expected a MetalArray, got ${typeof x}`);
  return x;
}

function groupOf(name: string, group: Group | undefined): Group {
  if (group === undefined) return defaultGroup();
  if (typeof group !== 'object' || group === null || !('engine' in group)) throw new ArgumentError(`${name}: group must be a Group from distributed.init()`);
  return group;
}

function call(name: string, operation: Operation, reduce: ReduceOp, x: MetalArray, peer: number): EngineCall {
  return { name, operation, reduce, input: x, shape: x.shape, dtype: x.dtype, peer, backend: x.backend };
}

/**
 * Runs `c` and, for a float result, attaches the rules: `vjp` maps the output's cotangent
 * to the input's, `jvp` the input's tangent to the output's.
 */
function differentiable(c: EngineCall, group: Group, vjp: (ct: MetalArray) => MetalArray, jvp: (t: MetalArray) => MetalArray): MetalArray {
  const x = c.input as MetalArray;
  const out = group.engine.run(c) as MetalArray;
  if (out === x || !isFloat(x.dtype)) return out; // the size-1 local engine returns its input
  const node = primalNode(out.liveNode(c.name));
  attachCustomRule([node], {
    name: `distributed.${c.name}`,
    args: [x.liveNode(c.name)],
    vjp: ([ct]) => [vjp(ct)],
    jvp: ([t]) => [t === null ? zeros(out.shape, out.dtype) : jvp(t)],
  });
  return MetalArray.fromNode(node);
}

function reduction(name: string, reduce: ReduceOp, x: MetalArray, group: Group): MetalArray {
  const c = call(name, 'allReduce', reduce, x, 0);
  if (reduce === 'sum') {
    return differentiable(
      c,
      group,
      (ct) => allSum(ct, group),
      (t) => allSum(t, group),
    );
  }
  // max/min: the gradient goes to the ranks holding the extreme (each tied one gets all
  // of it); the tangent is the mean of the tangents of the ranks holding it.
  let result: MetalArray | null = null;
  const picked = (): MetalArray => equal(x, result as MetalArray);
  result = differentiable(
    c,
    group,
    (ct) => where(picked(), allSum(ct, group), 0),
    (t) => divide(allSum(where(picked(), t, 0), group), allSum(astype(picked(), t.dtype), group)),
  );
  return result;
}

/**
 * The elementwise sum of `x` over the processes of `group` (default: `init()`'s), on every
 * process. Every process passes the same shape and dtype. bool sums saturate (logical or).
 * Its gradient is `allSum` of the cotangent.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const group = ma.distributed.init(); // alone: size 1, the identity
 * console.log(ma.distributed.allSum(ma.array([1, 2], 'float32'), group).tolist()); // [ 1, 2 ]
 * ```
 */
export function allSum(x: MetalArray, group?: Group): MetalArray {
  checkArgCount('allSum', arguments.length, 2, 'allSum(x, group?)');
  return reduction('allSum', 'sum', checkArray('allSum', x), groupOf('allSum', group));
}

/**
 * The elementwise maximum of `x` over the processes of `group`, on every process (NaN
 * propagates for float16/bfloat16; float32/float64 follow MPI_MAX).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.distributed.allMax(ma.array([3, 1], 'int32')).tolist()); // [ 3, 1 ]
 * ```
 */
export function allMax(x: MetalArray, group?: Group): MetalArray {
  checkArgCount('allMax', arguments.length, 2, 'allMax(x, group?)');
  return reduction('allMax', 'max', checkArray('allMax', x), groupOf('allMax', group));
}

/**
 * The elementwise minimum of `x` over the processes of `group`, on every process.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.distributed.allMin(ma.array([3, 1], 'int32')).tolist()); // [ 3, 1 ]
 * ```
 */
export function allMin(x: MetalArray, group?: Group): MetalArray {
  checkArgCount('allMin', arguments.length, 2, 'allMin(x, group?)');
  return reduction('allMin', 'min', checkArray('allMin', x), groupOf('allMin', group));
}

function checkLeading(name: string, x: MetalArray): void {
  if (x.ndim === 0) throw new ShapeError(`${name}: needs an array of at least one dimension (it works along axis 0), got a scalar; reshape it to [1]`);
}

/**
 * The processes' `x` concatenated along axis 0 in rank order: shape `[size * n, ...]` from
 * `[n, ...]`. Every process passes the same shape. Its gradient is `reduceScatter`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.distributed.allGather(ma.array([[1, 2]], 'float32')).shape); // [ 1, 2 ]
 * ```
 */
export function allGather(x: MetalArray, group?: Group): MetalArray {
  checkArgCount('allGather', arguments.length, 2, 'allGather(x, group?)');
  const g = groupOf('allGather', group);
  checkLeading('allGather', checkArray('allGather', x));
  return differentiable(
    call('allGather', 'allGather', 'sum', x, 0),
    g,
    (ct) => reduceScatter(ct, g),
    (t) => allGather(t, g),
  );
}

/**
 * The elementwise sum over the processes of `x` (shape `[size * n, ...]`), of which process
 * `r` keeps rows `r*n .. (r+1)*n`: shape `[n, ...]`. Its gradient is `allGather`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.distributed.reduceScatter(ma.array([[1, 2]], 'float32')).tolist()); // [ [ 1, 2 ] ]
 * ```
 */
export function reduceScatter(x: MetalArray, group?: Group): MetalArray {
  checkArgCount('reduceScatter', arguments.length, 2, 'reduceScatter(x, group?)');
  const g = groupOf('reduceScatter', group);
  checkLeading('reduceScatter', checkArray('reduceScatter', x));
  if (x.shape[0] % g.size !== 0) {
    throw new ShapeError(`reduceScatter: axis 0 of shape [${x.shape.join(', ')}] must be a multiple of the group size ${g.size}`);
  }
  return differentiable(
    call('reduceScatter', 'reduceScatter', 'sum', x, 0),
    g,
    (ct) => allGather(ct, g),
    (t) => reduceScatter(t, g),
  );
}

/**
 * Process `root`'s `x` on every process (the others pass an array of the same shape and
 * dtype, whose values are ignored). The gradient flows to the root: the sum of every
 * process's cotangent; the others get zeros.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.distributed.broadcast(ma.array([7], 'float32'), 0).tolist()); // [ 7 ]
 * ```
 */
export function broadcast(x: MetalArray, root: number, group?: Group): MetalArray {
  checkArgCount('broadcast', arguments.length, 3, 'broadcast(x, root, group?)');
  const g = groupOf('broadcast', group);
  checkArray('broadcast', x);
  checkRank('broadcast', 'root', root, g.size, null);
  return differentiable(
    call('broadcast', 'broadcast', 'sum', x, root),
    g,
    (ct) => {
      const total = allSum(ct, g);
      return g.rank === root ? total : zeros(ct.shape, ct.dtype);
    },
    (t) => broadcast(t, root, g),
  );
}

/**
 * Sends `x` to process `dst`, which calls `recv` (or `recvLike`) with the same shape and
 * dtype. Returns when the data has left (as MPI_Send: two processes sending to each other
 * first may wait for each other; order them). Not differentiable.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const group = ma.distributed.init();
 * if (group.size > 1 && group.rank === 0) ma.distributed.send(ma.array([1, 2], 'float32'), 1, group);
 * ```
 */
export function send(x: MetalArray, dst: number, group?: Group): void {
  checkArgCount('send', arguments.length, 3, 'send(x, dst, group?)');
  const g = groupOf('send', group);
  checkArray('send', x);
  checkRank('send', 'dst', dst, g.size, g.rank);
  g.engine.run(call('send', 'send', 'sum', x, dst));
}

/**
 * Receives an array of `shape` and `dtype` from process `src`'s `send` (on the default
 * backend). Not differentiable.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const group = ma.distributed.init();
 * if (group.size > 1 && group.rank === 1) console.log(ma.distributed.recv([2], 'float32', 0, group).tolist());
 * ```
 */
export function recv(shape: readonly number[], dtype: DType, src: number, group?: Group): MetalArray {
  checkArgCount('recv', arguments.length, 4, 'recv(shape, dtype, src, group?)');
  const g = groupOf('recv', group);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`recv: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const dt = checkDType(dtype, 'recv');
  checkRank('recv', 'src', src, g.size, g.rank);
  const out = g.engine.run({ name: 'recv', operation: 'recv', reduce: 'sum', input: null, shape, dtype: dt, peer: src, backend: defaultBackend() });
  return out as MetalArray;
}

/**
 * `recv(x.shape, x.dtype, src)`, on `x`'s backend.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const group = ma.distributed.init();
 * const buffer = ma.zeros([2], 'float32');
 * if (group.size > 1 && group.rank === 1) console.log(ma.distributed.recvLike(buffer, 0, group).tolist());
 * ```
 */
export function recvLike(x: MetalArray, src: number, group?: Group): MetalArray {
  checkArgCount('recvLike', arguments.length, 3, 'recvLike(x, src, group?)');
  const g = groupOf('recvLike', group);
  checkArray('recvLike', x);
  checkRank('recvLike', 'src', src, g.size, g.rank);
  const out = g.engine.run({ name: 'recvLike', operation: 'recv', reduce: 'sum', input: null, shape: x.shape, dtype: x.dtype, peer: src, backend: x.backend });
  return out as MetalArray;
}

/**
 * Waits until every process of `group` has called `barrier`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * ma.distributed.barrier(); // alone: returns at once
 * ```
 */
export function barrier(group?: Group): void {
  checkArgCount('barrier', arguments.length, 1, 'barrier(group?)');
  const g = groupOf('barrier', group);
  if (g.size === 1) return;
  g.engine.run({ name: 'barrier', operation: 'barrier', reduce: 'sum', input: null, shape: [], dtype: 'uint8', peer: 0, backend: 'cpu' });
}
