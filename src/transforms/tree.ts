/**
 * Array trees: arrays nested in JS arrays and plain objects (a model's parameters, an
 * optimizer's state, a function's arguments). The transformations flatten a tree to its
 * arrays, work on the flat list and rebuild a tree of the same structure, as JAX's
 * pytrees and MLX's trees do. Anything that is not a JS array, a plain object or a
 * MetalArray (numbers, strings, null, class instances) is a static leaf: kept as it is,
 * never differentiated or mapped, and part of the structure's key.
 */
import { checkArgCount } from '../core/arguments.js';
import { MetalArray } from '../array/array.js';
import { ArgumentError } from '../errors.js';

/** A tree of arrays: a MetalArray, or JS arrays and plain objects nesting trees. */
export type ArrayTree = MetalArray | readonly ArrayTree[] | { readonly [key: string]: ArrayTree };

/** A tree's structure without its arrays: rebuilds the tree from a new list of leaves. */
export interface TreeDef {
  /** How many array leaves the tree holds. */
  readonly count: number;
  /** A string that two trees share exactly when their structures and static leaves agree. */
  readonly key: string;
  /** The tree with its array leaves replaced, in order, by `leaves`. */
  rebuild<T>(leaves: readonly T[]): unknown;
}

type Shape = { kind: 'array' } | { kind: 'list'; items: Shape[] } | { kind: 'object'; keys: string[]; items: Shape[] } | { kind: 'static'; value: unknown };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function staticKey(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `fn:${value.name}`;
  return `obj:${Object.prototype.toString.call(value)}`;
}

function describe(x: unknown, leaves: MetalArray[], seen: Set<object>, op: string): [Shape, string] {
  if (x instanceof MetalArray) {
    leaves.push(x);
    return [{ kind: 'array' }, '*'];
  }
  if (Array.isArray(x) || isPlainObject(x)) {
    if (seen.has(x)) throw new ArgumentError(`${op}: the tree contains itself (a cycle); pass a tree of arrays, lists and plain objects`);
    seen.add(x);
    try {
      if (Array.isArray(x)) {
        const parts = x.map((item) => describe(item, leaves, seen, op));
        return [{ kind: 'list', items: parts.map((p) => p[0]) }, `[${parts.map((p) => p[1]).join(',')}]`];
      }
      const keys = Object.keys(x);
      const parts = keys.map((k) => describe(x[k], leaves, seen, op));
      return [{ kind: 'object', keys, items: parts.map((p) => p[0]) }, `{${keys.map((k, i) => `${JSON.stringify(k)}:${parts[i]?.[1]}`).join(',')}}`];
    } finally {
      seen.delete(x);
    }
  }
  return [{ kind: 'static', value: x }, staticKey(x)];
}

function rebuildShape(shape: Shape, leaves: readonly unknown[], cursor: { i: number }): unknown {
  switch (shape.kind) {
    case 'array':
      return leaves[cursor.i++];
    case 'list':
      return shape.items.map((s) => rebuildShape(s, leaves, cursor));
    case 'object': {
      const out: Record<string, unknown> = {};
      shape.items.forEach((s, i) => {
        out[shape.keys[i] as string] = rebuildShape(s, leaves, cursor);
      });
      return out;
    }
    case 'static':
      return shape.value;
  }
}

/**
 * Flattens a tree to its arrays (depth first, object keys in insertion order) and its
 * structure.
 *
 * @example
 * ```ts no-run internal (not exported)
 * const { leaves, def } = flattenTree({ w: ma.ones([2]), b: [ma.zeros([1]), 3] });
 * leaves.length; // 2
 * def.rebuild(leaves.map((a) => a.add(1))); // { w: [2, 2], b: [[1], 3] } with arrays
 * ```
 */
export function flattenTree(tree: unknown, op = 'flattenTree'): { leaves: MetalArray[]; def: TreeDef } {
  const leaves: MetalArray[] = [];
  const [shape, key] = describe(tree, leaves, new Set(), op);
  const count = leaves.length;
  const def: TreeDef = {
    count,
    key,
    rebuild<T>(newLeaves: readonly T[]): unknown {
      if (newLeaves.length !== count) {
        throw new ArgumentError(`${op}: rebuilding a tree of ${count} arrays from ${newLeaves.length} leaves`);
      }
      return rebuildShape(shape, newLeaves, { i: 0 });
    },
  };
  return { leaves, def };
}

