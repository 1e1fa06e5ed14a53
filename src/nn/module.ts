/**
 * The `Module` base class of `ma.nn` (MLX's `nn.Module`): a layer keeps its parameters
 * as ordinary properties holding MetalArrays, its sublayers as properties holding
 * modules (or lists and plain objects of them), and the base class finds them by walking
 * its own enumerable properties. Properties whose name starts with `_` are private state
 * (keys, caches, the frozen set), never parameters. A module is called through its
 * `forward` method: TypeScript has no callable class instances, and a method keeps the
 * argument types checked.
 */
import { inspect } from 'node:util';
import { MetalArray } from '../array/array.js';
import { ArgumentError, FileError, ShapeError, formatValue } from '../errors.js';
import { loadSafetensors, saveSafetensors } from '../io/files.js';
import { astype } from '../ops/elementwise.js';

/** A module's parameters: a tree of arrays keyed as the module's properties (lists for lists of sublayers). */
export interface ParameterTree {
  readonly [key: string]: ParameterNode;
}

/** One node of a parameter tree: an array, a subtree, or a list of them (null for a frozen array inside a list). */
export type ParameterNode = MetalArray | ParameterTree | readonly ParameterNode[] | null;

/** Options of `Module.loadWeights`. */
export interface LoadWeightsOptions {
  /** Every parameter must be in the file and every tensor of the file must be a parameter (default true). */
  readonly strict?: boolean;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Whether a property value holds parameters or modules (directly or in lists and plain objects). */
function holdsState(value: unknown): boolean {
  if (value instanceof MetalArray || value instanceof Module) return true;
  if (Array.isArray(value)) return value.some(holdsState);
  if (isPlainObject(value)) return Object.values(value).some(holdsState);
  return false;
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/** A parameter found by walking a module: its full dotted path, the module owning it and its path there. */
interface ParameterEntry {
  readonly path: string;
  readonly owner: Module;
  readonly local: string;
  readonly array: MetalArray;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * The base class of every layer. Subclasses assign their parameters (MetalArrays) and
 * sublayers (modules, or lists and plain objects of them) to properties in their
 * constructor and define `forward`. The base class provides the parameter tree, updates,
 * freezing, the training flag, safetensors weights and printing.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * class Affine extends ma.nn.Module {
 *   scale = ma.ones([3]);
 *   shift = ma.zeros([3]);
 *   forward(x: ma.MetalArray): ma.MetalArray {
 *     return x.multiply(this.scale).add(this.shift);
 *   }
 * }
 * const layer = new Affine();
 * console.log(Object.keys(layer.parameters())); // [ 'scale', 'shift' ]
 * console.log(layer.forward(ma.array([1, 2, 3], 'float32')).tolist()); // [ 1, 2, 3 ]
 * ```
 */
export abstract class Module {
  /** True in training mode (the default), false after `eval()`: Dropout is active only while training. */
  training = true;
  /** Local paths (inside this module, not its sublayers) of the frozen parameters. */
  private readonly _frozen = new Set<string>();

  /** The state-holding properties of this module, in definition order. */
  private stateEntries(): [string, unknown][] {
    const out: [string, unknown][] = [];
    for (const key of Object.keys(this)) {
      if (key.startsWith('_') || key === 'training') continue;
      const value = (this as unknown as Record<string, unknown>)[key];
      if (holdsState(value)) out.push([key, value]);
    }
    return out;
  }

  /** Every parameter of this module and its sublayers, depth first in definition order. */
  private entries(prefix = ''): ParameterEntry[] {
    const out: ParameterEntry[] = [];
    const walk = (value: unknown, path: string, local: string): void => {
      if (value instanceof MetalArray) out.push({ path, owner: this, local, array: value });
      else if (value instanceof Module) out.push(...value.entries(path));
      else if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, join(path, String(i)), join(local, String(i)));
      else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(v, join(path, k), join(local, k));
    };
    for (const [key, value] of this.stateEntries()) walk(value, join(prefix, key), key);
    return out;
  }

  private tree(trainableOnly: boolean): ParameterTree {
    const build = (value: unknown, local: string): ParameterNode | undefined => {
      if (value instanceof MetalArray) return trainableOnly && this._frozen.has(local) ? undefined : value;
      if (value instanceof Module) return value.tree(trainableOnly);
      // A list keeps its positions: a frozen array in it becomes null (a static leaf to the transformations).
      if (Array.isArray(value)) return value.map((v, i) => (holdsState(v) ? (build(v, join(local, String(i))) ?? null) : null));
      if (isPlainObject(value)) {
        const out: Record<string, ParameterNode> = {};
        for (const [k, v] of Object.entries(value)) {
          if (!holdsState(v)) continue;
          const node = build(v, join(local, k));
          if (node !== undefined) out[k] = node;
        }
        return out;
      }
      return undefined;
    };
    const out: Record<string, ParameterNode> = {};
    for (const [key, value] of this.stateEntries()) {
      const node = build(value, key);
      if (node !== undefined) out[key] = node;
    }
    return out;
  }

  /**
   * All parameters of the module and its sublayers as a tree keyed like the properties
   * (sublayers as subtrees, lists of sublayers as lists), frozen ones included.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const model = new ma.nn.Sequential(new ma.nn.Linear(2, 3), new ma.nn.ReLU(), new ma.nn.Linear(3, 1));
   * console.log(ma.treeFlatten(model.parameters()).map(([path]) => path));
   * // [ 'layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias' ]
   * ```
   */
  parameters(): ParameterTree {
    return this.tree(false);
  }

  /**
   * The parameters that are not frozen, as a tree of the same layout as `parameters()`
   * (frozen arrays left out; inside a list, a frozen array is null so positions stay).
   * `ma.nn.valueAndGrad` differentiates with respect to these.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const layer = new ma.nn.Linear(2, 2);
   * layer.freeze('bias');
   * console.log(Object.keys(layer.trainableParameters())); // [ 'weight' ]
   * ```
   */
  trainableParameters(): ParameterTree {
    return this.tree(true);
  }

  /**
   * The direct sublayers, as `[name, module]` pairs with dotted names for sublayers in
   * lists and objects (`'layers.0'`).
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const model = new ma.nn.Sequential(new ma.nn.Linear(2, 3), new ma.nn.ReLU());
   * console.log(model.children().map(([name, m]) => `${name}: ${m.constructor.name}`)); // [ 'layers.0: Linear', 'layers.1: ReLU' ]
   * ```
   */
  children(): [string, Module][] {
    const out: [string, Module][] = [];
    const walk = (value: unknown, path: string): void => {
      if (value instanceof Module) out.push([path, value]);
      else if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, join(path, String(i)));
      else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(v, join(path, k));
    };
    for (const [key, value] of this.stateEntries()) walk(value, key);
    return out;
  }

  /**
   * Replaces parameters by the arrays of `tree`, a tree of the layout of `parameters()`
   * that may hold only some of them (as an optimizer's update or `valueAndGrad`'s
   * gradients do). Each new array must have the shape of the one it replaces.
   *
   * @throws ArgumentError naming the path of a key the module does not have
   * @throws ShapeError naming the parameter and both shapes
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const layer = new ma.nn.Linear(2, 1);
   * layer.update({ bias: ma.array([5], 'float32') });
   * console.log(layer.bias?.tolist()); // [ 5 ]
   * ```
   */
  update(tree: ParameterTree): this {
    if (!isPlainObject(tree))
      throw new ArgumentError(`${this.constructor.name}.update: expected a tree of arrays as parameters() returns, got ${formatValue(tree)}`);
    this.assignTree(tree, '');
    return this;
  }

  private assignTree(tree: Readonly<Record<string, unknown>>, prefix: string): void {
    const self = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(tree)) {
      const path = join(prefix, key);
      if (key.startsWith('_') || key === 'training' || !Object.hasOwn(self, key) || !holdsState(self[key])) {
        throw new ArgumentError(`${this.constructor.name}.update: the module has no parameter '${path}'`);
      }
      self[key] = this.assignValue(self[key], value, path);
    }
  }

