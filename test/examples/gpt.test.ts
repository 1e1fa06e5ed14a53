// The GPT example (examples/gpt) on a small slice of its text with tiny dimensions: the
// loss falls, a run stopped and resumed from its checkpoint repeats the uninterrupted
// run's losses exactly, and a NaN loss stops training and keeps the last good checkpoint.
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointIteration, loadCheckpoint, readCheckpointMeta } from '../../examples/gpt/checkpoint.js';
import { GPT } from '../../examples/gpt/model.js';
import { GptOptimizer, learningRateSchedule } from '../../examples/gpt/optimizer.js';
import { CPU_CONFIG, type TrainConfig, parseConfig } from '../../examples/gpt/config.js';
import { type TrainResult, modelConfigOf, train } from '../../examples/gpt/train.js';
import * as ma from '../../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'ma-gpt-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// nanoGPT's CPU configuration (learning rate, betas, weight decay, clipping, schedule shape)
// shrunk: 2 layers of 16 dims, context 16, batch 8, 30 iterations on 20,000 characters.
function tinyConfig(outDir: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    ...CPU_CONFIG,
    nLayer: 2,
    nHead: 2,
    nEmbd: 16,
    blockSize: 16,
    batchSize: 8,
    maxChars: 20_000,
    maxIters: 30,
    decayIters: 30,
    warmupIters: 5,
    learningRate: 1e-2,
    evalInterval: 10,
    evalIters: 2,
    logInterval: 10,
    outDir,
    ...overrides,
  };
}

