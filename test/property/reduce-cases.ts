/**
 * Shared pieces of the reduction, scan and matrix-product property tests: run
 * parameters, error classification, random inputs (a leaf, or a strided view of one,
 * as a graphs.ts node so the oracle, the library and the reproduction printer all
 * understand it), random axes, and the check of one library result against its bounds.
 */
import type fc from 'fast-check';
import * as R from '../reference/index.js';
import type { DType, RefArray } from '../reference/index.js';
import { type Bounds, checkBounds } from './bounds.js';
import {
  DEFAULT_PROFILE,
  type Draw,
  drawBroadcastable,
  drawShape,
  drawSlice,
  type LeafNode,
  type Node,
  pick,
  chance,
  randomValues,
  type ValueProfile,
  type ViewSpec,
} from './graphs.js';
import { libFlat, type MA, ma } from './lib-eval.js';

export const SCALE = Number(process.env.MA_PROPERTY_SCALE ?? 1);
/**
 * The seed of every property: MA_PROPERTY_SEED (with MA_PROPERTY_PATH, both printed by
 * fast-check on a failure) replays a run; MA_PROPERTY_SEED=random draws a new seed per
 * property. Unset, it is the UTC day's number: the cases change every day, and the runs of
 * one day draw the same graphs, so they find their kernels in the disk cache (a cold run
 * compiles about a thousand kernels, most of the suite's time on a 2-core machine).
 */
export const SEED: number | undefined = seedOf(process.env.MA_PROPERTY_SEED);
function seedOf(setting: string | undefined): number | undefined {
  if (setting === 'random') return undefined;
  if (setting === undefined || setting === '') return Math.floor(Date.now() / 86_400_000);
  const seed = Number(setting);
  if (!Number.isInteger(seed)) throw new Error(`MA_PROPERTY_SEED must be an integer or 'random', got '${setting}'`);
  return seed;
}
export const PATH = process.env.MA_PROPERTY_PATH;
/** MA_PROPERTY_SHRINK=1: shrink a failing case (slow: each step evaluates the library again). */
export const SHRINK = process.env.MA_PROPERTY_SHRINK === '1';
/** `n` runs scaled by MA_PROPERTY_SCALE, never fewer than `min`. */
export const runs = (n: number, min = 1): number => Math.max(min, Math.round(n * SCALE));
/**
 * fast-check parameters: the run count is enforced (a property interrupted by the time
 * limit fails instead of passing with fewer runs), and the seed is fixed by
 * MA_PROPERTY_SEED or printed with any failure.
 */
export const params = (numRuns: number, minRuns = 1): fc.Parameters<unknown> => ({
  numRuns: runs(numRuns, minRuns),
  ...(SEED === undefined ? {} : { seed: SEED }),
  ...(PATH === undefined ? {} : { path: PATH }),
  // No shrinking unless MA_PROPERTY_SHRINK=1: every shrink step re-runs the oracle's exact
  // arithmetic and compiles new kernels, so a failing case shrank until the time limit
  // (about 560 s per failing test on a loaded 2-core machine). The failure message holds
  // the whole case as code, and the seed and path replay it.
  endOnFailure: !SHRINK,
  // a property that still runs past the limit fails (best counterexample so far reported),
  // never passes with fewer runs
  interruptAfterTimeLimit: 560_000,
  markInterruptAsFailure: true,
});
/** Per-test timeout: cold kernel compiles on a loaded 2-core machine take seconds each. */
export const TIMEOUT = 600_000;

/** Runs of every per-dtype property (whatever MA_PROPERTY_SCALE says, never fewer). */
export const PER_DTYPE_RUNS = 25;

/** Runs fn and returns what it threw (or null). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (e) {
    return e;
  }
}

export function errorKind(e: unknown): string {
  if (e === null) return 'no error';
  if (e instanceof ma.DTypeError || e instanceof R.DTypeError) return 'DTypeError';
  if (e instanceof ma.ShapeError || e instanceof R.ShapeError) return 'ShapeError';
  if (e instanceof ma.ArgumentError || e instanceof R.ArgumentError) return 'ArgumentError';
  const msg = (e as Error)?.message ?? String(e);
  return `${(e as Error)?.name ?? typeof e}: ${msg.length > 400 ? `${msg.slice(0, 400)}...` : msg}`;
}

/**
 * Value profiles for reduction inputs: the elementwise default (12% NaN/±Inf/extremes,
 * so most long rows hold a NaN), a mostly finite one, and a tame one (no specials, no
 * extreme exponents) under which sums, products and softmax stay in range.
 */
export const PROFILES: readonly ValueProfile[] = [
  DEFAULT_PROFILE,
  { special: 2, small: 30, moderate: 50, wide: 18 },
  { special: 0, small: 40, moderate: 60, wide: 0 },
];

/** Axes for a reduction over an array of `rank` dims: undefined, null, one (maybe negative), or a list. */
export function drawAxes(d: Draw, rank: number): R.Axes {
  const k = d.int(0, 9);
  if (k === 0) return undefined;
  if (k === 1) return null;
  if (rank === 0) return k < 5 ? [] : undefined;
  if (k < 6) {
    const a = d.int(0, rank - 1);
    return chance(d, 30) ? a - rank : a;
  }
  const chosen = [...Array(rank).keys()].filter(() => chance(d, 50));
  // unsorted, some negative
  const list = chosen.map((a) => (chance(d, 30) ? a - rank : a));
  if (list.length > 1 && chance(d, 50)) list.reverse();
  return list;
}