  /** The new value of a property (or an element inside one) at `path`, checked against the current one. */
  private assignValue(current: unknown, value: unknown, path: string): unknown {
    const where = `${this.constructor.name}.update`;
    if (value === null || value === undefined) return current; // a frozen array's place in a list
    if (current instanceof MetalArray) {
      if (!(value instanceof MetalArray)) throw new ArgumentError(`${where}: '${path}' must be a MetalArray, got ${formatValue(value)}`);
      const a = current.shape;
      const b = value.shape;
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        throw new ShapeError(`${where}: parameter '${path}' has shape ${shapeText(a)}, the new value has shape ${shapeText(b)}`);
      }
      return value;
    }
    if (current instanceof Module) {
      if (!isPlainObject(value))
        throw new ArgumentError(`${where}: '${path}' is a ${current.constructor.name}; pass a tree of its parameters, got ${formatValue(value)}`);
      current.assignTree(value, path);
      return current;
    }
    if (Array.isArray(current)) {
      if (!Array.isArray(value)) throw new ArgumentError(`${where}: '${path}' is a list; pass a list, got ${formatValue(value)}`);
      if (value.length > current.length) throw new ArgumentError(`${where}: the module has no parameter '${join(path, String(current.length))}'`);
      const next = current.slice();
      value.forEach((v, i) => {
        next[i] = this.assignValue(current[i], v, join(path, String(i)));
      });
      return next;
    }
    if (isPlainObject(current)) {
      if (!isPlainObject(value)) throw new ArgumentError(`${where}: '${path}' is an object; pass an object, got ${formatValue(value)}`);
      const next = { ...current };
      for (const [k, v] of Object.entries(value)) {
        if (!Object.hasOwn(current, k) || !holdsState(current[k])) throw new ArgumentError(`${where}: the module has no parameter '${join(path, k)}'`);
        next[k] = this.assignValue(current[k], v, join(path, k));
      }
      return next;
    }
    throw new ArgumentError(`${where}: the module has no parameter '${path}'`);
  }

  private matching(op: string, keys: string | readonly string[] | undefined): ParameterEntry[] {
    const all = this.entries();
    if (keys === undefined) return all;
    const list = typeof keys === 'string' ? [keys] : keys;
    if (!Array.isArray(list) || !list.every((k) => typeof k === 'string')) {
      throw new ArgumentError(`${this.constructor.name}.${op}: keys must be a dotted path or a list of them ('layers.0', 'weight'), got ${formatValue(keys)}`);
    }
    const out: ParameterEntry[] = [];
    for (const key of list) {
      const hits = all.filter((e) => e.path === key || e.path.startsWith(`${key}.`));
      if (hits.length === 0) {
        throw new ArgumentError(`${this.constructor.name}.${op}: no parameter or sublayer '${key}'; the parameters are ${all.map((e) => e.path).join(', ')}`);
      }
      out.push(...hits);
    }
    return out;
  }

  /**
   * Freezes parameters: `valueAndGrad` and optimizers leave them alone. With no
   * argument, every parameter of the module and its sublayers; otherwise the parameters
   * at the given dotted paths, a path naming a sublayer freezing all of its parameters.
   *
   * @throws ArgumentError naming a path that is neither a parameter nor a sublayer
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const model = new ma.nn.Sequential(new ma.nn.Linear(2, 2), new ma.nn.Linear(2, 1));
   * model.freeze('layers.0');
   * console.log(ma.treeFlatten(model.trainableParameters()).map(([p]) => p)); // [ 'layers.1.weight', 'layers.1.bias' ]
   * ```
   */
  freeze(keys?: string | readonly string[]): this {
    for (const e of this.matching('freeze', keys)) e.owner._frozen.add(e.local);
    return this;
  }

  /**
   * Unfreezes parameters (all, or those at the given dotted paths), the inverse of `freeze`.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const layer = new ma.nn.Linear(2, 2).freeze();
   * layer.unfreeze('bias');
   * console.log(Object.keys(layer.trainableParameters())); // [ 'bias' ]
   * ```
   */
  unfreeze(keys?: string | readonly string[]): this {
    for (const e of this.matching('unfreeze', keys)) e.owner._frozen.delete(e.local);
    return this;
  }

  /**
   * Sets training mode (true, the default) or evaluation mode on this module and every
   * sublayer.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const model = new ma.nn.Sequential(new ma.nn.Dropout(0.5));
   * console.log(model.train(false).children()[0]?.[1].training); // false
   * ```
   */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ArgumentError(`${this.constructor.name}.train: mode must be a boolean, got ${formatValue(mode)}`);
    this.training = mode;
    for (const [, child] of this.children()) child.train(mode);
    return this;
  }

  /**
   * Evaluation mode (`train(false)`): Dropout passes its input through.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.Dropout(0.1).eval().training); // false
   * ```
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * How many scalars the parameters hold (all, or only the trainable ones).
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.Linear(4, 3).parameterCount()); // 15
   * ```
   */
  parameterCount(trainableOnly = false): number {
    return this.entries()
      .filter((e) => !trainableOnly || !e.owner._frozen.has(e.local))
      .reduce((n, e) => n + e.array.size, 0);
  }

  /**
   * Writes every parameter (frozen ones too) to a safetensors file under its dotted
   * path (`layers.0.weight`), as PyTorch's `state_dict` names them. Returns the path
   * written (`.safetensors` is appended when missing).
   *
   * @example
   * ```ts
   * import { tmpdir } from 'node:os';
   * import { join } from 'node:path';
   * import * as ma from 'metalarray';
   * const layer = new ma.nn.Linear(2, 2);
   * const file = layer.saveWeights(join(tmpdir(), 'linear-example.safetensors'));
   * console.log(Object.keys(ma.loadSafetensors(file).arrays).sort()); // [ 'bias', 'weight' ]
   * ```
   */
  saveWeights(path: string): string {
    const arrays: Record<string, MetalArray> = {};
    for (const e of this.entries()) arrays[e.path] = e.array;
    return saveSafetensors(path, arrays, { format: 'metalarray.nn' });
  }

  /**
   * Loads parameters written by `saveWeights` (or any safetensors file with the same
   * dotted names). Each tensor must have its parameter's shape; it is cast to the
   * parameter's dtype. With `strict` (the default) a parameter missing from the file or a
   * tensor that is not a parameter is an error; otherwise the missing ones keep their
   * values and the extra ones are ignored.
   *
   * @throws FileError naming the file and the missing or extra key
   * @throws ShapeError naming the parameter and both shapes
   *
   * @example
   * ```ts
   * import { tmpdir } from 'node:os';
   * import { join } from 'node:path';
   * import * as ma from 'metalarray';
   * const a = new ma.nn.Linear(2, 2, { key: ma.random.key(1) });
   * const b = new ma.nn.Linear(2, 2, { key: ma.random.key(2) });
   * b.loadWeights(a.saveWeights(join(tmpdir(), 'load-example.safetensors')));
   * console.log(ma.all(ma.equal(a.weight, b.weight)).item()); // true
   * ```
   */
  loadWeights(path: string, options?: LoadWeightsOptions): this {
    const where = `${this.constructor.name}.loadWeights`;
    if (options !== undefined && (!isPlainObject(options) || Object.keys(options).some((k) => k !== 'strict'))) {
      throw new ArgumentError(`${where}: options must be { strict }, got ${formatValue(options)}`);
    }
    const strict = options?.strict ?? true;
    const { arrays } = loadSafetensors(path);
    const entries = this.entries();
    const known = new Set(entries.map((e) => e.path));
    if (strict) {
      const missing = entries.filter((e) => !Object.hasOwn(arrays, e.path)).map((e) => e.path);
      const extra = Object.keys(arrays).filter((k) => !known.has(k));
      if (missing.length > 0 || extra.length > 0) {
        const parts = [];
        if (missing.length > 0) parts.push(`missing parameter${missing.length > 1 ? 's' : ''} ${missing.map((k) => `'${k}'`).join(', ')}`);
        if (extra.length > 0) parts.push(`unexpected key${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}`);
        throw new FileError(path, `${where}: ${parts.join('; ')} (pass { strict: false } to load a subset)`);
      }
    }
    for (const e of entries) {
      const loaded = Object.hasOwn(arrays, e.path) ? arrays[e.path] : undefined;
      if (loaded === undefined) continue;
      const a = e.array.shape;
      const b = loaded.shape;
      if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
        throw new ShapeError(`${where}: parameter '${e.path}' has shape ${shapeText(a)}, the file ${path} holds shape ${shapeText(b)}`);
      }
    }
    for (const e of entries) {
      const loaded = Object.hasOwn(arrays, e.path) ? arrays[e.path] : undefined;
      if (loaded === undefined) continue;
      const value = loaded.dtype === e.array.dtype ? loaded : astype(loaded, e.array.dtype);
      e.owner.setLocal(e.local, value);
    }
    return this;
  }

  /** Replaces the array at a local dotted path of this module (lists and objects copied on the way). */
  private setLocal(local: string, value: MetalArray): void {
    const parts = local.split('.');
    const self = this as unknown as Record<string, unknown>;
    const replace = (container: unknown, i: number): unknown => {
      const part = parts[i] as string;
      if (Array.isArray(container)) {
        const next = container.slice();
        next[Number(part)] = i === parts.length - 1 ? value : replace(container[Number(part)], i + 1);
        return next;
      }
      const obj = container as Record<string, unknown>;
      return { ...obj, [part]: i === parts.length - 1 ? value : replace(obj[part], i + 1) };
    };
    const head = parts[0] as string;
    self[head] = parts.length === 1 ? value : replace(self[head], 1);
  }

  /**
   * What the layer's line shows between the parentheses (`inputDims=4, outputDims=3`);
   * subclasses override it.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(new ma.nn.LayerNorm(8).describe()); // dims=8, eps=0.00001, affine=true
   * ```
   */
  describe(): string {
    return '';
  }

  /**
   * The model as text: each layer with its settings and parameter count, sublayers
   * indented, and the totals.
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * console.log(String(new ma.nn.Sequential(new ma.nn.Linear(4, 3), new ma.nn.ReLU())));
   * // Sequential(
   * //   (layers.0): Linear(inputDims=4, outputDims=3, bias=true)  15 parameters
   * //   (layers.1): ReLU()
   * // )  15 parameters (15 trainable)
   * ```
   */
  toString(): string {
    return `${this.lines('')}  ${this.parameterCount()} parameters (${this.parameterCount(true)} trainable)`;
  }

  private lines(indent: string): string {
    const settings = this.describe();
    const kids = this.children();
    if (kids.length === 0) return `${this.constructor.name}(${settings})`;
    const head = `${this.constructor.name}(${settings === '' ? '' : `${settings},`}`;
    const inner = kids
      .map(([name, m]) => {
        const n = m.parameterCount();
        return `${indent}  (${name}): ${m.lines(`${indent}  `)}${n > 0 ? `  ${n} parameters` : ''}`;
      })
      .join('\n');
    return `${head}\n${inner}\n${indent})`;
  }

  /**
   * What `console.log(model)` and `util.inspect` show: the same text as `toString`.
   *
   * @example
   * ```ts
   * import { inspect } from 'node:util';
   * import * as ma from 'metalarray';
   * console.log(inspect(new ma.nn.ReLU())); // ReLU()  0 parameters (0 trainable)
   * ```
   */
  [inspect.custom](): string {
    return this.toString();
  }
}
