/**
 * Learning-rate schedules: plain functions from the step (the number of updates done
 * before the current one: 0 for the first update) to a learning rate. An optimizer
 * takes a number or a schedule for `learningRate` and calls the schedule once per
 * update with its step count, as MLX's schedules and PyTorch's `LambdaLR` do.
 */
import { checkArgCount } from '../core/arguments.js';
import { ArgumentError, formatValue } from '../errors.js';

/** A learning-rate schedule: the learning rate for the update that follows `step` earlier updates. */
export type Schedule = (step: number) => number;

function finite(fn: string, what: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new ArgumentError(`${fn}: ${what} must be a finite number, got ${formatValue(x)}`);
  return x;
}

function positiveInteger(fn: string, what: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x <= 0) throw new ArgumentError(`${fn}: ${what} must be a whole number > 0, got ${formatValue(x)}`);
  return x;
}

/** The step a schedule was called with, checked (a whole number ≥ 0). */
function checkStep(fn: string, step: unknown): number {
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    throw new ArgumentError(`${fn} schedule: the step must be a whole number ≥ 0, got ${formatValue(step)}`);
  }
  return step;
}

/**
 * Cosine decay from `init` to `end` over `decaySteps` steps, then `end`:
 * `end + (init - end) * (1 + cos(pi * min(step, decaySteps) / decaySteps)) / 2`
 * (MLX's `cosine_decay`; PyTorch's `CosineAnnealingLR` with `T_max = decaySteps`,
 * `eta_min = end`, without restarts).
 *
 * @param init - the learning rate at step 0
 * @param decaySteps - the steps the decay takes (> 0)
 * @param end - the learning rate from step `decaySteps` on (default 0)
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const lr = ma.optimizers.cosineDecay(0.1, 100, 0.001);
 * lr(0); // 0.1
 * lr(100); // 0.001
 * ```
 */
export function cosineDecay(init: number, decaySteps: number, end = 0): Schedule {
  checkArgCount('optimizers.cosineDecay', arguments.length, 3, 'optimizers.cosineDecay(init, decaySteps, end)');
  finite('cosineDecay', 'init', init);
  positiveInteger('cosineDecay', 'decaySteps', decaySteps);
  finite('cosineDecay', 'end', end);
  return (step: number): number => {
    const s = Math.min(checkStep('cosineDecay', step), decaySteps);
    return end + (init - end) * 0.5 * (1 + Math.cos((Math.PI * s) / decaySteps));
  };
}

/**
 * A straight line from `init` to `end` over `steps` steps, then `end` (MLX's
 * `linear_schedule`).
 *
 * @param init - the learning rate at step 0
 * @param end - the learning rate from step `steps` on
 * @param steps - the steps the line takes (> 0)
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const lr = ma.optimizers.linearSchedule(0, 1e-3, 10);
 * lr(5); // 0.0005
 * lr(20); // 0.001
 * ```
 */
export function linearSchedule(init: number, end: number, steps: number): Schedule {
  checkArgCount('optimizers.linearSchedule', arguments.length, 3, 'optimizers.linearSchedule(init, end, steps)');
  finite('linearSchedule', 'init', init);
  finite('linearSchedule', 'end', end);
  positiveInteger('linearSchedule', 'steps', steps);
  return (step: number): number => {
    const s = Math.min(checkStep('linearSchedule', step), steps);
    return init + ((end - init) * s) / steps;
  };
}

/**
 * A linear warmup from `init` (default 0) to `peak` over `warmupSteps` steps, then
 * `peak`: `linearSchedule(init, peak, warmupSteps)`. Join it to a decay with
 * `joinSchedules`.
 *
 * @param peak - the learning rate the warmup reaches at step `warmupSteps`
 * @param warmupSteps - the warmup's length in steps (> 0)
 * @param init - the learning rate at step 0 (default 0)
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const warmup = ma.optimizers.linearWarmup(1e-3, 100);
 * warmup(50); // 0.0005
 * ```
 */
