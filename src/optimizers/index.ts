/**
 * `ma.optimizers`: optimizers (SGD, Adam, AdamW, RMSprop, Adagrad, Lion) whose update
 * of each parameter is one fused kernel, learning-rate schedules and gradient clipping.
 * Built on the public API only. See docs/optimizers.md.
 *
 * @module
 */
export { Optimizer, type LearningRate, type OptimizerState, type Trainable, type ParameterUpdate, type StepContext } from './optimizer.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { SGD, type SGDOptions } from './sgd.js';
export { RMSprop, Adagrad, Lion, type RMSpropOptions, type AdagradOptions, type LionOptions } from './adaptive.js';
export { clipGradNorm } from './clip.js';
export { cosineDecay, exponentialDecay, joinSchedules, linearSchedule, linearWarmup, stepDecay, type Schedule } from './schedules.js';
