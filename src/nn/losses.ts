/**
 * Losses of `ma.nn`, PyTorch's definitions (`torch.nn.functional`), numerically stable:
 * cross-entropy goes through `logsumexp` (never a log of a softmax), binary
 * cross-entropy from logits through `logaddexp`. Class indices select their logit by a
 * comparison with the class range (a one-hot mask the scheduler fuses into the
 * reduction), not a gather: the forward and backward stay a few fused kernels.
 */
import { MetalArray } from '../array/array.js';
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { ArgumentError, DTypeError, ShapeError, formatValue } from '../errors.js';
import { abs, add, equal, exp, log, logaddexp, maximum, multiply, notEqual, square, subtract } from '../ops/elementwise-ops.js';
import { astype, where } from '../ops/elementwise.js';
import { expandDims } from '../ops/movement.js';
import { arange } from '../ops/ranges.js';
import { logsumexp, mean, sum } from '../ops/reduce.js';

/** How a loss combines its elements: `'none'` keeps them, `'mean'` (default) averages, `'sum'` adds. */
export type Reduction = 'none' | 'mean' | 'sum';

/** Options of the elementwise losses (`mseLoss`, `l1Loss`). */
export interface LossOptions {
  /** How the elements are combined (default `'mean'`). */
  readonly reduction?: Reduction;
}

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** The class axis of the logits (default -1, the last; PyTorch's is 1). */
  readonly axis?: number;
  /** Mixes the targets with the uniform distribution: (1 - ε) target + ε / classes (default 0). */
  readonly labelSmoothing?: number;
  /** With class indices, targets equal to this index add nothing and are not counted by `'mean'`. */
  readonly ignoreIndex?: number;
  /** How the per-example losses are combined (default `'mean'`). */
  readonly reduction?: Reduction;
}

/** Options of `nllLoss`. */
export interface NllLossOptions {
  /** The class axis of the log-probabilities (default -1). */
  readonly axis?: number;
  /** Targets equal to this index add nothing and are not counted by `'mean'`. */
  readonly ignoreIndex?: number;
  /** How the per-example losses are combined (default `'mean'`). */
  readonly reduction?: Reduction;
}

/** Options of `binaryCrossEntropy`. */
export interface BinaryCrossEntropyOptions {
  /** The inputs are logits (default true, as MLX) rather than probabilities (PyTorch's `binary_cross_entropy`). */
  readonly fromLogits?: boolean;
  /** How the elements are combined (default `'mean'`). */
  readonly reduction?: Reduction;
}

/** Options of `klDiv`. */
export interface KlDivOptions {
  /** The target is given as log-probabilities (default false: probabilities). */
  readonly logTarget?: boolean;
  /** `'batchmean'` divides the sum by the first axis' size (the true KL per example); default `'mean'` as PyTorch. */
  readonly reduction?: Reduction | 'batchmean';
}

function checkArray(op: string, name: string, x: unknown): MetalArray {
  if (!(x instanceof MetalArray)) throw new ArgumentError(`${op}: ${name} must be a MetalArray, got ${formatValue(x)}`);
  return x;
}

function reductionOf(op: string, value: unknown, extra: readonly string[] = []): Reduction | 'batchmean' {
  const r = value ?? 'mean';
  if (r === 'none' || r === 'mean' || r === 'sum' || extra.includes(r as string)) return r as Reduction | 'batchmean';
  throw new ArgumentError(`${op}: reduction must be ${["'none'", "'mean'", "'sum'", ...extra.map((e) => `'${e}'`)].join(', ')}, got ${formatValue(value)}`);
}

function reduce(loss: MetalArray, reduction: Reduction | 'batchmean', batch = 1): MetalArray {
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return sum(loss);
  if (reduction === 'batchmean') return multiply(sum(loss), 1 / batch);
  return mean(loss);
}

