/**
 * compile over random graphs (the combining graphs of test/property: reductions,
 * softmax, scans, products and gathers anywhere, with elementwise ops, casts, views and
 * joins around them). Every leaf of the graph is an argument of the compiled function;
 * it is called with the leaves' values and with two sets of new values (the values
 * rotated), and each result must equal the uncompiled graph's bit for bit. A graph the
 * library rejects must be rejected with the same error class when compiled.
 *
 * Runs scale with MA_PROPERTY_SCALE; MA_PROPERTY_SEED (and MA_PROPERTY_PATH) replay a
 * failure, whose message holds the graph as code.
 */
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { combiningGraphArb } from '../property/graph-suites.js';
import { type LeafNode, type Node, toCode, topoOrder } from '../property/graphs.js';
import { buildLib, disposeAll, type MA, ma, makeLeaf } from '../property/lib-eval.js';
import { errorKind, params, TIMEOUT, thrown } from '../property/reduce-cases.js';

const RUNS_PER_DTYPE = 10;

/** The leaf with its values rotated by `by` (the same dtype, shape and value domain). */
function rotated(leaf: LeafNode, by: number): LeafNode {
  const n = leaf.values.length;
  const k = n === 0 ? 0 : by % n;
  return { ...leaf, values: [...leaf.values.slice(k), ...leaf.values.slice(0, k)] };
}

/** The stored bits of an array, as numbers (NaN payloads and signed zeros included). */
function storedBits(a: MA): string {
  const raw = a.storageBits();
  return Array.from(raw as ArrayLike<number | bigint>, String).join(',');
}

function checkCompiled(root: Node): string | null {
  const leaves = topoOrder(root).filter((n): n is LeafNode => n.kind === 'leaf');
  const created: MA[] = [];
  const build = (...xs: MA[]): MA => buildLib(root, created, new Map<Node, MA>(leaves.map((l, i) => [l, xs[i] as MA])));
  const compiled = ma.compile(build);
  try {
    for (let call = 0; call < 3; call++) {
      const inputs = leaves.map((l) => makeLeaf(rotated(l, call), created));
      let want: MA | null = null;
      const wantErr = thrown(() => {
        want = build(...inputs);
        ma.eval(want);
      });
      let got: MA | null = null;
      const gotErr = thrown(() => {
        got = compiled(...inputs);
        created.push(got);
      });
      if (wantErr !== null || gotErr !== null) {
        if (errorKind(wantErr) !== errorKind(gotErr)) return `call ${call}: uncompiled ${errorKind(wantErr)}, compiled ${errorKind(gotErr)}`;
        continue;
      }
      const g = got as unknown as MA;
      const w = want as unknown as MA;
      if (g.dtype !== w.dtype || g.shape.join() !== w.shape.join())
        return `call ${call}: compiled gave ${g.dtype}[${g.shape}], uncompiled ${w.dtype}[${w.shape}]`;
      const gb = storedBits(g);
      const wb = storedBits(w);
      if (gb !== wb) return `call ${call}: compiled bits ${gb.slice(0, 200)} differ from uncompiled ${wb.slice(0, 200)}`;
    }
    return null;
  } finally {
    disposeAll(created);
  }
}

afterAll(() => {
  ma.clearCompileCache();
});

describe('compile of random graphs equals the uncompiled graph, bit for bit, for new inputs', () => {
  it.each(['float32', 'int32'] as const)(
    '%s graphs',
    (dtype) => {
      const counter = { k: 0 };
      fc.assert(
        fc.property(combiningGraphArb(dtype, counter), (c) => {
          const problem = checkCompiled(c.root);
          if (problem !== null) throw new Error(`${problem}\nrepro (depth ${c.depth}):\n${toCode(c.root)}`);
        }),
        params(RUNS_PER_DTYPE, RUNS_PER_DTYPE),
      );
    },
    TIMEOUT,
  );
});
