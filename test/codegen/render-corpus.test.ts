/**
 * Rendered kernels stay byte-identical across refactors of the code generators: the
 * library corpus (every op × dtype × shape class × kernel kind of msl-corpus.ts, plus
 * matmuls large enough for the tiled, mma, wgmma and simdgroup kernels) is planned for
 * each dialect — C (cpu), CUDA for sm_80 and for Hopper (sm_90a), and MSL — and every
 * kernel's source, and each backend's prelude, is hashed and compared with the committed
 * snapshot `render-corpus.snapshot.json`.
 *
 * A change that is meant to alter generated code regenerates the snapshot with
 * `UPDATE_RENDER_CORPUS=1 npx vitest run test/codegen/render-corpus.test.ts` and says why
 * in its commit. On a mismatch the test names the cases whose kernels changed; dump both
 * versions' sources with `RENDER_CORPUS_DUMP=<dir>` to diff them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { C_PRELUDE } from '../../src/codegen/c-prelude.js';
import { CUDA_PRELUDE } from '../../src/codegen/cuda.js';
import { MSL_PRELUDE } from '../../src/codegen/msl.js';
import { DTypeError } from '../../src/errors.js';
import { CUDA_TARGETS, CudaPlanner, cudaSourcesFor } from '../support/cuda-planner.js';
import { libraryCases } from './msl-corpus.js';

const SNAPSHOT = join(__dirname, 'render-corpus.snapshot.json');

interface Snapshot {
  preludes: Record<string, string>;
  /** Per dialect, the sorted unique hashes of every kernel's name and source. */
  kernels: Record<string, string[]>;
}

type Render = (out: ma.MetalArray) => readonly { name: string; source: string }[];

const sha = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

function arr(shape: number[], dtype: ma.DType): ma.MetalArray {
  const n = shape.reduce((p, d) => p * d, 1);
  return ma.arange(n).reshape(shape).astype(dtype).multiply(0.01).astype(dtype);
}

/** Library cases plus what they lack: matmuls past the tile sizes, nested reductions, a product feeding a scan. */
function* corpusCases(): Generator<[string, () => ma.MetalArray]> {
  yield* libraryCases();
  for (const d of ['float16', 'bfloat16', 'float32', 'float64'] as const) {
    yield [`matmul(${d}, 256x128 @ 128x192)`, () => ma.matmul(arr([256, 128], d), arr([128, 192], d))];
    yield [`matmul(${d}, batched 4x130x70 @ 70x66 + bias, gelu)`, () => ma.gelu(ma.matmul(arr([4, 130, 70], d), arr([70, 66], d)).add(arr([66], d)))];
    yield [`matmul(${d}) feeding cumsum`, () => ma.cumsum(ma.matmul(arr([9, 13], d), arr([13, 6], d)), 0)];
    yield [`sum of a max over a size-1 axis (${d})`, () => ma.sum(ma.exp(ma.max(ma.expandDims(arr([3], d), -1), 1)))];
    yield [`sum over a broadcast axis, then sum (${d})`, () => ma.sum(ma.sum(ma.broadcastTo(ma.expandDims(arr([3], d), 0), [4, 3]), 0).exp())];
    yield [`long row reduction (${d})`, () => ma.logsumexp(arr([3, 5000], d), -1)];
  }
}

const dialects: Record<string, Render> = {
  c: (out) => ma.kernelSources(out, 'cpu'),
  msl: (out) => ma.kernelSources(out, 'metal'),
  ...Object.fromEntries(
    CUDA_TARGETS.map((t) => {
      const planner = new CudaPlanner(t.dialect);
      return [`cuda-${t.arch}`, (out: ma.MetalArray) => cudaSourcesFor([out], planner)] as const;
    }),
  ),
};

/** The float32 products again with TF32 allowed: the tensor-core kernels (tf32 on sm_80, wgmma on sm_90a). */
function* tf32Cases(): Generator<[string, () => ma.MetalArray]> {
  for (const [origin, build] of corpusCases()) if (origin.startsWith('matmul(float32')) yield [`${origin}, tf32`, build];
}

/** Renders the corpus on every dialect: per dialect, kernel hash → the first case that made it. */
function renderCorpus(dump?: string): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>(Object.keys(dialects).map((d) => [d, new Map()]));
  if (dump) for (const d of Object.keys(dialects)) mkdirSync(join(dump, d), { recursive: true });
  renderCases(corpusCases(), result, dump);
  ma.setMatmulPrecision('tf32');
  try {
    renderCases(tf32Cases(), result, dump);
  } finally {
    ma.setMatmulPrecision('highest');
  }
  return result;
}

function renderCases(cases: Iterable<[string, () => ma.MetalArray]>, result: Map<string, Map<string, string>>, dump?: string): void {
  ma.tidy(() => {
    for (const [origin, build] of cases) {
      let out: ma.MetalArray;
      try {
        out = build();
      } catch (err) {
        if (err instanceof DTypeError) continue; // the op rejects the dtype everywhere
        throw err;
      }
      for (const [dialect, render] of Object.entries(dialects)) {
        let kernels: readonly { name: string; source: string }[];
        try {
          kernels = render(out);
        } catch (err) {
          if (err instanceof DTypeError) continue; // e.g. float64 on Metal
          throw err;
        }
        const seen = result.get(dialect) as Map<string, string>;
        for (const k of kernels) {
          const hash = sha(`${k.name}\n${k.source}`);
          if (seen.has(hash)) continue;
          seen.set(hash, origin);
          if (dump) writeFileSync(join(dump, dialect, `${hash}.txt`), `// ${origin}\n// ${k.name}\n${k.source}`);
        }
      }
    }
  });
}

describe('rendered kernels (byte-identical to the snapshot)', () => {
  it('every dialect renders the corpus exactly as the snapshot records', { timeout: 600_000 }, () => {
    const rendered = renderCorpus(process.env.RENDER_CORPUS_DUMP);
    const current: Snapshot = {
      preludes: { c: sha(C_PRELUDE), cuda: sha(CUDA_PRELUDE), msl: sha(MSL_PRELUDE) },
      kernels: Object.fromEntries([...rendered].map(([d, m]) => [d, [...m.keys()].sort()])),
    };
    for (const [d, hashes] of Object.entries(current.kernels)) expect(hashes.length, `${d} renders kernels`).toBeGreaterThan(1000);
    if (process.env.UPDATE_RENDER_CORPUS === '1') {
      writeFileSync(SNAPSHOT, `${JSON.stringify(current, null, 0).replace(/\],"/g, '],\n"')}\n`);
      return;
    }
    const snapshot = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as Snapshot;
    expect(current.preludes).toEqual(snapshot.preludes);
    for (const [dialect, seen] of rendered) {
      const before = new Set(snapshot.kernels[dialect] ?? []);
      const changed = [...seen].filter(([hash]) => !before.has(hash)).map(([, origin]) => origin);
      const missing = before.size - [...seen.keys()].filter((h) => before.has(h)).length;
      expect({ dialect, changed: [...new Set(changed)].slice(0, 20), missing }).toEqual({ dialect, changed: [], missing: 0 });
    }
  });
});
