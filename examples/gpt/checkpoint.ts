/**
 * Checkpoints: `model.safetensors` (`model.saveWeights`: the parameters by module path),
 * `optimizer.safetensors` (both AdamW groups' states: `decayed.step`,
 * `decayed.m.blocks.0.attn.qkv.weight`, …) and `checkpoint.json` (iteration, optimizer step,
 * the RNG key, the config, the vocabulary, the loss history and the weights file's SHA-256).
 * The JSON is written last, the optimizer file carries the iteration in its metadata and
 * the JSON the weights' digest, so a checkpoint torn by a crash between files is detected
 * at load rather than silently mixed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ma from '../../src/index.js';
import type { TrainConfig } from './config.js';
import type { GPT } from './model.js';
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
  /** SHA-256 (hex) of model.safetensors as written with this JSON. */
  weightsSha256: string;
}

export function checkpointExists(dir: string): boolean {
  return existsSync(join(dir, 'checkpoint.json'));
}

/** The metadata of the checkpoint in `dir` (its JSON only: enough to build the model to load it into). */
export function readCheckpointMeta(dir: string): CheckpointMeta {
  return JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta;
}

/** The iteration of the checkpoint in `dir` (from its JSON only). */
export function checkpointIteration(dir: string): number {
  return readCheckpointMeta(dir).iteration;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Writes `model`'s weights and `optimizer`'s state, then the JSON with `meta` (minus the digest, which this adds). */
export function saveCheckpoint(dir: string, model: GPT, optimizer: GptOptimizer, meta: Omit<CheckpointMeta, 'weightsSha256'>): void {
  mkdirSync(dir, { recursive: true });
  const weights = model.saveWeights(join(dir, 'model.safetensors'));
  ma.saveSafetensors(join(dir, 'optimizer.safetensors'), optimizer.stateEntries(), { iteration: String(meta.iteration) });
  const tmp = join(dir, 'checkpoint.json.tmp');
  writeFileSync(tmp, `${JSON.stringify({ ...meta, weightsSha256: sha256(weights) }, null, 1)}\n`);
  renameSync(tmp, join(dir, 'checkpoint.json'));
}

/** Loads the checkpoint in `dir` into `model` and `optimizer` (built for its config); returns its metadata. */
export function loadCheckpoint(dir: string, model: GPT, optimizer: GptOptimizer): CheckpointMeta {
  const meta = readCheckpointMeta(dir);
  const weights = join(dir, 'model.safetensors');
  if (sha256(weights) !== meta.weightsSha256) {
    throw new Error(`checkpoint in ${dir} is torn: model.safetensors is not the file checkpoint.json (iteration ${meta.iteration}) was written with`);
  }
  const opt = ma.loadSafetensors(join(dir, 'optimizer.safetensors'));
  if (opt.metadata.iteration !== String(meta.iteration)) {
    throw new Error(`checkpoint in ${dir} is torn: optimizer.safetensors is from iteration ${opt.metadata.iteration}, checkpoint.json from ${meta.iteration}`);
  }
  model.loadWeights(weights);
  optimizer.loadStateEntries(opt.arrays);
  if (optimizer.step !== meta.optimizerStep)
    throw new Error(`checkpoint in ${dir}: the optimizer state is at step ${optimizer.step}, checkpoint.json says ${meta.optimizerStep}`);
  return meta;
}
