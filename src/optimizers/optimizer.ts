/**
 * The optimizer base class: checks options, matches gradients to parameters by their
 * dotted paths, keeps the per-parameter state and the step count, and runs one update
 * over all parameters as one evaluation.
 *
 * Fusion: the scheduler gives every evaluated output its own kernel (there is no
 * multi-output kernel), so a parameter's new value and its new moments, evaluated as
 * separate arrays, would take one kernel each. Each parameter's new value and new state
 * are instead stacked into one array `[1 + states, ...shape]` (one concatenation, so one
 * kernel computes every part, the moments recomputed inline where the parameter needs
 * them); the parameter and the moments handed out are views of it (no copy, no kernel).
 * Each part is built from its own copy of the update's graph, so that no node is shared
 * between parts (the scheduler would weigh making a shared node a kernel of its own).
 */
import { MetalArray } from '../array/array.js';
import { array } from '../array/creation.js';
import { evaluate } from '../array/api.js';
import { checkArgCount } from '../core/arguments.js';
import { ArgumentError, formatValue } from '../errors.js';
import { loadSafetensors, saveSafetensors } from '../io/files.js';
import { astype } from '../ops/elementwise.js';
import { slice } from '../ops/indexing.js';
import { stack } from '../ops/join.js';
import { type ArrayTree, treeFlatten, treeMap, treeUnflatten } from '../transforms/tree.js';
import type { Schedule } from './schedules.js';

/** A learning rate: a number, or a schedule giving it from the step. */
export type LearningRate = number | Schedule;

/**
 * What `optimizer.update` needs of a model (structurally: `ma.nn.Module` fits): its
 * trainable parameters as a tree, and a way to replace them with a tree of the same
 * structure.
 */
export interface Trainable {
  /**
   * The parameters to train, as a tree of arrays.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const model: ma.optimizers.Trainable = { trainableParameters: () => ({ w: ma.ones([2]) }), update: () => {} };
   * Object.keys(model.trainableParameters()); // ['w']
   * ```
   */
  trainableParameters(): ArrayTree;
  /**
   * Replaces the parameters at the tree's paths (the optimizer passes a tree shaped as
   * `trainableParameters()` returned).
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * let params: ma.ArrayTree = { w: ma.ones([2]) };
   * const model: ma.optimizers.Trainable = { trainableParameters: () => params, update: (tree) => { params = tree; } };
   * model.update({ w: ma.zeros([2]) });
   * ```
   */
  update(tree: ArrayTree): void;
}

/** The optimizer's state tree: the step count and one tree per state name, shaped as the parameters. */
export interface OptimizerState {
  /** How many updates were done (an int32 scalar). */
  step: MetalArray;
  /** Per-state trees (`m`, `v`, ...), each shaped as the parameter tree. */
  [name: string]: ArrayTree;
}

/** One parameter's update, as a subclass computes it (lazy arrays). */
export interface ParameterUpdate {
  /** The new parameter value. */
  param: MetalArray;
  /** The new state arrays, in the order of `stateNames`. */
  state: MetalArray[];
}

/** What a subclass gets for one update besides the arrays. */
export interface StepContext {
  /** The learning rate of this update. */
  learningRate: number;
  /** The update's number, counted from 1 (PyTorch's `state['step']` after its increment). */
  step: number;
}

const FLOAT_DTYPES: ReadonlySet<string> = new Set(['float16', 'bfloat16', 'float32', 'float64']);

/**
 * Checks a hyperparameter: a finite number within `[min, max]` (or `(min, max)` when
 * `open`), else an `ArgumentError` naming the optimizer and the option.
 */
export function checkNumber(optimizer: string, option: string, value: unknown, min = -Infinity, max = Infinity, open = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (open ? value > min && value < max : value >= min && value <= max);
  if (!ok) {
    const range = min === -Infinity && max === Infinity ? '' : ` in ${open ? '(' : '['}${min}, ${max}${open ? ')' : ']'}`;
    throw new ArgumentError(`${optimizer}: option '${option}' must be a finite number${range}, got ${formatValue(value)}`);
  }
  return value as number;
}

/** Checks a `betas` option: two numbers in [0, 1). */
export function checkBetas(optimizer: string, value: unknown, fallback: readonly [number, number]): [number, number] {
  if (value === undefined) return [fallback[0], fallback[1]];
  if (!Array.isArray(value) || value.length !== 2)
    throw new ArgumentError(`${optimizer}: option 'betas' must be a pair [beta1, beta2], got ${formatValue(value)}`);
  const beta = (i: number): number => {
    const b: unknown = value[i];
    if (typeof b !== 'number' || !Number.isFinite(b) || b < 0 || b >= 1) {
      throw new ArgumentError(`${optimizer}: option 'betas[${i}]' must be a finite number in [0, 1), got ${formatValue(b)}`);
    }
    return b;
  };
  return [beta(0), beta(1)];
}

