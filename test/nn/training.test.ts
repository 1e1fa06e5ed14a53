/**
 * The pieces together: a tiny causal language model (token and position embeddings, a
 * pre-LayerNorm block of causal multi-head attention and a GELU MLP, dropout, the output
 * tied to the embedding) trained with nn.valueAndGrad and plain SGD on a repeating
 * sequence. The loss must fall well below its start, and a model loaded from the saved
 * weights must give the same loss.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';

type M = ma.MetalArray;

const dir = mkdtempSync(join(tmpdir(), 'nn-training-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VOCAB = 8;
const DIMS = 16;
const CONTEXT = 8;

class TinyLm extends ma.nn.Module {
  tokens: ma.nn.Embedding;
  positions: ma.nn.Embedding;
  norm1 = new ma.nn.LayerNorm(DIMS);
  attention: ma.nn.MultiHeadAttention;
  norm2 = new ma.nn.LayerNorm(DIMS);
  mlp: ma.nn.Sequential;
  drop: ma.nn.Dropout;
  normOut = new ma.nn.LayerNorm(DIMS);

  constructor(seed: number) {
    super();
    const keys = new ma.nn.KeyStream(seed);
    this.tokens = new ma.nn.Embedding(VOCAB, DIMS, { key: keys.next() });
    this.positions = new ma.nn.Embedding(CONTEXT, DIMS, { key: keys.next() });
    this.attention = new ma.nn.MultiHeadAttention(DIMS, 2, { bias: true, key: keys.next() });
    this.mlp = new ma.nn.Sequential(
      new ma.nn.Linear(DIMS, 4 * DIMS, { key: keys.next() }),
      new ma.nn.GELU({ approximate: 'tanh' }),
      new ma.nn.Linear(4 * DIMS, DIMS, { key: keys.next() }),
    );
    this.drop = new ma.nn.Dropout(0.1, { key: keys.next() });
  }

  forward(ids: M): M {
    const t = ids.shape[1] as number;
    let x = this.tokens.forward(ids).add(this.positions.forward(ma.arange(t)));
    const h = this.norm1.forward(x);
    x = x.add(this.drop.forward(this.attention.forward(h, h, h, { causal: true })));
    x = x.add(this.drop.forward(this.mlp.forward(this.norm2.forward(x))));
    return this.tokens.asLinear(this.normOut.forward(x));
  }
}

describe('a tiny causal language model', () => {
  it('trains (the loss falls) and reloads from its weights', () => {
    // Sequences of a repeating pattern: each token determines the next.
    const pattern = [0, 3, 1, 4, 1, 5, 2, 6, 7];
    const rows = [0, 2, 4, 6].map((s) => Array.from({ length: CONTEXT + 1 }, (_, i) => pattern[(s + i) % pattern.length] as number));
    const data = ma.array(rows, 'int32');
    const inputs = data.slice(':', ':-1');
    const targets = data.slice(':', '1:');

    const model = new TinyLm(0);
    const lossFn = (x: M, y: M) => ma.nn.crossEntropy(model.forward(x), y);
    const step = ma.nn.valueAndGrad(model, lossFn);
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const [loss, grads] = step(inputs, targets);
      model.update(ma.treeMap((p, g) => p.subtract(g.multiply(0.3)), model.trainableParameters(), grads));
      ma.eval(...ma.treeFlatten(model.parameters()).map(([, p]) => p), loss);
      losses.push(loss.item() as number);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1) as number).toBeLessThan((losses[0] as number) / 2);

    model.eval();
    const file = model.saveWeights(join(dir, 'tiny.safetensors'));
    const reloaded = new TinyLm(1).loadWeights(file).eval();
    const a = ma.nn.crossEntropy(model.forward(inputs), targets).item() as number;
    const b = ma.nn.crossEntropy(reloaded.forward(inputs), targets).item() as number;
    expect(b).toBe(a);
  }, 600_000);
});
