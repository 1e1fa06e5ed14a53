/**
 * The example's settings: nanoGPT's two shakespeare_char configurations and the command
 * line that overrides any of them.
 */
import { parseArgs } from 'node:util';

export interface TrainConfig {
  // Model.
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  dropout: number;
  // Data.
  dataPath: string;
  /** Use only the first N characters of the text (for quick runs and the test); 0 for all. */
  maxChars: number;
  batchSize: number;
  // Optimization (nanoGPT's train_shakespeare_char.py).
  maxIters: number;
  learningRate: number;
  minLearningRate: number;
  warmupIters: number;
  decayIters: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  gradClip: number;
  // Evaluation, logging, checkpoints, sampling.
  evalInterval: number;
  evalIters: number;
  logInterval: number;
  outDir: string;
  resume: boolean;
  seed: number;
  sampleChars: number;
  temperature: number;
}

const DEFAULT_DATA = new URL('./data/austen.txt', import.meta.url).pathname;

const COMMON = {
  dataPath: DEFAULT_DATA,
  maxChars: 0,
  learningRate: 1e-3,
  minLearningRate: 1e-4,
  warmupIters: 100,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.99,
  gradClip: 1.0,
  evalInterval: 250,
  logInterval: 10,
  resume: false,
  seed: 1337,
  sampleChars: 500,
  temperature: 0.8,
} as const;

/** nanoGPT's README CPU run: 4 layers, 4 heads, 128 dims, context 64, batch 12, 2000 iterations, no dropout. */
export const CPU_CONFIG: TrainConfig = {
  ...COMMON,
  nLayer: 4,
  nHead: 4,
  nEmbd: 128,
  blockSize: 64,
  dropout: 0,
  batchSize: 12,
  maxIters: 2000,
  decayIters: 2000,
  evalIters: 20,
  outDir: 'out/gpt-cpu',
};

/** nanoGPT's train_shakespeare_char.py: 6 layers, 6 heads, 384 dims, context 256, batch 64, dropout 0.2, 5000 iterations. */
export const GPU_CONFIG: TrainConfig = {
  ...COMMON,
  nLayer: 6,
  nHead: 6,
  nEmbd: 384,
  blockSize: 256,
  dropout: 0.2,
  batchSize: 64,
  maxIters: 5000,
  decayIters: 5000,
  evalIters: 200,
  outDir: 'out/gpt-gpu',
};

/** Command-line option → config key, for every numeric setting. */
const NUMERIC_OPTIONS: Record<string, keyof TrainConfig> = {
  'n-layer': 'nLayer',
  'n-head': 'nHead',
  'n-embd': 'nEmbd',
  'block-size': 'blockSize',
  dropout: 'dropout',
  'max-chars': 'maxChars',
  'batch-size': 'batchSize',
  'max-iters': 'maxIters',
  lr: 'learningRate',
  'min-lr': 'minLearningRate',
  'warmup-iters': 'warmupIters',
  'lr-decay-iters': 'decayIters',
  'weight-decay': 'weightDecay',
  beta1: 'beta1',
  beta2: 'beta2',
  'grad-clip': 'gradClip',
  'eval-interval': 'evalInterval',
  'eval-iters': 'evalIters',
  'log-interval': 'logInterval',
  seed: 'seed',
  'sample-chars': 'sampleChars',
  temperature: 'temperature',
};

export const USAGE = `usage: npm run example:gpt -- [--config cpu|gpu] [options]
  --config cpu|gpu      nanoGPT's CPU run (default) or its GPU shakespeare_char config
  --resume              continue from the checkpoint in --out-dir
  --out-dir DIR         checkpoints, loss chart (default out/gpt-cpu or out/gpt-gpu)
  --data FILE           training text (default examples/gpt/data/austen.txt)
  ${Object.keys(NUMERIC_OPTIONS)
    .map((o) => `--${o} N`)
    .join(' ')}`;

/** Parses the command line into a config (a preset, then the overrides). Throws on an unknown option or a bad value. */
export function parseConfig(argv: readonly string[]): TrainConfig | 'help' {
  const numeric = Object.fromEntries(Object.keys(NUMERIC_OPTIONS).map((o) => [o, { type: 'string' as const }]));
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      ...numeric,
      config: { type: 'string' },
      resume: { type: 'boolean' },
      'out-dir': { type: 'string' },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const preset = values.config ?? 'cpu';
  if (preset !== 'cpu' && preset !== 'gpu') throw new Error(`--config must be cpu or gpu, got '${preset}'`);
  const config: TrainConfig = { ...(preset === 'cpu' ? CPU_CONFIG : GPU_CONFIG) };
  for (const [option, key] of Object.entries(NUMERIC_OPTIONS)) {
    const raw = (values as Record<string, unknown>)[option];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`--${option} must be a number, got '${String(raw)}'`);
    (config as unknown as Record<string, number>)[key] = n;
  }
  // As nanoGPT's README run: the cosine decay ends with the run unless told otherwise.
  const given = values as Record<string, unknown>;
  if (given['max-iters'] !== undefined && given['lr-decay-iters'] === undefined) config.decayIters = config.maxIters;
  if (values['out-dir'] !== undefined) config.outDir = values['out-dir'];
  if (values.data !== undefined) config.dataPath = values.data;
  if (values.resume === true) config.resume = true;
  validateConfig(config);
  return config;
}

/** Checks the settings that would otherwise fail deep inside the model. */
export function validateConfig(c: TrainConfig): void {
  const positiveInts: (keyof TrainConfig)[] = ['nLayer', 'nHead', 'nEmbd', 'blockSize', 'batchSize', 'evalInterval', 'evalIters', 'logInterval'];
  for (const k of positiveInts) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${String(v)}`);
  }
  if (!Number.isInteger(c.maxIters) || c.maxIters < 0) throw new Error(`maxIters must be a whole number, got ${c.maxIters}`);
  if (c.nEmbd % c.nHead !== 0) throw new Error(`nEmbd (${c.nEmbd}) must be a multiple of nHead (${c.nHead})`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`dropout must be in [0, 1), got ${c.dropout}`);
  if (!(c.learningRate > 0) || !(c.minLearningRate >= 0)) throw new Error('learning rates must be positive');
  if (c.decayIters <= c.warmupIters) throw new Error(`lr-decay-iters (${c.decayIters}) must exceed warmup-iters (${c.warmupIters})`);
  if (!(c.temperature > 0)) throw new Error(`temperature must be positive, got ${c.temperature}`);
}
