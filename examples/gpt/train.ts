/**
 * The training run: data, model, AdamW with warmup and cosine decay, gradient clipping,
 * evaluation every `evalInterval` iterations, checkpoints, resume, the NaN guard, the loss
 * chart and the final sample. `main.ts` is the command line around it; the test calls it
 * directly.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ma from '../../src/index.js';
import { lossChartSvg } from './chart.js';
import {
  type CheckpointMeta,
  type LossHistory,
  checkpointExists,
  checkpointIteration,
  loadCheckpoint,
  readCheckpointMeta,
  saveCheckpoint,
} from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { type CharTokenizer, type Dataset, getBatch, loadDataset } from './data.js';
import { GPT, type ModelConfig } from './model.js';
import { GptOptimizer } from './optimizer.js';
import { Progress, type ProgressSink } from './progress.js';

export interface TrainOptions {
  /** Where progress and messages go (default: process.stdout). */
  sink?: ProgressSink;
  /** Stop after this many iterations of this invocation (checkpointing there), as if interrupted. */
  stopAfter?: number;
  /** Skip the final text sample. */
  skipSample?: boolean;
}

export interface TrainResult {
  status: 'done' | 'stopped' | 'nan';
  /** The next iteration to run (maxIters when done). */
  iteration: number;
  history: LossHistory;
  /** Average training throughput of this invocation. */
  tokensPerSecond: number;
  sample?: string;
}

// Evaluation batches come from their own key stream, so evaluating never moves the training key.
const EVAL_STREAM = 0x65766131;

/** The model's config for a run's config and vocabulary. */
export function modelConfigOf(c: TrainConfig, vocabSize: number): ModelConfig {
  return { vocabSize, blockSize: c.blockSize, nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd, dropout: c.dropout };
}

function stdoutSink(): ProgressSink {
  return { isTTY: process.stdout.isTTY === true, columns: process.stdout.columns, write: (t) => process.stdout.write(t) };
}

/** Runs `fn` with `model` in evaluation mode (no dropout), then back in training mode. */
function inEvalMode<T>(model: GPT, fn: () => T): T {
  model.eval();
  try {
    return fn();
  } finally {
    model.train();
  }
}

/** nanoGPT's estimate_loss: mean loss over `evalIters` batches of each split, without dropout. */
function estimateLoss(model: GPT, data: Dataset, c: TrainConfig, iter: number): { train: number; val: number } {
  return inEvalMode(model, () => estimateLossOf(model, data, c, iter));
}

function estimateLossOf(model: GPT, data: Dataset, c: TrainConfig, iter: number): { train: number; val: number } {
  const out = { train: 0, val: 0 };
  const base = ma.random.foldIn(ma.random.key(c.seed), EVAL_STREAM);
  (['train', 'val'] as const).forEach((split, s) => {
    let total = 0;
    for (let k = 0; k < c.evalIters; k++) {
      total += ma.tidy(() => {
        const key = ma.random.foldIn(ma.random.foldIn(base, iter * 2 + s), k);
        const [x, y] = getBatch(data[split], c.batchSize, c.blockSize, key);
        return ma.nn.crossEntropy(model.forward(x), y).item() as number;
      });
    }
    out[split] = total / c.evalIters;
  });
  base.dispose();
  return out;
}

/** `count` characters sampled after a newline, at `temperature`, one forward pass per character. */
export function sampleText(model: GPT, tokenizer: CharTokenizer, key: ma.MetalArray, count: number, temperature: number): string {
  return inEvalMode(model, () => sampleWith(model, tokenizer, key, count, temperature));
}