function sameShape(op: string, a: MetalArray, b: MetalArray, names: [string, string]): void {
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: ${names[0]} has shape [${a.shape.join(', ')}] and ${names[1]} has shape [${b.shape.join(', ')}]; they must be equal`);
  }
}

function isFloatDType(x: MetalArray): boolean {
  return /^(float|bfloat)/.test(x.dtype);
}

function isIntDType(x: MetalArray): boolean {
  return /^u?int/.test(x.dtype);
}

function normalizeAxis(op: string, axis: unknown, ndim: number): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new ArgumentError(`${op}: axis must be an integer in [${-ndim}, ${ndim - 1}], got ${formatValue(axis)}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Checks class-index targets against the logits (the class axis removed) and returns the one-hot mask. */
function classMask(op: string, logits: MetalArray, targets: MetalArray, axis: number): MetalArray {
  const expected = logits.shape.filter((_, i) => i !== axis);
  if (targets.ndim !== expected.length || targets.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(
      `${op}: class-index targets must have the input's shape without the class axis, [${expected.join(', ')}]; got targets [${targets.shape.join(', ')}] for input [${logits.shape.join(', ')}]`,
    );
  }
  const classes = logits.shape[axis] as number;
  const shape = logits.shape.map((d, i) => (i === axis ? d : 1));
  return equal(expandDims(targets, axis), arange(classes).reshape(shape));
}

/** Masks ignored targets and reduces; `'mean'` divides by the number of targets kept. */
function reduceIgnoring(loss: MetalArray, targets: MetalArray, ignoreIndex: number | undefined, reduction: Reduction): MetalArray {
  if (ignoreIndex === undefined) return reduce(loss, reduction);
  const keep = notEqual(targets, ignoreIndex);
  const masked = where(keep, loss, 0);
  if (reduction === 'mean') return sum(masked).divide(sum(astype(keep, loss.dtype)));
  return reduce(masked, reduction);
}

function optionalInt(op: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ArgumentError(`${op}: ${name} must be an integer, got ${formatValue(value)}`);
  return value;
}

/**
 * Cross-entropy between logits and targets, PyTorch's `cross_entropy`: targets are class
 * indices (an integer array of the logits' shape without the class axis) or
 * probabilities (a float array of the logits' shape). Options: the class `axis`
 * (default -1), `labelSmoothing`, `ignoreIndex` (class indices only) and `reduction`.
 *
 * @throws ShapeError when the targets' shape does not fit the logits'
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const logits = ma.array([[2, 0, 0], [0, 0, 2]], 'float32');
 * console.log(ma.nn.crossEntropy(logits, ma.array([0, 2])).item().toFixed(4)); // 0.2395
 * const probs = ma.array([[1, 0, 0], [0, 0, 1]], 'float32');
 * console.log(ma.nn.crossEntropy(logits, probs).item().toFixed(4)); // 0.2395
 * console.log(ma.nn.crossEntropy(logits, ma.array([0, -100]), { ignoreIndex: -100, reduction: 'sum' }).item().toFixed(4)); // 0.2395
 * ```
 */
export function crossEntropy(logits: MetalArray, targets: MetalArray, options?: CrossEntropyOptions): MetalArray {
  const op = 'nn.crossEntropy';
  checkArgCount(op, arguments.length, 3, 'crossEntropy(logits, targets, { axis, labelSmoothing, ignoreIndex, reduction })');
  checkArray(op, 'logits', logits);
  checkArray(op, 'targets', targets);
  const o = checkOptions(op, options, ['axis', 'labelSmoothing', 'ignoreIndex', 'reduction']);
  if (!isFloatDType(logits)) throw new DTypeError(`${op}: logits must be a float array, got ${logits.dtype}`);
  const axis = normalizeAxis(op, o.axis ?? -1, logits.ndim);
  const reduction = reductionOf(op, o.reduction) as Reduction;
  const smoothing = o.labelSmoothing ?? 0;
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing <= 1))
    throw new ArgumentError(`${op}: labelSmoothing must be in [0, 1], got ${formatValue(smoothing)}`);
  const ignoreIndex = optionalInt(op, 'ignoreIndex', o.ignoreIndex);
  const classes = logits.shape[axis] as number;
  const lse = logsumexp(logits, axis, true);
  if (isIntDType(targets)) {
    const picked = sum(where(classMask(op, logits, targets, axis), logits, 0), axis);
    const lseFlat = lse.squeeze(axis);
    let loss = subtract(lseFlat, picked);
    if (smoothing > 0) loss = add(multiply(loss, 1 - smoothing), multiply(subtract(lseFlat, mean(logits, axis)), smoothing));
    return reduceIgnoring(loss, targets, ignoreIndex, reduction);
  }
  if (ignoreIndex !== undefined) throw new ArgumentError(`${op}: ignoreIndex applies to class-index targets (an integer array), not to probabilities`);
  if (!isFloatDType(targets)) throw new DTypeError(`${op}: targets must be class indices (integers) or probabilities (floats), got ${targets.dtype}`);
  sameShape(op, logits, targets, ['logits', 'probability targets']);
  const t = smoothing > 0 ? add(multiply(targets, 1 - smoothing), smoothing / classes) : targets;
  return reduce(sum(multiply(t, subtract(lse, logits)), axis), reduction);
}