/** Checks a boolean option. */
export function checkBoolean(optimizer: string, option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ArgumentError(`${optimizer}: option '${option}' must be true or false, got ${formatValue(value)}`);
  return value;
}

function checkLearningRate(optimizer: string, value: unknown): LearningRate {
  if (typeof value === 'function') return value as Schedule;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new ArgumentError(`${optimizer}: option 'learningRate' must be a finite number ≥ 0 or a schedule (step) => number, got ${formatValue(value)}`);
}

/**
 * The base of every optimizer. A subclass names its state arrays and computes one
 * parameter's update; the base does the rest (see the file comment).
 */
export abstract class Optimizer {
  /** The optimizer's name, used in error messages and saved files. */
  abstract readonly name: string;
  /** The names of the per-parameter state arrays (`['m', 'v']` for Adam). */
  protected abstract readonly stateNames: readonly string[];
  private rate: LearningRate;
  private updates = 0;
  /** The state arrays by parameter path, in the order of `stateNames`. */
  private slots = new Map<string, MetalArray[]>();

  protected constructor(name: string, learningRate: unknown) {
    this.rate = checkLearningRate(name, learningRate);
  }

  /**
   * Computes one parameter's new value and new state (lazily). `state` is undefined on
   * the parameter's first update (no state yet).
   */
  protected abstract updateParameter(param: MetalArray, grad: MetalArray, state: readonly MetalArray[] | undefined, context: StepContext): ParameterUpdate;

  /**
   * How many updates this optimizer has done.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const opt = new ma.optimizers.SGD({ learningRate: 0.1 });
   * opt.applyGradients({ w: ma.ones([2]) }, { w: ma.zeros([2]) });
   * opt.step; // 1
   * ```
   */
  get step(): number {
    return this.updates;
  }