/** A single axis (argmax, softmax, scans), maybe negative; undefined or null sometimes. */
export function drawAxis(d: Draw, rank: number, allowNone = true): number | null | undefined {
  const k = d.int(0, 9);
  if (allowNone && k === 0) return undefined;
  if (allowNone && k === 1) return null;
  if (rank === 0) return undefined;
  const a = d.int(0, rank - 1);
  return chance(d, 30) ? a - rank : a;
}

export function axesCode(axis: R.Axes): string {
  if (axis === undefined) return 'undefined';
  if (axis === null) return 'null';
  return typeof axis === 'number' ? String(axis) : `[${axis.join(', ')}]`;
}

export function makeLeafNode(d: Draw, dtype: DType, shape: number[], profile: ValueProfile): LeafNode {
  const values = randomValues(d.int(0, 0x7fffffff), dtype, R.sizeOf(shape), profile);
  return { kind: 'leaf', dtype, shape: [...shape], values, form: 'typed' };
}

/**
 * An input of `shape`: a contiguous leaf, or a strided view of one (a transpose, a
 * slice with steps, a flip, or a broadcast), so reductions read through strides.
 */
export function drawInput(d: Draw, dtype: DType, shape: number[], profile: ValueProfile): Node {
  const rank = shape.length;
  const kind = pick(d, ['leaf', 'leaf', 'transpose', 'slice', 'flip', 'broadcastTo'] as const);
  const wrap = (view: ViewSpec, child: number[]): Node => ({
    kind: 'view',
    view,
    x: makeLeafNode(d, dtype, child, profile),
    dtype,
    shape: [...shape],
  });
  switch (kind) {
    case 'transpose': {
      if (rank < 2) break;
      const perm = [...Array(rank).keys()];
      for (let i = rank - 1; i > 0; i--) {
        const j = d.int(0, i);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const child = new Array<number>(rank);
      perm.forEach((p, i) => {
        child[p] = shape[i];
      });
      return wrap({ op: 'transpose', axes: perm }, child);
    }
    case 'slice': {
      const { specs, childShape } = drawSlice(d, shape);
      if (R.sizeOf(childShape) > 4000) break;
      return wrap({ op: 'slice', specs }, childShape);
    }
    case 'flip':
      if (rank === 0) break;
      return wrap({ op: 'flip', axis: d.int(-rank, rank - 1) }, [...shape]);
    case 'broadcastTo':
      return wrap({ op: 'broadcastTo', shape: [...shape] }, drawBroadcastable(d, shape));
    default:
      break;
  }
  return makeLeafNode(d, dtype, shape, profile);
}

export { drawShape };

/** Checks a library result against the oracle's dtype and shape and the bounds' values. */
export function checkAgainst(what: string, got: MA, want: RefArray, b: Bounds): string | null {
  if (got.dtype !== want.dtype) return `${what}: dtype ${got.dtype}, expected ${want.dtype}`;
  const ws = R.shapeOf(want);
  if (got.shape.join(',') !== ws.join(',')) return `${what}: shape [${got.shape}], expected [${ws}]`;
  if (b.val.dtype !== want.dtype || R.shapeOf(b.val).join(',') !== ws.join(',')) {
    throw new Error(`harness bug: bounds of ${what} are ${b.val.dtype} [${R.shapeOf(b.val)}], the oracle's ${want.dtype} [${ws}]`);
  }
  const p = checkBounds(libFlat(got), b);
  return p ? `${what}: ${p}` : null;
}

/**
 * The oracle's exact values against the formula bounds, for the harness self-check: every
 * element must lie in the bounds, widened by `slackUlps` ulps of the dtype (see
 * tolerance.ts, FORMULA_SLACK_ULPS) plus `absSlack`. Returns null or a description.
 */
export function oracleWithin(what: string, want: RefArray, b: Bounds, slackUlps: number, absSlack = 0): string | null {
  const v = R.toFlat(want);
  const bv = R.toFlat(b.val);
  const lo = R.toFlat(b.lo) as number[];
  const hi = R.toFlat(b.hi) as number[];
  const nan = R.toFlat(b.nan) as number[];
  const ex = R.toFlat(b.exact) as number[];
  const dt = want.dtype;
  const bad: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const x = R.toNumber(v[i]);
    let ok: boolean;
    if (Number.isNaN(x)) ok = nan[i] === 1 || (ex[i] === 1 && Number.isNaN(R.toNumber(bv[i])));
    else {
      const [l, h] = ex[i] === 1 ? [R.toNumber(bv[i]), R.toNumber(bv[i])] : [lo[i], hi[i]];
      if (!R.isFloat(dt) || slackUlps === 0) ok = x >= l && x <= h;
      else {
        const down = Number.isFinite(l) ? l - slackUlps * R.ulp(l, dt) - absSlack : l;
        const up = Number.isFinite(h) ? h + slackUlps * R.ulp(h, dt) + absSlack : h;
        ok = (x >= down && x <= up) || (x === Number.POSITIVE_INFINITY && h >= R.maxFinite(dt)) || (x === Number.NEGATIVE_INFINITY && l <= -R.maxFinite(dt));
      }
    }
    if (!ok && bad.length < 6)
      bad.push(
        `  [${i}] oracle ${String(v[i])}, formula bounds ${ex[i] === 1 ? `exactly ${String(bv[i])}` : `[${lo[i]}, ${hi[i]}]${nan[i] ? ' or NaN' : ''}`}`,
      );
  }
  return bad.length > 0 ? `${what} (${dt}):\n${bad.join('\n')}` : null;
}
