/**
 * Bounds of the combining graph nodes (graph-combine.ts) for evalBounds: reductions,
 * softmax and scans through reduce-bounds.ts (which take inexact operands), gathers by
 * gathering the operand's bounds, and matrix products through the contraction bounds
 * when both operands are exact (leaves and views of them). A product of inexact
 * operands only has its dtype and shape checked (every element may be any value of the
 * dtype): the contraction bounds need exact terms.
 */
import * as R from '../reference/index.js';
import type { RefArray } from '../reference/index.js';
import { type Abs, type Bounds, exactAbs, finish, fullRange, hull, interval, mapBounds } from './bounds.js';
import { avsOf } from './reduce-bounds.js';
import { sameValue } from './tolerance.js';
import { type CombiningNode, indexRef, type Node } from './graphs.js';
import { contractionBounds, reduceBounds, scanBounds } from './reduce-bounds.js';

function allExact(b: Bounds): boolean {
  return (R.toFlat(b.exact) as number[]).every((e) => e === 1);
}

/**
 * The bounds of node `n` with the oracle's value `val`: the formula bounds of
 * reduce-bounds.ts carry the formula's value (mean, var, softmax, ... step by step),
 * which may differ from the oracle's exactly rounded one. Downstream nodes are computed
 * from the oracle's values, so where the two differ the element's bounds are widened to
 * hold both (a library value is still checked against the formula's interval).
 */
export function combineBounds(n: CombiningNode, get: (x: Node) => Bounds, val: RefArray): Bounds {
  const b = formulaBounds(n, get, val);
  if (b.val.dtype !== val.dtype || R.shapeOf(b.val).join(',') !== R.shapeOf(val).join(',')) {
    throw new Error(`harness bug: bounds of ${n.kind} are ${b.val.dtype} [${R.shapeOf(b.val)}], the oracle's ${val.dtype} [${R.shapeOf(val)}]`);
  }
  const want = R.toFlat(val);
  let same = true;
  const abs = avsOf(b).map((x, i): Abs => {
    if (sameValue(x.v, want[i])) return x.a;
    same = false;
    const o = R.toNumber(want[i]);
    const f = R.toNumber(x.v);
    const a = x.a.exact ? exactAbs(x.v) : x.a;
    const oracle = Number.isNaN(o) ? interval(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, true) : interval(o, o, false);
    return hull(hull(a, oracle), Number.isNaN(f) ? interval(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, true) : interval(f, f, false));
  });
  return same ? b : finish(val, abs, `${n.kind} (oracle and formula values)`);
}

function formulaBounds(n: CombiningNode, get: (x: Node) => Bounds, val: RefArray): Bounds {
  switch (n.kind) {
    case 'reduce': {
      const x = get(n.x);
      switch (n.op) {
        case 'argmax':
        case 'argmin': {
          const axis = n.axis === null || n.axis === undefined ? null : typeof n.axis === 'number' ? n.axis : n.axis[0];
          return reduceBounds[n.op](x, axis, n.keepdims);
        }
        case 'var':
        case 'std':
          return reduceBounds[n.op](x, n.axis, n.keepdims, n.ddof);
        case 'norm':
          return reduceBounds.norm(x, n.ord, n.axis, n.keepdims);
        default:
          return reduceBounds[n.op](x, n.axis, n.keepdims);
      }
    }
    case 'softmax':
      return reduceBounds[n.op](get(n.x), n.axis);
    case 'scan':
      return scanBounds(n.op, get(n.x), n.axis, n.reverse, n.inclusive);
    case 'take':
      return mapBounds(get(n.x), (a) => R.indexing.take(a, indexRef(n), n.axis));
    case 'matmul': {
      const a = get(n.a);
      const b = get(n.b);
      if (allExact(a) && allExact(b)) return contractionBounds(R.matmulContraction(a.val, b.val));
      const any = fullRange(val.dtype);
      return finish(
        val,
        R.toFlat(val).map(() => any),
        'matmul of inexact operands',
      );
    }
  }
}