  /**
   * The learning rate the next update will use (a schedule evaluated at `step`).
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const opt = new ma.optimizers.Adam({ learningRate: ma.optimizers.exponentialDecay(0.1, 0.5) });
   * opt.learningRate; // 0.1
   * ```
   */
  get learningRate(): number {
    const value = typeof this.rate === 'number' ? this.rate : this.rate(this.updates);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ArgumentError(
        `${this.name}: the learningRate schedule gave ${formatValue(value)} at step ${this.updates}; a learning rate must be a finite number ≥ 0`,
      );
    }
    return value;
  }

  /**
   * Sets the learning rate (a number or a schedule) for the following updates.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const opt = new ma.optimizers.SGD({ learningRate: 0.1 });
   * opt.learningRate = 0.01;
   * ```
   */
  set learningRate(value: LearningRate) {
    this.rate = checkLearningRate(this.name, value);
  }

  /**
   * The optimizer's state as a tree: `step` (an int32 scalar) and, per state name, a
   * tree shaped as the parameters (`{ step, m: {...}, v: {...} }` for Adam). Save it
   * with the model (`ma.treeFlatten` gives dotted keys for `ma.saveSafetensors`), or
   * use `saveState`/`loadState`.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const opt = new ma.optimizers.Adam({ learningRate: 0.1 });
   * opt.applyGradients({ w: ma.ones([2]) }, { w: ma.zeros([2]) });
   * ma.treeFlatten(opt.state).map(([path]) => path); // ['step', 'm.w', 'v.w']
   * ```
   */
  get state(): OptimizerState {
    const out: OptimizerState = { step: array(this.updates, 'int32') };
    this.stateNames.forEach((name, i) => {
      const pairs: [string, MetalArray][] = [];
      for (const [path, arrays] of this.slots) pairs.push([path, arrays[i] as MetalArray]);
      out[name] = pairs.length === 1 && pairs[0]?.[0] === '' ? pairs[0][1] : (treeUnflatten(pairs.filter(([p]) => p !== '')) as ArrayTree);
    });
    return out;
  }

  /**
   * Replaces the state with a tree shaped as `state` returns (from a checkpoint).
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const a = new ma.optimizers.Adam({ learningRate: 0.1 });
   * a.applyGradients({ w: ma.ones([2]) }, { w: ma.zeros([2]) });
   * const b = new ma.optimizers.Adam({ learningRate: 0.1 });
   * b.state = a.state;
   * b.step; // 1
   * ```
   */
  set state(tree: OptimizerState) {
    if (typeof tree !== 'object' || tree === null || !(tree.step instanceof MetalArray)) {
      throw new ArgumentError(`${this.name}: a state must be a tree { step, ${this.stateNames.join(', ')} } as optimizer.state returns`);
    }
    const step = tree.step.item();
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0)
      throw new ArgumentError(`${this.name}: the state's step must be a whole number ≥ 0, got ${formatValue(step)}`);
    for (const key of Object.keys(tree)) {
      if (key !== 'step' && !this.stateNames.includes(key)) {
        throw new ArgumentError(`${this.name}: the state has an unknown entry '${key}'; ${this.name} keeps { step, ${this.stateNames.join(', ')} }`);
      }
    }
    const slots = new Map<string, MetalArray[]>();
    this.stateNames.forEach((name, i) => {
      const sub = tree[name];
      if (sub === undefined) {
        if (step > 0 && this.stateNames.length > 0) throw new ArgumentError(`${this.name}: the state lacks '${name}'`);
        return;
      }
      for (const [path, value] of treeFlatten(sub)) {
        const list = slots.get(path) ?? [];
        list[i] = value;
        slots.set(path, list);
      }
    });
    for (const [path, list] of slots) {
      this.stateNames.forEach((name, i) => {
        if (list[i] === undefined) throw new ArgumentError(`${this.name}: the state has '${this.stateNames[0]}' for parameter '${path}' but no '${name}'`);
      });
    }
    this.updates = step;
    this.slots = slots;
  }

  /**
   * Writes the state to a safetensors file (dotted keys: `step`, `m.layers.0.weight`, ...;
   * the optimizer's name in the metadata).
   *
   * @param path - the file (`.safetensors` is appended when missing)
   * @returns the path written
   *
   * @example
   * ```ts
   * import { tmpdir } from 'node:os';
   * import { join } from 'node:path';
   * import * as ma from 'metalarray';
   * const opt = new ma.optimizers.AdamW({ learningRate: 1e-3 });
   * opt.applyGradients({ w: ma.ones([2]) }, { w: ma.zeros([2]) });
   * const file = opt.saveState(join(tmpdir(), 'adamw-state'));
   * const again = new ma.optimizers.AdamW({ learningRate: 1e-3 });
   * again.loadState(file);
   * again.step; // 1
   * ```
   */
  saveState(path: string): string {
    checkArgCount(`${this.name}.saveState`, arguments.length, 1, 'optimizer.saveState(path)');
    return saveSafetensors(path, Object.fromEntries(treeFlatten(this.state)), { optimizer: this.name });
  }

  /**
   * Reads a state that `saveState` wrote (or any safetensors file with the same dotted
   * keys) into this optimizer.
   *
   * @param path - the safetensors file
   *
   * @example
   * ```ts
   * import { tmpdir } from 'node:os';
   * import { join } from 'node:path';
   * import * as ma from 'metalarray';
   * const opt = new ma.optimizers.SGD({ learningRate: 0.1, momentum: 0.9 });
   * opt.applyGradients({ w: ma.ones([2]) }, { w: ma.zeros([2]) });
   * const file = opt.saveState(join(tmpdir(), 'sgd-state'));
   * new ma.optimizers.SGD({ learningRate: 0.1, momentum: 0.9 }).loadState(file);
   * ```
   */
  loadState(path: string): void {
    checkArgCount(`${this.name}.loadState`, arguments.length, 1, 'optimizer.loadState(path)');
    const { arrays } = loadSafetensors(path);
    const pairs = Object.entries(arrays);
    if (!pairs.some(([k]) => k === 'step')) throw new ArgumentError(`${this.name}.loadState: ${path} has no 'step' entry; is it an optimizer state?`);
    this.state = treeUnflatten(pairs) as unknown as OptimizerState;
  }

  /**
   * Updates a model's trainable parameters with `grads` (a tree shaped as
   * `model.trainableParameters()`), then evaluates the new parameters and state: one
   * kernel per parameter. Evaluate the loss with the gradients first
   * (`ma.eval(loss, ...)`) when you read it afterwards, or it is computed again.
   *
   * @param model - anything with `trainableParameters()` and `update(tree)` (an `ma.nn.Module`)
   * @param grads - the gradients, shaped as the trainable parameters
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const model = {
   *   params: { w: ma.ones([2]) } as ma.ArrayTree,
   *   trainableParameters() { return this.params; },
   *   update(tree: ma.ArrayTree) { this.params = tree; },
   * };
   * new ma.optimizers.SGD({ learningRate: 0.5 }).update(model, { w: ma.ones([2]) });
   * ```
   */
  update(model: Trainable, grads: ArrayTree): void {
    checkArgCount(`${this.name}.update`, arguments.length, 2, 'optimizer.update(model, grads)');
    if (typeof model !== 'object' || model === null || typeof model.trainableParameters !== 'function' || typeof model.update !== 'function') {
      throw new ArgumentError(`${this.name}.update: the model must have trainableParameters() and update(tree) (an ma.nn.Module), got ${formatValue(model)}`);
    }
    model.update(this.applyGradients(grads, model.trainableParameters()));
  }

  /**
   * Returns the parameters after one update with `grads` (a tree of the same structure
   * as `params`), evaluated, and advances the state. For plain parameter trees.
   *
   * @param grads - the gradients, shaped as `params`
   * @param params - the parameters (float arrays)
   * @returns the new parameters, in a tree of the same structure
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const opt = new ma.optimizers.SGD({ learningRate: 0.1 });
   * const next = opt.applyGradients({ w: ma.array([1, 2], 'float32') }, { w: ma.zeros([2]) });
   * next.w.tolist(); // [-0.1, -0.2] (as float32)
   * ```
   */
  applyGradients<T extends ArrayTree>(grads: ArrayTree, params: T): T {
    checkArgCount(`${this.name}.applyGradients`, arguments.length, 2, 'optimizer.applyGradients(grads, params)');
    const paramList = treeFlatten(params);
    const gradList = matchGradients(this.name, grads, paramList);
    const context: StepContext = { learningRate: this.learningRate, step: this.updates + 1 };
    const packed: MetalArray[] = [];
    paramList.forEach(([path, param], i) => {
      const grad = gradList[i] as MetalArray;
      const old = this.slots.get(path);
      old?.forEach((s, j) => {
        if (!sameShape(s.shape, param.shape)) {
          throw new ArgumentError(
            `${this.name}: the state '${this.stateNames[j]}' of parameter '${path}' has shape [${s.shape.join(', ')}] but the parameter has [${param.shape.join(', ')}]`,
          );
        }
      });
      const g = grad.dtype === param.dtype ? grad : astype(grad, param.dtype);
      // Each part of the stack comes from its own build of the update, so no node is read
      // by two parts: a shared node (a moment the parameter's step reads) may be made a
      // kernel of its own by the scheduler's cost rule; private copies always fuse.
      const parts: MetalArray[] = [];
      for (let part = 0; part <= this.stateNames.length; part++) {
        const update = this.updateParameter(param, g, old, context);
        const a = part === 0 ? update.param : (update.state[part - 1] as MetalArray);
        parts.push(a.dtype === param.dtype ? a : astype(a, param.dtype));
      }
      packed.push(parts.length === 1 ? (parts[0] as MetalArray) : stack(parts));
    });
    evaluate(...packed);
    if (this.stateNames.length === 0) {
      this.updates += 1;
      let next = 0;
      return treeMap(() => packed[next++] as MetalArray, params);
    }
    // Views taken after the evaluation sit on the evaluated buffer: their structural hash
    // is the same every step (a view built on the lazy stack would hash its whole graph),
    // so the next step's plan is a cache hit.
    const results = packed.map((all, i) => {
      this.slots.set(
        paramList[i]?.[0] as string,
        this.stateNames.map((_, j) => slice(all, j + 1)),
      );
      return slice(all, 0);
    });
    this.updates += 1;
    let next = 0;
    return treeMap(() => results[next++] as MetalArray, params);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The gradients in the order of `params`, checked: same paths, same shapes, float parameters. */
function matchGradients(optimizer: string, grads: unknown, params: readonly [string, MetalArray][]): MetalArray[] {
  const gradMap = new Map(treeFlatten(grads));
  if (gradMap.size === 0 && params.length > 0) throw new ArgumentError(`${optimizer}: the gradients hold no arrays; pass a tree shaped as the parameters`);
  const shown = (path: string): string => (path === '' ? 'the parameter' : `'${path}'`);
  const out = params.map(([path, param]) => {
    if (!FLOAT_DTYPES.has(param.dtype)) throw new ArgumentError(`${optimizer}: parameter ${shown(path)} is ${param.dtype}; only float parameters are trained`);
    const g = gradMap.get(path);
    if (g === undefined) throw new ArgumentError(`${optimizer}: no gradient for parameter ${shown(path)}; the gradients must be shaped as the parameters`);
    if (!sameShape(g.shape, param.shape)) {
      throw new ArgumentError(
        `${optimizer}: the gradient of ${shown(path)} has shape [${g.shape.join(', ')}] but the parameter has [${param.shape.join(', ')}]`,
      );
    }
    gradMap.delete(path);
    return g;
  });
  const extra = gradMap.keys().next();
  if (!extra.done) throw new ArgumentError(`${optimizer}: gradient ${shown(extra.value)} has no parameter; the gradients must be shaped as the parameters`);
  return out;
}