/**
 * Applies `fn` to every array of a tree (and the arrays at the same places in `rest`,
 * which must have the same structure), returning a tree of the results.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const params = { w: ma.ones([2, 2]), b: ma.zeros([2]) };
 * const grads = { w: ma.full([2, 2], 0.5), b: ma.ones([2]) };
 * const next = ma.treeMap((p, g) => p.subtract(g.multiply(0.1)), params, grads);
 * next.w.tolist(); // [[0.95, 0.95], [0.95, 0.95]]
 * ```
 */
export function treeMap<T>(fn: (leaf: MetalArray, ...rest: MetalArray[]) => MetalArray, tree: T, ...rest: unknown[]): T {
  if (typeof fn !== 'function') throw new ArgumentError(`treeMap: the first argument must be a function (leaf, ...rest) => array, got ${typeof fn}`);
  const { leaves, def } = flattenTree(tree, 'treeMap');
  const others = rest.map((r, i) => {
    const flat = flattenTree(r, 'treeMap');
    if (flat.def.key !== def.key) {
      throw new ArgumentError(`treeMap: tree ${i + 1} after the first has a different structure (${flat.def.key} vs ${def.key})`);
    }
    return flat.leaves;
  });
  return def.rebuild(leaves.map((leaf, j) => fn(leaf, ...others.map((o) => o[j] as MetalArray)))) as T;
}

/**
 * The arrays of a tree with their dotted paths (`'layers.0.weight'`), as MLX's
 * `tree_flatten`. Static leaves are left out.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * ma.treeFlatten({ layers: [{ w: ma.ones([2]) }], b: ma.zeros([1]) }).map(([path]) => path);
 * // ['layers.0.w', 'b']
 * ```
 */
export function treeFlatten(tree: ArrayTree | unknown, prefix = ''): [string, MetalArray][] {
  checkArgCount('treeFlatten', arguments.length, 2, 'treeFlatten(tree, prefix)');
  const out: [string, MetalArray][] = [];
  const walk = (x: unknown, path: string, seen: Set<object>): void => {
    if (x instanceof MetalArray) {
      out.push([path, x]);
      return;
    }
    if (Array.isArray(x) || isPlainObject(x)) {
      if (seen.has(x)) throw new ArgumentError('treeFlatten: the tree contains itself (a cycle)');
      seen.add(x);
      const entries: [string, unknown][] = Array.isArray(x) ? x.map((v, i) => [String(i), v]) : Object.entries(x);
      for (const [k, v] of entries) walk(v, path === '' ? k : `${path}.${k}`, seen);
      seen.delete(x);
    }
  };
  walk(tree, prefix, new Set());
  return out;
}

/**
 * Rebuilds a tree from `[path, array]` pairs (the inverse of `treeFlatten`): a path
 * segment that is a whole number makes a list, any other an object.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const tree = ma.treeUnflatten([['layers.0.w', ma.ones([2])], ['b', ma.zeros([1])]]);
 * Object.keys(tree); // ['layers', 'b']
 * ```
 */
export function treeUnflatten(pairs: readonly (readonly [string, MetalArray])[]): Record<string, unknown> {
  checkArgCount('treeUnflatten', arguments.length, 1, 'treeUnflatten(pairs)');
  if (!Array.isArray(pairs)) throw new ArgumentError('treeUnflatten: expected a list of [path, array] pairs, as treeFlatten returns');
  const root: Record<string, unknown> = {};
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new ArgumentError('treeUnflatten: every entry must be a [path, array] pair');
    const [path, value] = pair as unknown as readonly [string, MetalArray];
    if (typeof path !== 'string' || path === '') throw new ArgumentError('treeUnflatten: every pair needs a non-empty path string');
    const parts = path.split('.');
    let node: Record<string, unknown> = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        if (part in node) throw new ArgumentError(`treeUnflatten: path '${path}' appears twice`);
        node[part] = value;
        return;
      }
      const next = node[part];
      if (next === undefined) node[part] = Object.create(null) as Record<string, unknown>;
      else if (next instanceof MetalArray)
        throw new ArgumentError(`treeUnflatten: path '${path}' goes through the array at '${parts.slice(0, i + 1).join('.')}'`);
      node = node[part] as Record<string, unknown>;
    });
  }
  return listify(root) as Record<string, unknown>;
}

/** Objects whose keys are exactly 0..n-1 become lists, as MLX's tree_unflatten does. */
function listify(x: unknown): unknown {
  if (!isPlainObject(x)) return x;
  const keys = Object.keys(x);
  for (const k of keys) x[k] = listify(x[k]);
  const isList = keys.length > 0 && keys.every((k, i) => k === String(i));
  return isList ? keys.map((k) => x[k]) : x;
}