function sampleWith(model: GPT, tokenizer: CharTokenizer, key: ma.MetalArray, count: number, temperature: number): string {
  const { blockSize, vocabSize } = model.config;
  // The window always has blockSize positions (one compiled shape): the context sits at the
  // start, and causal attention makes the padding after it irrelevant to its last position.
  const window = new Int32Array(blockSize);
  const context = [...tokenizer.encode('\n')];
  let text = '';
  for (let i = 0; i < count; i++) {
    const recent = context.slice(-blockSize);
    window.fill(0);
    window.set(recent);
    const next = ma.tidy(() => {
      const logits = model.forward(ma.array(window).reshape([1, blockSize])).reshape([blockSize, vocabSize]);
      const drawn = ma.random.categorical(ma.random.foldIn(key, i), logits.multiply(1 / temperature), -1);
      return (drawn.toTypedArray() as Int32Array)[recent.length - 1];
    });
    context.push(next);
    text += tokenizer.chars[next];
  }
  return text;
}

function writeChart(dir: string, history: LossHistory, c: TrainConfig): string {
  const path = join(dir, 'loss.svg');
  writeFileSync(path, lossChartSvg(history, `char GPT ${c.nLayer}x${c.nHead}x${c.nEmbd}, context ${c.blockSize}, batch ${c.batchSize}`));
  return path;
}