export function linearWarmup(peak: number, warmupSteps: number, init = 0): Schedule {
  checkArgCount('optimizers.linearWarmup', arguments.length, 3, 'optimizers.linearWarmup(peak, warmupSteps, init)');
  finite('linearWarmup', 'peak', peak);
  positiveInteger('linearWarmup', 'warmupSteps', warmupSteps);
  finite('linearWarmup', 'init', init);
  return linearSchedule(init, peak, warmupSteps);
}

/**
 * `init * decayRate ** step` (MLX's `exponential_decay`; PyTorch's `ExponentialLR`
 * with `gamma = decayRate`).
 *
 * @param init - the learning rate at step 0
 * @param decayRate - the factor per step
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const lr = ma.optimizers.exponentialDecay(0.1, 0.5);
 * lr(2); // 0.025
 * ```
 */
export function exponentialDecay(init: number, decayRate: number): Schedule {
  checkArgCount('optimizers.exponentialDecay', arguments.length, 2, 'optimizers.exponentialDecay(init, decayRate)');
  finite('exponentialDecay', 'init', init);
  finite('exponentialDecay', 'decayRate', decayRate);
  return (step: number): number => init * decayRate ** checkStep('exponentialDecay', step);
}

/**
 * `init * decayRate ** floor(step / stepSize)` (MLX's `step_decay`; PyTorch's `StepLR`
 * with `step_size = stepSize`, `gamma = decayRate`).
 *
 * @param init - the learning rate at step 0
 * @param decayRate - the factor applied every `stepSize` steps
 * @param stepSize - the steps between two decays (> 0)
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const lr = ma.optimizers.stepDecay(0.1, 0.1, 30);
 * lr(29); // 0.1
 * lr(30); // 0.010000000000000002
 * ```
 */
export function stepDecay(init: number, decayRate: number, stepSize: number): Schedule {
  checkArgCount('optimizers.stepDecay', arguments.length, 3, 'optimizers.stepDecay(init, decayRate, stepSize)');
  finite('stepDecay', 'init', init);
  finite('stepDecay', 'decayRate', decayRate);
  positiveInteger('stepDecay', 'stepSize', stepSize);
  return (step: number): number => init * decayRate ** Math.floor(checkStep('stepDecay', step) / stepSize);
}

/**
 * Chains schedules: `schedules[0]` runs until `boundaries[0]`, then `schedules[1]` runs
 * with its step counted from that boundary, and so on (MLX's `join_schedules`). There is
 * one boundary fewer than schedules, in increasing order.
 *
 * @param schedules - the schedules, in order
 * @param boundaries - the steps at which each next schedule starts
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const { joinSchedules, linearWarmup, cosineDecay } = ma.optimizers;
 * const lr = joinSchedules([linearWarmup(1e-3, 100), cosineDecay(1e-3, 900, 1e-4)], [100]);
 * lr(50); // 0.0005 (warming up)
 * lr(100); // 0.001 (the cosine's step 0)
 * lr(1000); // 0.0001
 * ```
 */
export function joinSchedules(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  checkArgCount('optimizers.joinSchedules', arguments.length, 2, 'optimizers.joinSchedules(schedules, boundaries)');
  if (!Array.isArray(schedules) || schedules.length === 0 || schedules.some((s) => typeof s !== 'function')) {
    throw new ArgumentError('joinSchedules: schedules must be a non-empty list of functions (step) => learning rate');
  }
  if (!Array.isArray(boundaries) || boundaries.length !== schedules.length - 1) {
    throw new ArgumentError(
      `joinSchedules: needs one boundary fewer than schedules (${schedules.length - 1} for ${schedules.length} schedules), got ${formatValue(boundaries)}`,
    );
  }
  boundaries.forEach((b, i) => {
    positiveInteger('joinSchedules', `boundaries[${i}]`, b);
    if (i > 0 && b <= (boundaries[i - 1] as number)) throw new ArgumentError(`joinSchedules: boundaries must increase, got ${formatValue(boundaries)}`);
  });
  const scheduleList = schedules.slice();
  const bounds = boundaries.slice();
  return (step: number): number => {
    checkStep('joinSchedules', step);
    let i = 0;
    while (i < bounds.length && step >= (bounds[i] as number)) i++;
    const start = i === 0 ? 0 : (bounds[i - 1] as number);
    return (scheduleList[i] as Schedule)(step - start);
  };
}