/**
 * Negative log-likelihood of class indices under log-probabilities (PyTorch's
 * `nll_loss`): `-logProbs[target]`, with `ignoreIndex` and `reduction`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const logp = ma.log(ma.array([[0.5, 0.5], [0.9, 0.1]], 'float32'));
 * console.log(ma.nn.nllLoss(logp, ma.array([0, 0])).item().toFixed(4)); // 0.3993
 * ```
 */
export function nllLoss(logProbs: MetalArray, targets: MetalArray, options?: NllLossOptions): MetalArray {
  const op = 'nn.nllLoss';
  checkArgCount(op, arguments.length, 3, 'nllLoss(logProbs, targets, { axis, ignoreIndex, reduction })');
  checkArray(op, 'logProbs', logProbs);
  checkArray(op, 'targets', targets);
  const o = checkOptions(op, options, ['axis', 'ignoreIndex', 'reduction']);
  if (!isIntDType(targets)) throw new DTypeError(`${op}: targets must be class indices (an integer array), got ${targets.dtype}`);
  const axis = normalizeAxis(op, o.axis ?? -1, logProbs.ndim);
  const reduction = reductionOf(op, o.reduction) as Reduction;
  const loss = multiply(sum(where(classMask(op, logProbs, targets, axis), logProbs, 0), axis), -1);
  return reduceIgnoring(loss, targets, optionalInt(op, 'ignoreIndex', o.ignoreIndex), reduction);
}

/**
 * Binary cross-entropy. From logits (the default, as MLX's): `softplus(x) - x·y`,
 * stable for any x. From probabilities (`{ fromLogits: false }`, PyTorch's
 * `binary_cross_entropy`): `-(y log p + (1-y) log(1-p))` with each log clamped at -100.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const y = ma.array([1, 0], 'float32');
 * console.log(ma.nn.binaryCrossEntropy(ma.array([0, 0], 'float32'), y).item().toFixed(4)); // 0.6931
 * console.log(ma.nn.binaryCrossEntropy(ma.array([0.5, 0.5], 'float32'), y, { fromLogits: false }).item().toFixed(4)); // 0.6931
 * ```
 */