/** Runs (or resumes) training as configured. Throws on a bad config or checkpoint; a NaN loss returns status 'nan'. */
export function train(config: TrainConfig, options: TrainOptions = {}): TrainResult {
  const sink = options.sink ?? stdoutSink();
  const data = loadDataset(config.dataPath, config.maxChars > 0 ? config.maxChars : undefined);
  const modelConfig = modelConfigOf(config, data.tokenizer.vocabSize);
  const optimizer = new GptOptimizer(config);
  const root = ma.random.key(config.seed);
  // On resume the initial weights are replaced by the checkpoint's.
  const model = new GPT(modelConfig, ma.random.foldIn(root, 1));

  let key: ma.MetalArray;
  let iteration: number;
  let history: LossHistory;
  if (config.resume) {
    if (!checkpointExists(config.outDir)) throw new Error(`--resume: no checkpoint in ${config.outDir} (checkpoint.json missing)`);
    const savedMeta = readCheckpointMeta(config.outDir);
    const saved = savedMeta.config;
    for (const k of ['nLayer', 'nHead', 'nEmbd', 'blockSize'] as const) {
      if (saved[k] !== config[k]) throw new Error(`--resume: the checkpoint has ${k} ${saved[k]}, the command line ${config[k]}`);
    }
    if (savedMeta.vocabulary.join('') !== data.tokenizer.chars.join(''))
      throw new Error('--resume: the checkpoint was trained on another vocabulary (another text?)');
    const meta = loadCheckpoint(config.outDir, model, optimizer);
    key = ma.array(Uint32Array.from(meta.rngKey));
    iteration = meta.iteration;
    history = meta.history;
    sink.write(`resumed from ${config.outDir} at iteration ${iteration}\n`);
  } else {
    key = ma.random.foldIn(root, 2).eval();
    iteration = 0;
    history = { train: [], evals: [] };
  }
  sink.write(
    `model: ${config.nLayer} layers, ${config.nHead} heads, ${config.nEmbd} dims, context ${config.blockSize}, vocabulary ${modelConfig.vocabSize}: ${(model.parameterCount() / 1e6).toFixed(2)}M parameters; ${data.train.size} train / ${data.val.size} validation characters; backend ${ma.getBackend()}\n`,
  );

  const meta = (): Omit<CheckpointMeta, 'weightsSha256'> => ({
    iteration,
    optimizerStep: optimizer.step,
    rngKey: [...(key.toTypedArray() as Uint32Array)] as [number, number],
    config,
    vocabulary: data.tokenizer.chars,
    history,
  });
  const checkpoint = (): void => {
    saveCheckpoint(config.outDir, model, optimizer, meta());
    writeChart(config.outDir, history, config);
  };

  const progress = new Progress(sink, config.maxIters, config.batchSize * config.blockSize, config.logInterval);
  const stopAt = options.stopAfter === undefined ? config.maxIters : Math.min(config.maxIters, iteration + options.stopAfter);
  const lastGood = (): string =>
    checkpointExists(config.outDir)
      ? `the last good checkpoint (iteration ${checkpointIteration(config.outDir)}) in ${config.outDir} is kept`
      : 'no checkpoint was written yet';

  const lossAndGrad = ma.nn.valueAndGrad(model, (x: ma.MetalArray, y: ma.MetalArray, dropoutKey: ma.MetalArray) =>
    ma.nn.crossEntropy(model.forward(x, dropoutKey), y),
  );
  while (iteration <= stopAt) {
    const evalNow = iteration % config.evalInterval === 0 || iteration === config.maxIters;
    if (evalNow && history.evals.at(-1)?.iter !== iteration) {
      const losses = estimateLoss(model, data, config, iteration);
      if (!Number.isFinite(losses.train) || !Number.isFinite(losses.val)) {
        progress.message(`NaN loss in the evaluation at iteration ${iteration}: training stopped; ${lastGood()}`);
        return { status: 'nan', iteration, history, tokensPerSecond: progress.tokensPerSecond() };
      }
      history.evals.push({ iter: iteration, ...losses });
      progress.message(`step ${iteration}: train loss ${losses.train.toFixed(4)}, val loss ${losses.val.toFixed(4)}`);
      if (iteration > 0) checkpoint();
    }
    if (iteration === stopAt) break;

    const stepStarted = performance.now();
    const lr = optimizer.learningRate;
    const [nextKey, batchKey, dropoutKey] = ma.random.split(key, 3);
    const { loss, grads } = ma.tidy(() => {
      const [x, y] = getBatch(data.train, config.batchSize, config.blockSize, batchKey);
      const [value, g] = lossAndGrad(x, y, dropoutKey);
      return { loss: value, grads: g };
    });
    const gradList = ma.treeFlatten(grads).map(([, g]) => g);
    ma.eval(loss, ...gradList); // forward and backward in one plan; the update is the next
    const lossValue = loss.item() as number;
    for (const a of [loss, batchKey, dropoutKey]) a.dispose();
    if (!Number.isFinite(lossValue)) {
      for (const g of gradList) g.dispose();
      nextKey.dispose();
      progress.message(`NaN loss at iteration ${iteration}: training stopped; ${lastGood()}`);
      return { status: 'nan', iteration, history, tokensPerSecond: progress.tokensPerSecond() };
    }
    const [clipped, norm] = config.gradClip > 0 ? ma.optimizers.clipGradNorm(grads as ma.ArrayTree, config.gradClip) : [grads as ma.ArrayTree, null];
    const previous = ma.treeFlatten(model.parameters()).map(([, p]) => p);
    optimizer.update(model, clipped as ma.nn.ParameterTree);
    for (const a of [...previous, ...ma.treeFlatten(clipped).map(([, c]) => c), ...gradList]) a.dispose();
    norm?.dispose();
    key.dispose();
    key = nextKey;
    history.train[iteration] = lossValue;
    progress.step(iteration, lossValue, lr, (performance.now() - stepStarted) / 1000);
    iteration++;
  }
  progress.finish();
  checkpoint();
  const tokensPerSecond = progress.tokensPerSecond();
  if (iteration < config.maxIters) {
    sink.write(`stopped at iteration ${iteration}; continue with --resume (checkpoint in ${config.outDir})\n`);
    return { status: 'stopped', iteration, history, tokensPerSecond };
  }
  sink.write(`done: ${iteration} iterations, ${Math.round(tokensPerSecond)} tokens/s; loss chart ${join(config.outDir, 'loss.svg')}\n`);
  let sample: string | undefined;
  if (!options.skipSample && config.sampleChars > 0) {
    sample = sampleText(model, data.tokenizer, ma.random.foldIn(ma.random.key(config.seed), 3), config.sampleChars, config.temperature);
    sink.write(`--- sample (${config.sampleChars} characters, temperature ${config.temperature}) ---\n${sample}\n---\n`);
  }
  return { status: 'done', iteration, history, tokensPerSecond, sample };
}
