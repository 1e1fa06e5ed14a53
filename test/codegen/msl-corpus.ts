/**
 * The kernel corpus for the MSL checks: every kernel the library makes for ops × dtypes
 * × shape classes × kernel kinds (sorts and scatters included), plus the random graphs of the property tests, each
 * planned for the metal backend (planning only, so it works on any machine) and
 * rendered as MSL. A float64 graph must instead throw DTypeError naming its op.
 */
import * as ma from '../../src/index.js';
import { DTypeError } from '../../src/errors.js';
import type { DType } from '../../src/core/dtype.js';
import { binary, unary } from '../../src/ops/elementwise.js';
import { BINARY_OPS, UNARY_OPS } from '../../src/core/vocabulary.js';
import { buildGraph, drawFromSeed } from '../property/graphs.js';
import { buildLib, disposeAll } from '../property/lib-eval.js';

/** Every dtype; float64 is expected to be refused. */
export const ALL_DTYPES: readonly DType[] = [
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float16',
  'bfloat16',
  'float32',
  'float64',
];

/** One rendered kernel of the corpus. */
export interface CorpusKernel {
  name: string;
  kind: string;
  source: string;
  /** What made it, for messages. */
  origin: string;
}

/** The corpus: unique kernels, and the graphs refused with a DTypeError (float64). */
export interface Corpus {
  kernels: CorpusKernel[];
  refused: { origin: string; message: string }[];
  /** Graphs that failed for any other reason (must stay empty). */
  failures: { origin: string; message: string }[];
}

function arr(shape: number[], dtype: DType): ma.MetalArray {
  const n = shape.reduce((p, d) => p * d, 1);
  return ma
    .arange(1, n + 1)
    .reshape(shape)
    .astype(dtype);
}

/** Shape classes an elementwise op is rendered for: which index forms its loads take. */
const SHAPE_CLASSES: Readonly<Record<string, (x: ma.MetalArray) => ma.MetalArray>> = {
  contiguous: (x) => x,
  transposed: (x) => x.T,
  'negative step': (x) => ma.slice(x, '::-1', '1:'),
  broadcast: (x) => ma.broadcastTo(ma.slice(x, '0:1'), [3, 5]),
  concatenated: (x) => ma.concatenate([x, ma.slice(x, ':', '0:2')], 1),
  'reshape of a transpose': (x) => x.T.reshape([-1]),
};