function quietRun(config: TrainConfig, stopAfter?: number): { result: TrainResult; log: string } {
  let log = '';
  const sink = { isTTY: false, write: (t: string) => void (log += t) };
  const result = train(config, { sink, stopAfter, skipSample: true });
  return { result, log };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('examples/gpt', () => {
  let uninterrupted: TrainResult;

  it('trains: the loss falls and the run checkpoints with a loss chart', { timeout: 300_000 }, () => {
    const dir = join(root, 'straight');
    const { result, log } = quietRun(tinyConfig(dir));
    uninterrupted = result;
    expect(result.status).toBe('done');
    expect(result.history.train).toHaveLength(30);
    expect(mean(result.history.train.slice(-5))).toBeLessThan(mean(result.history.train.slice(0, 5)) - 0.3);
    const evals = result.history.evals;
    expect(evals.map((e) => e.iter)).toEqual([0, 10, 20, 30]);
    expect(evals[3].val).toBeLessThan(evals[0].val - 0.3);
    expect(log).toMatch(/step 30: train loss \d\.\d{4}, val loss \d\.\d{4}/);
    expect(log).toMatch(/iter 30\/30 loss \d\.\d{4} .* tok\/s ETA/);
    expect(checkpointIteration(dir)).toBe(30);
    const svg = readFileSync(join(dir, 'loss.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(8); // 4 evaluations, train and validation
  });

  it('a run stopped at iteration 13 and resumed repeats the uninterrupted run exactly', { timeout: 300_000 }, () => {
    const dir = join(root, 'resumed');
    const first = quietRun(tinyConfig(dir), 13);
    expect(first.result.status).toBe('stopped');
    expect(first.log).toContain('stopped at iteration 13');
    const optimizer = new GptOptimizer(tinyConfig(dir));
    const model = new GPT(modelConfigOf(tinyConfig(dir), readCheckpointMeta(dir).vocabulary.length), ma.random.key(99));
    const meta = loadCheckpoint(dir, model, optimizer);
    expect(meta.iteration).toBe(13);
    expect(optimizer.step).toBe(13);
    // nanoGPT's split: the 2-D weights in the decayed AdamW group, the LayerNorm scales in the other.
    expect(ma.treeFlatten(optimizer.decayed.state.m as ma.ArrayTree).map(([p]) => p)).toContain('blocks.1.attn.qkv.weight');
    expect(ma.treeFlatten(optimizer.undecayed.state.m as ma.ArrayTree).map(([p]) => p)).toEqual([
      'blocks.0.ln1.weight',
      'blocks.0.ln2.weight',
      'blocks.1.ln1.weight',
      'blocks.1.ln2.weight',
      'lnF.weight',
    ]);
    // Weights from another checkpoint (a crash between the files) are refused, not mixed in.
    const torn = join(root, 'torn');
    cpSync(dir, torn, { recursive: true });
    copyFileSync(join(root, 'straight', 'model.safetensors'), join(torn, 'model.safetensors'));
    expect(() => loadCheckpoint(torn, model, new GptOptimizer(tinyConfig(torn)))).toThrow(/checkpoint in .*torn is torn: model.safetensors is not the file/);
    const second = quietRun(tinyConfig(dir, { resume: true }));
    expect(second.log).toContain('resumed from');
    expect(second.result.status).toBe('done');
    expect(second.result.history.train).toEqual(uninterrupted.history.train);
    expect(second.result.history.evals).toEqual(uninterrupted.history.evals);
  });

  it('a NaN loss stops training, names the iteration and keeps the last good checkpoint', { timeout: 300_000 }, () => {
    const dir = join(root, 'nan');
    quietRun(tinyConfig(dir), 5);
    const before = readFileSync(join(dir, 'model.safetensors'));
    // A learning rate of 1e30 (no clipping) overflows the weights within a step or two.
    const { result, log } = quietRun(tinyConfig(dir, { resume: true, learningRate: 1e30, minLearningRate: 1e30, gradClip: 0, evalInterval: 1000 }));
    expect(result.status).toBe('nan');
    expect(result.iteration).toBeGreaterThan(5);
    expect(log).toContain(`NaN loss at iteration ${result.iteration}: training stopped; the last good checkpoint (iteration 5) in ${dir} is kept`);
    expect(checkpointIteration(dir)).toBe(5);
    expect(readFileSync(join(dir, 'model.safetensors')).equals(before)).toBe(true);
  });

  it("the model: nanoGPT's initialization, dropout from the step's key, none in evaluation mode", () => {
    const config = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 64, dropout: 0.5 };
    const model = new GPT(config, ma.random.key(5));
    const std = (a: ma.MetalArray): number => Math.sqrt(ma.mean(a.square()).item() as number);
    expect(std(model.blocks[0].mlp.fc.weight)).toBeCloseTo(0.02, 2);
    expect(std(model.blocks[1].attn.proj.weight)).toBeCloseTo(0.01, 2); // 0.02 / sqrt(2 · 2 layers)
    expect(std(model.blocks[1].mlp.proj.weight)).toBeCloseTo(0.01, 2);
    expect(model.lnF.weight?.tolist()).toEqual(new Array(64).fill(1));
    expect(model.lnF.bias).toBeUndefined();
    const idx = ma.array([[1, 2, 3, 4, 5, 6, 7, 8]]);
    const a = model.forward(idx, ma.random.key(1)).tolist();
    expect(model.forward(idx, ma.random.key(1)).tolist()).toEqual(a);
    expect(model.forward(idx, ma.random.key(2)).tolist()).not.toEqual(a);
    model.eval();
    const clean = model.forward(idx).tolist();
    expect(model.forward(idx, ma.random.key(1)).tolist()).toEqual(clean);
    expect(clean).not.toEqual(a);
  });

  it("the learning rate follows nanoGPT's get_lr (warmup, cosine decay, floor)", () => {
    const c = CPU_CONFIG; // lr 1e-3, min 1e-4, warmup 100, decay over 2000
    const getLr = (it: number): number => {
      if (it < c.warmupIters) return (c.learningRate * (it + 1)) / (c.warmupIters + 1);
      if (it > c.decayIters) return c.minLearningRate;
      const ratio = (it - c.warmupIters) / (c.decayIters - c.warmupIters);
      return c.minLearningRate + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (c.learningRate - c.minLearningRate);
    };
    const schedule = learningRateSchedule(c);
    for (const it of [0, 1, 50, 99, 100, 101, 1050, 1999, 2000, 2500]) expect(schedule(it)).toBeCloseTo(getLr(it), 15);
    expect(schedule(1050)).toBeCloseTo(5.5e-4, 15);
  });

  it('the command line: presets, overrides, and clear errors', () => {
    const cpu = parseConfig(['--config', 'cpu']);
    expect(cpu).toMatchObject({ nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, batchSize: 12, maxIters: 2000, dropout: 0 });
    const gpu = parseConfig(['--config', 'gpu', '--max-iters', '300', '--out-dir', join(root, 'g')]);
    expect(gpu).toMatchObject({ nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256, batchSize: 64, dropout: 0.2, maxIters: 300, decayIters: 300 });
    expect(parseConfig(['--help'])).toBe('help');
    expect(() => parseConfig(['--config', 'tpu'])).toThrow(/--config must be cpu or gpu, got 'tpu'/);
    expect(() => parseConfig(['--n-embd', '130'])).toThrow(/nEmbd \(130\) must be a multiple of nHead \(4\)/);
    expect(() => parseConfig(['--lr', 'fast'])).toThrow(/--lr must be a number, got 'fast'/);
    expect(() => parseConfig(['--bogus'])).toThrow(/bogus/);
    expect(() => train(tinyConfig(join(root, 'none'), { resume: true }))).toThrow(/--resume: no checkpoint in .*none/);
    expect(existsSync(join(root, 'none'))).toBe(false);
  });
});
