/**
 * Checkpoints: `model.safetensors` (the parameters by name), `optimizer.safetensors` (both
 * AdamW groups' states: `decayed.step`, `decayed.m.blocks.0.qkv`, …) and `checkpoint.json` (iteration, optimizer
 * step, the RNG key, the config, the vocabulary and the loss history). The JSON is written
 * last and both tensor files carry the iteration in their metadata, so a checkpoint torn by
 * a crash between files is detected at load rather than silently mixed.
 */
import { existsSync, mkdirSync, renameSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ma from '../../src/index.js';
import type { TrainConfig } from './config.js';
import { type GptParams, namedParams, paramsFromNamed } from './model.js';
import type { GptOptimizer } from './optimizer.js';

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
  meta: CheckpointMeta;
}

export function checkpointExists(dir: string): boolean {
  return existsSync(join(dir, 'checkpoint.json'));
}

/** The iteration of the checkpoint in `dir` (from its JSON only). */
export function checkpointIteration(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta).iteration;
}

export function saveCheckpoint(dir: string, params: GptParams, optimizer: GptOptimizer, meta: CheckpointMeta): void {
  mkdirSync(dir, { recursive: true });
  const stamp = { iteration: String(meta.iteration) };
  ma.saveSafetensors(join(dir, 'model.safetensors'), Object.fromEntries(namedParams(params)), stamp);
  ma.saveSafetensors(join(dir, 'optimizer.safetensors'), optimizer.stateEntries(), stamp);
  const tmp = join(dir, 'checkpoint.json.tmp');
  writeFileSync(tmp, `${JSON.stringify(meta, null, 1)}\n`);
  renameSync(tmp, join(dir, 'checkpoint.json'));
}

/** Reads the checkpoint in `dir`: returns the parameters and metadata, and restores `optimizer`'s state. */
export function loadCheckpoint(dir: string, optimizer: GptOptimizer): Checkpoint {
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
  optimizer.loadStateEntries(opt.arrays);
  if (optimizer.step !== meta.optimizerStep)
    throw new Error(`checkpoint in ${dir}: the optimizer state is at step ${optimizer.step}, checkpoint.json says ${meta.optimizerStep}`);
  return { params: paramsFromNamed(model.arrays, meta.config.nLayer), meta };
}