export function binaryCrossEntropy(inputs: MetalArray, targets: MetalArray, options?: BinaryCrossEntropyOptions): MetalArray {
  const op = 'nn.binaryCrossEntropy';
  checkArgCount(op, arguments.length, 3, 'binaryCrossEntropy(inputs, targets, { fromLogits, reduction })');
  checkArray(op, 'inputs', inputs);
  checkArray(op, 'targets', targets);
  const o = checkOptions(op, options, ['fromLogits', 'reduction']);
  const reduction = reductionOf(op, o.reduction) as Reduction;
  sameShape(op, inputs, targets, ['inputs', 'targets']);
  if (o.fromLogits ?? true) return reduce(subtract(logaddexp(inputs, 0), multiply(inputs, targets)), reduction);
  const logP = maximum(log(inputs), -100);
  const log1mP = maximum(log(subtract(1, inputs)), -100);
  return reduce(multiply(add(multiply(targets, logP), multiply(subtract(1, targets), log1mP)), -1), reduction);
}

/**
 * Mean squared error `(predictions - targets)²`, reduced.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.nn.mseLoss(ma.array([1, 2], 'float32'), ma.array([1, 4], 'float32')).item()); // 2
 * ```
 */
export function mseLoss(predictions: MetalArray, targets: MetalArray, options?: LossOptions): MetalArray {
  const op = 'nn.mseLoss';
  checkArgCount(op, arguments.length, 3, 'mseLoss(predictions, targets, { reduction })');
  checkArray(op, 'predictions', predictions);
  checkArray(op, 'targets', targets);
  const o = checkOptions(op, options, ['reduction']);
  sameShape(op, predictions, targets, ['predictions', 'targets']);
  return reduce(square(subtract(predictions, targets)), reductionOf(op, o.reduction));
}

/**
 * Mean absolute error `|predictions - targets|`, reduced.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * console.log(ma.nn.l1Loss(ma.array([1, 2], 'float32'), ma.array([0, 4], 'float32'), { reduction: 'sum' }).item()); // 3
 * ```
 */
export function l1Loss(predictions: MetalArray, targets: MetalArray, options?: LossOptions): MetalArray {
  const op = 'nn.l1Loss';
  checkArgCount(op, arguments.length, 3, 'l1Loss(predictions, targets, { reduction })');
  checkArray(op, 'predictions', predictions);
  checkArray(op, 'targets', targets);
  const o = checkOptions(op, options, ['reduction']);
  sameShape(op, predictions, targets, ['predictions', 'targets']);
  return reduce(abs(subtract(predictions, targets)), reductionOf(op, o.reduction));
}

/**
 * Kullback–Leibler divergence, PyTorch's `kl_div(input, target)`: `input` holds
 * log-probabilities, `target` probabilities (or log-probabilities with `logTarget`);
 * pointwise `target · (log target - input)`, 0 where the target is 0. `'batchmean'`
 * gives the KL divergence per example; `'mean'` (the default, as PyTorch) averages over
 * every element.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const logq = ma.log(ma.array([[0.5, 0.5]], 'float32'));
 * const p = ma.array([[1, 0]], 'float32');
 * console.log(ma.nn.klDiv(logq, p, { reduction: 'batchmean' }).item().toFixed(4)); // 0.6931
 * ```
 */
export function klDiv(input: MetalArray, target: MetalArray, options?: KlDivOptions): MetalArray {
  const op = 'nn.klDiv';
  checkArgCount(op, arguments.length, 3, 'klDiv(input, target, { logTarget, reduction })');
  checkArray(op, 'input', input);
  checkArray(op, 'target', target);
  const o = checkOptions(op, options, ['logTarget', 'reduction']);
  const reduction = reductionOf(op, o.reduction, ['batchmean']);
  sameShape(op, input, target, ['input', 'target']);
  let pointwise: MetalArray;
  if (o.logTarget ?? false) {
    pointwise = multiply(exp(target), subtract(target, input));
  } else {
    const positive = target.greater(0);
    pointwise = where(positive, multiply(target, subtract(log(where(positive, target, 1)), input)), 0);
  }
  return reduce(pointwise, reduction, input.ndim > 0 ? (input.shape[0] as number) : 1);
}