/** The library cases: [origin, build]. A build may throw DTypeError for an op that rejects a dtype. */
export function* libraryCases(): Generator<[string, () => ma.MetalArray]> {
  for (const d of ALL_DTYPES) {
    for (const [cls, view] of Object.entries(SHAPE_CLASSES)) {
      for (const op of UNARY_OPS) yield [`${op}(${d}, ${cls})`, () => unary(op, view(arr([3, 5], d)))];
      for (const op of BINARY_OPS) {
        yield [`${op}(${d}, ${cls})`, () => binary(op, view(arr([3, 5], d)), view(arr([3, 5], d).add(1)))];
      }
    }
    for (const op of BINARY_OPS) yield [`${op}(${d}, js scalar)`, () => binary(op, arr([3, 5], d), 3)];
    yield [`where(${d})`, () => ma.where(arr([3, 5], d).greater(4), arr([3, 5], d), arr([5], d))];
    for (const to of ALL_DTYPES) yield [`astype(${d} → ${to})`, () => arr([3, 5], d).T.astype(to)];

    const reductions: Record<string, (x: ma.MetalArray, axis: number | number[] | undefined) => ma.MetalArray> = {
      sum: (x, a) => ma.sum(x, a),
      prod: (x, a) => ma.prod(x, a),
      max: (x, a) => ma.max(x, a),
      min: (x, a) => ma.min(x, a),
      argmax: (x, a) => ma.argmax(x, typeof a === 'number' ? a : undefined),
      argmin: (x, a) => ma.argmin(x, typeof a === 'number' ? a : undefined),
      any: (x, a) => ma.any(x, a),
      all: (x, a) => ma.all(x, a),
      mean: (x, a) => ma.mean(x, a),
      variance: (x, a) => ma.var(x, a),
      std: (x, a) => ma.std(x, a),
      logsumexp: (x, a) => ma.logsumexp(x, a),
      countNonzero: (x, a) => ma.countNonzero(x, a),
      softmax: (x, a) => ma.softmax(x, a ?? -1),
      logSoftmax: (x, a) => ma.logSoftmax(x, a ?? -1),
      'x - mean (epilogue)': (x, a) => x.astype('float32').subtract(ma.mean(x, a, true)),
    };
    const axes: Record<string, [number[], number | number[] | undefined]> = {
      row: [[4, 70], -1],
      column: [[70, 4], 0],
      full: [[9, 11], undefined],
      'middle of 3-d': [[3, 40, 2], 1],
      'two axes': [
        [3, 4, 5],
        [0, 2],
      ],
    };
    for (const [op, f] of Object.entries(reductions)) {
      for (const [cls, [shape, axis]] of Object.entries(axes)) yield [`${op}(${d}, ${cls})`, () => f(arr(shape, d), axis)];
    }
    const scans = { cumsum: ma.cumsum, cumprod: ma.cumprod, cummax: ma.cummax, cummin: ma.cummin };
    for (const [op, scan] of Object.entries(scans)) {
      yield [`${op}(${d}, last axis)`, () => scan(arr([4, 9], d), -1)];
      yield [`${op}(${d}, first axis, reversed exclusive)`, () => scan(arr([4, 9], d), 0, true, false)];
    }
    yield [`sort(${d}, last axis)`, () => ma.sort(arr([4, 9], d).multiply(arr([9], d)))];
    yield [`argsort(${d}, first axis)`, () => ma.argsort(arr([9, 4], d), 0)];
    yield [`topk(${d})`, () => ma.topk(arr([4, 9], d), 3)[0]];
    for (const how of ['set', 'add', 'multiply', 'min', 'max'] as const) {
      yield [
        `at().${how}(${d}, repeated indices)`,
        () =>
          arr([4, 9], d)
            .add(arr([9], d))
            .at(ma.array([1, 3, 1], 'int32'), '::2')
            [how](arr([3, 5], d)),
      ];
    }
    yield [`putAlongAxis(${d})`, () => ma.putAlongAxis(arr([4, 9], d), ma.zeros([4, 2], 'int32'), arr([4, 2], d), 1)];
    yield [`take(${d}, gathered indices)`, () => ma.take(arr([4, 9], d), ma.array([2, -1, 0], 'int32'), 1)];
    yield [`takeAlongAxis(${d})`, () => ma.takeAlongAxis(arr([4, 9], d), ma.zeros([4, 3], 'int32'), 1)];
    yield [`pad(${d}, reflect)`, () => ma.pad(arr([4, 9], d), [1, 2], 'reflect')];
    yield [`roll, tril, tile(${d})`, () => ma.tile(ma.tril(ma.roll(arr([4, 9], d), 2, 1)), [2, 1])];
    yield [`matmul(${d}, 2-d)`, () => ma.matmul(arr([9, 13], d), arr([13, 70], d))];
    yield [`matmul(${d}, batched, transposed)`, () => ma.matmul(arr([2, 5, 9], d), arr([2, 7, 9], d).transpose([0, 2, 1]))];
    yield [`matmul(${d}, vector)`, () => ma.matmul(arr([9], d), arr([9, 4], d))];
    yield [
      `matmul(${d}, relu(a@b + bias))`,
      () =>
        ma
          .matmul(arr([9, 13], d), arr([13, 6], d))
          .add(arr([6], d))
          .relu(),
    ];
  }
}

/** Builds the corpus: library cases plus `randomGraphs` graphs of the property tests. */
export function buildCorpus(randomGraphs: number): Corpus {
  const corpus: Corpus = { kernels: [], refused: [], failures: [] };
  const seen = new Set<string>();
  const add = (origin: string, build: () => ma.MetalArray | ma.MetalArray[]): void => {
    let out: ma.MetalArray | ma.MetalArray[];
    try {
      out = build();
    } catch (err) {
      if (err instanceof DTypeError) return; // the op rejects the dtype on every backend
      throw err;
    }
    try {
      for (const k of ma.kernelSources(out, 'metal')) {
        if (seen.has(k.name)) continue;
        seen.add(k.name);
        corpus.kernels.push({ name: k.name, kind: k.kind, source: k.source, origin });
      }
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof DTypeError && /float64/.test(message)) corpus.refused.push({ origin, message });
      else corpus.failures.push({ origin, message: `${(err as Error).name}: ${message}` });
    }
  };
  ma.tidy(() => {
    for (const [origin, build] of libraryCases()) add(origin, build);
    // Random numbers are generated inside kernels (counter-based, threefry).
    const key = ma.random.key(7);
    add('random.uniform', () => ma.random.uniform(key, [5, 7]));
    add('random.normal(float16)', () => ma.random.normal(key, [64], 'float16'));
    add('random.randint', () => ma.random.randint(key, [3, 3], -5, 9));
    add('random.bernoulli', () => ma.random.bernoulli(key, 0.3, [10]));
  });
  for (let seed = 1; seed <= randomGraphs; seed++) {
    const created: ma.MetalArray[] = [];
    try {
      const g = buildGraph(drawFromSeed(seed));
      add(`property graph seed ${seed}`, () => buildLib(g.root, created));
    } finally {
      disposeAll(created);
    }
  }
  return corpus;
}
