/**
 * Checkpoints: `model.safetensors` (the parameters by name), `optimizer.safetensors` (the
 * AdamW moments, `m.<name>` and `v.<name>`) and `checkpoint.json` (iteration, optimizer
 * step, the RNG key, the config, the vocabulary and the loss history). The JSON is written
 * last and both tensor files carry the iteration in their metadata, so a checkpoint torn by
 * a crash between files is detected at load rather than silently mixed.
 */
import { existsSync, mkdirSync, renameSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ma from '../../src/index.js';
import type { TrainConfig } from './config.js';
import { type GptParams, namedParams, paramsFromNamed } from './model.js';
import type { AdamWState } from './optimizer.js';

export interface EvalPoint {
  iter: number;
  train: number;
  val: number;
}

export interface LossHistory {
  /** Training loss of every iteration's batch, index = iteration. */
  train: number[];
  evals: EvalPoint[];
}

export interface CheckpointMeta {
  /** The next iteration to run. */
  iteration: number;
  optimizerStep: number;
  /** The training RNG key (two uint32 words) to continue from. */
  rngKey: [number, number];
  config: TrainConfig;
  vocabulary: string[];
  history: LossHistory;
}

export interface Checkpoint {
  params: GptParams;
  optimizer: AdamWState;
  meta: CheckpointMeta;
}

export function checkpointExists(dir: string): boolean {
  return existsSync(join(dir, 'checkpoint.json'));
}

/** The iteration of the checkpoint in `dir` (from its JSON only). */
export function checkpointIteration(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta).iteration;
}

export function saveCheckpoint(dir: string, params: GptParams, optimizer: AdamWState, meta: CheckpointMeta): void {
  mkdirSync(dir, { recursive: true });
  const stamp = { iteration: String(meta.iteration) };
  ma.saveSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(namedParams(params)), stamp);
  const moments: Record<string, ma.MetalArray> = {};
  for (const [name, m] of optimizer.m) moments[`m.${name}`] = m;
  for (const [name, v] of optimizer.v) moments[`v.${name}`] = v;
  ma.saveSafetensors(join(dir, 'optimizer.safetensors'), moments, stamp);
  const tmp = join(dir, 'checkpoint.json.tmp');
  writeFileSync(tmp, `${JSON.stringify(meta, null, 1)}\n`);
  renameSync(tmp, join(dir, 'checkpoint.json'));
}

export function loadCheckpoint(dir: string): Checkpoint {
  const meta = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta;
  const model = ma.loadSafetensors(join(dir, 'model.safetensors'));
  const opt = ma.loadSafetensors(join(dir, 'optimizer.safetensors'));
  for (const [file, contents] of [
    ['model.safetensors', model],
    ['optimizer.safetensors', opt],
  ] as const) {
    if (contents.metadata.iteration !== String(meta.iteration)) {
      throw new Error(`checkpoint in ${dir} is torn: ${file} is from iteration ${contents.metadata.iteration}, checkpoint.json from ${meta.iteration}`);
    }
  }
  const params = paramsFromNamed(model.arrays, meta.config.nLayer);
  const m = new Map<string, ma.MetalArray>();
  const v = new Map<string, ma.MetalArray>();
  for (const [name] of namedParams(params)) {
    const mi = opt.arrays[`m.${name}`];
    const vi = opt.arrays[`v.${name}`];
    if (mi === undefined || vi === undefined) throw new Error(`checkpoint: optimizer state for '${name}' is missing`);
    m.set(name, mi);
    v.set(name, vi);
  }
  return { params, optimizer: { step: meta.optimizerStep, m, v }, meta };
}
