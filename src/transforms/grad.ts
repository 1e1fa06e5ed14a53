/**
 * The differentiation API (MLX's, camelCase): grad, valueAndGrad, vjp, jvp,
 * stopGradient, customVjp, customJvp and checkpoint. Each runs the user's function on
 * the lazy graph with fresh primal nodes, then walks the recorded nodes
 * (src/transforms/autodiff.ts); the gradients are lazy arrays the scheduler fuses like
 * any others. Arguments and results may be array trees (src/transforms/tree.ts).
 */
import { MetalArray } from '../array/array.js';
import { castNode, constNode } from '../core/build.js';
import type { Node } from '../core/node.js';
import { checkArgCount } from '../core/arguments.js';
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { attachCustomRule, backward, forward, isFloat, markStopped, primalNode, traced, zerosLike } from './autodiff.js';
import { type ArrayTree, flattenTree } from './tree.js';

/** Which arguments to differentiate: one index or a list of them. */
export type ArgNums = number | readonly number[];

/** Options of `valueAndGrad`. */
export interface ValueAndGradOptions {
  /** f returns `[loss, aux]`; the gradient is of `loss`, `aux` comes back untouched (default false). */
  readonly hasAux?: boolean;
}

function nodeOfArray(x: MetalArray, op: string): Node {
  return x.liveNode(op);
}

function checkFunction(op: string, f: unknown, name = 'f'): void {
  if (typeof f !== 'function') throw new ArgumentError(`${op}: ${name} must be a function, got ${formatValue(f)}`);
}

function argnumList(op: string, argnums: unknown): number[] {
  const list = typeof argnums === 'number' ? [argnums] : Array.isArray(argnums) ? (argnums as unknown[]) : null;
  if (list === null || list.length === 0 || !list.every((a) => Number.isInteger(a) && (a as number) >= 0)) {
    throw new ArgumentError(`${op}: argnums must be a non-negative integer or a non-empty list of them, got ${formatValue(argnums)}`);
  }
  return list as number[];
}

/** The arguments with the array leaves of the differentiated ones replaced by fresh primals. */
function withPrimals(
  op: string,
  args: readonly unknown[],
  argnums: readonly number[],
): { args: unknown[]; primals: Node[][]; rebuild: ((leaves: MetalArray[]) => unknown)[] } {
  const out = args.slice();
  const primals: Node[][] = [];
  const rebuild: ((leaves: MetalArray[]) => unknown)[] = [];
  for (const k of argnums) {
    if (k >= args.length) throw new ArgumentError(`${op}: argnums asks for argument ${k}, but the function got ${args.length} argument(s)`);
    const { leaves, def } = flattenTree(args[k], op);
    const nodes = leaves.map((x) => primalNode(nodeOfArray(x, op)));
    primals.push(nodes);
    out[k] = def.rebuild(nodes.map((n) => MetalArray.fromNode(n)));
    rebuild.push((ls) => def.rebuild(ls));
  }
  return { args: out, primals, rebuild };
}

function scalarLoss(op: string, value: unknown): MetalArray {
  if (!(value instanceof MetalArray)) {
    throw new ArgumentError(`${op}: the function must return a MetalArray (with { hasAux: true }, a [loss, aux] pair), got ${formatValue(value)}`);
  }
  if (value.size !== 1)
    throw new ShapeError(
      `${op}: the function must return a scalar (one element) to take its gradient, got shape [${value.shape.join(', ')}]; use vjp for other shapes`,
    );
  if (!isFloat(value.dtype)) throw new ArgumentError(`${op}: the function returned a ${value.dtype} value; a gradient needs a floating-point output`);
  return value;
}

function gradient(op: string, f: (...args: never[]) => unknown, argnums: ArgNums, hasAux: boolean, args: readonly unknown[]): [unknown, unknown] {
  const nums = argnumList(op, argnums);
  return traced(() => {
    const { args: primalArgs, primals, rebuild } = withPrimals(op, args, nums);
    const result = (f as (...a: unknown[]) => unknown)(...primalArgs);
    let loss: MetalArray;
    if (hasAux) {
      if (!Array.isArray(result) || result.length !== 2)
        throw new ArgumentError(`${op}: with { hasAux: true } the function must return [loss, aux], got ${formatValue(result)}`);
      loss = scalarLoss(op, result[0]);
    } else {
      loss = scalarLoss(op, result);
    }
    const lossNode = nodeOfArray(loss, op);
    const flat = primals.flat();
    const cts = backward([lossNode], [constNode(1, lossNode.shape, lossNode.dtype, lossNode.backend)], flat, op);
    let at = 0;
    const grads = primals.map((nodes, k) => {
      const leaves = nodes.map((p) => MetalArray.fromNode(cts[at++] ?? zerosLike(p)));
      return rebuild[k](leaves);
    });
    return [result, typeof argnums === 'number' ? grads[0] : grads];
  });
}

/**
 * A function that returns the gradient of `f`'s scalar output with respect to argument
 * `argnums` (default 0; a list gives a list of gradients). Arguments may be array trees
 * (objects and arrays of arrays): the gradient has the same structure. Arguments not
 * differentiated pass through untouched; integer arrays get zero gradients.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const f = (x: ma.MetalArray) => x.multiply(x).sum();
 * const df = ma.grad(f);
 * console.log(df(ma.array([1, 2, 3], 'float32')).tolist()); // [ 2, 4, 6 ]
 * const d2 = ma.grad(ma.grad((x: ma.MetalArray) => x.multiply(x).multiply(x)));
 * console.log(d2(ma.array(2, 'float32')).item()); // 12
 * ```
 */
export function grad<A extends unknown[], N extends number = 0>(f: (...args: A) => MetalArray, argnums?: N): (...args: A) => GradientOf<A, N>;
export function grad<A extends unknown[]>(f: (...args: A) => MetalArray, argnums: readonly number[]): (...args: A) => ArrayTree[];
export function grad<A extends unknown[]>(f: (...args: A) => MetalArray, argnums: ArgNums = 0): (...args: A) => unknown {
  checkArgCount('grad', arguments.length, 2, 'grad(f, argnums)');
  checkFunction('grad', f);
  argnumList('grad', argnums);
  return (...args: A): unknown => gradient('grad', f, argnums, false, args)[1];
}

/**
 * Like `grad`, but the function returns `[value, gradients]`. With `{ hasAux: true }`,
 * `f` returns `[loss, aux]`, the gradient is of `loss`, and the value is `[loss, aux]`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const loss = (p: { w: ma.MetalArray }, x: ma.MetalArray) => p.w.multiply(x).sum();
 * const [value, grads] = ma.valueAndGrad(loss)({ w: ma.array([1, 2], 'float32') }, ma.array([3, 4], 'float32'));
 * console.log(value.item(), grads.w.tolist()); // 11 [ 3, 4 ]
 * const withAux = ma.valueAndGrad((x: ma.MetalArray) => [x.sum(), x.max()], 0, { hasAux: true });
 * const [[l, aux], g] = withAux(ma.array([1, 5], 'float32'));
 * console.log(l.item(), aux.item(), g.tolist()); // 6 5 [ 1, 1 ]
 * ```
 */
export function valueAndGrad<A extends unknown[], N extends number = 0>(
  f: (...args: A) => MetalArray,
  argnums?: N,
  options?: ValueAndGradOptions & { readonly hasAux?: false },
): (...args: A) => [MetalArray, GradientOf<A, N>];
export function valueAndGrad<A extends unknown[]>(
  f: (...args: A) => MetalArray,
  argnums: readonly number[],
  options?: ValueAndGradOptions & { readonly hasAux?: false },
): (...args: A) => [MetalArray, ArrayTree[]];
export function valueAndGrad<A extends unknown[], Aux, N extends number = 0>(
  f: (...args: A) => readonly [MetalArray, Aux],
  argnums: N,
  options: ValueAndGradOptions & { readonly hasAux: true },
): (...args: A) => [[MetalArray, Aux], GradientOf<A, N>];
export function valueAndGrad<A extends unknown[], Aux>(
  f: (...args: A) => readonly [MetalArray, Aux],
  argnums: readonly number[],
  options: ValueAndGradOptions & { readonly hasAux: true },
): (...args: A) => [[MetalArray, Aux], ArrayTree[]];
export function valueAndGrad<A extends unknown[]>(
  f: (...args: A) => unknown,
  argnums: ArgNums = 0,
  options?: ValueAndGradOptions,
): (...args: A) => [unknown, unknown] {
  checkArgCount('valueAndGrad', arguments.length, 3, 'valueAndGrad(f, argnums, { hasAux })');
  checkFunction('valueAndGrad', f);
  argnumList('valueAndGrad', argnums);
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw new ArgumentError(`valueAndGrad: options must be an object like { hasAux: true }, got ${formatValue(options)}`);
  for (const key of Object.keys(options ?? {})) {
    if (key !== 'hasAux') throw new ArgumentError(`valueAndGrad: unknown option '${key}' (the only option is hasAux)`);
  }
  const hasAux = options?.hasAux ?? false;
  if (typeof hasAux !== 'boolean') throw new ArgumentError(`valueAndGrad: hasAux must be a boolean, got ${formatValue(hasAux)}`);
  return (...args: A) => gradient('valueAndGrad', f, argnums, hasAux, args);
}

/**
 * The gradient `grad` and `valueAndGrad` return for argument `N`: that argument's type
 * when it is an array tree (a MetalArray, or objects and arrays of them), otherwise any
 * array tree.
 */
export type GradientOf<A extends unknown[], N extends number> = A[N] extends ArrayTree ? A[N] : ArrayTree;

function outputNodes(op: string, out: unknown): { nodes: Node[]; rebuild: (leaves: MetalArray[]) => unknown } {
  const { leaves, def } = flattenTree(out, op);
  return { nodes: leaves.map((x) => nodeOfArray(x, op)), rebuild: (ls) => def.rebuild(ls) };
}

function matchingNodes(op: string, what: string, tree: unknown, like: readonly Node[]): Node[] {
  const { leaves } = flattenTree(tree, op);
  if (leaves.length !== like.length)
    throw new ArgumentError(`${op}: ${what} hold ${leaves.length} array(s), expected ${like.length} (one per array of the matching structure)`);
  return leaves.map((x, i) => {
    const n = nodeOfArray(x, op);
    const want = like[i];
    if (n.shape.length !== want.shape.length || n.shape.some((d, j) => d !== want.shape[j])) {
      throw new ShapeError(`${op}: ${what} array ${i} has shape [${n.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
    }
    return castNode(n, want.dtype);
  });
}

/**
 * Reverse mode: `[outputs, vjps]` where `vjps[i]` is the cotangent of `primals[i]` for
 * the output cotangents `cotangents` (a list like `f`'s result, or one array when `f`
 * returns one array). `f` is called as `f(...primals)`.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const [outs, [vx]] = ma.vjp((x: ma.MetalArray) => x.exp(), [ma.array([0, 1], 'float32')], [ma.array([1, 2], 'float32')]);
 * console.log(vx.tolist().map((v) => Number(v).toFixed(3))); // [ '1.000', '5.437' ]
 * ```
 */
export function vjp(f: (...args: never[]) => unknown, primals: readonly ArrayTree[], cotangents: readonly ArrayTree[] | MetalArray): [unknown, ArrayTree[]] {
  const op = 'vjp';
  checkArgCount(op, arguments.length, 3, 'vjp(f, primals, cotangents)');
  checkFunction(op, f);
  if (!Array.isArray(primals)) throw new ArgumentError(`vjp: primals must be a list of arguments, got ${formatValue(primals)}`);
  return traced(() => {
    const nums = primals.map((_, i) => i);
    const { args, primals: nodes, rebuild } = withPrimals(op, primals, nums);
    const result = (f as (...a: unknown[]) => unknown)(...args);
    const { nodes: outs } = outputNodes(op, result);
    const cts = matchingNodes(op, 'cotangents', cotangents, outs);
    const flat = nodes.flat();
    const grads = backward(outs, cts, flat, op);
    let at = 0;
    const vjps = nodes.map((ns, k) => rebuild[k](ns.map((p) => MetalArray.fromNode(grads[at++] ?? zerosLike(p)))) as ArrayTree);
    return [result, vjps];
  });
}

/**
 * Forward mode: `[outputs, jvps]`, the outputs of `f(...primals)` and their directional
 * derivatives along `tangents` (one per primal, same structures). `jvp` of a `grad` is a
 * Hessian-vector product.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const [out, jv] = ma.jvp((x: ma.MetalArray) => x.multiply(x), [ma.array([1, 2], 'float32')], [ma.array([1, 1], 'float32')]);
 * console.log(jv.tolist()); // [ 2, 4 ]
 * ```
 */
export function jvp(f: (...args: never[]) => unknown, primals: readonly ArrayTree[], tangents: readonly ArrayTree[]): [unknown, unknown] {
  const op = 'jvp';
  checkArgCount(op, arguments.length, 3, 'jvp(f, primals, tangents)');
  checkFunction(op, f);
  if (!Array.isArray(primals) || !Array.isArray(tangents)) throw new ArgumentError('jvp: primals and tangents must be lists with one entry per argument');
  if (primals.length !== tangents.length) throw new ArgumentError(`jvp: ${primals.length} primal(s) but ${tangents.length} tangent(s)`);
  return traced(() => {
    const nums = primals.map((_, i) => i);
    const { args, primals: nodes } = withPrimals(op, primals, nums);
    const flat = nodes.flat();
    const ts = matchingNodes(op, 'tangents', tangents, flat);
    const result = (f as (...a: unknown[]) => unknown)(...args);
    const { nodes: outs, rebuild } = outputNodes(op, result);
    const tangentsOut = forward(outs, flat, ts, op);
    return [result, rebuild(outs.map((o, i) => MetalArray.fromNode(tangentsOut[i] ?? zerosLike(o))))];
  });
}

/**
 * `x` unchanged, but no gradient flows through it (JAX's `stop_gradient`).
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const g = ma.grad((x: ma.MetalArray) => x.multiply(ma.stopGradient(x)).sum());
 * console.log(g(ma.array([3], 'float32')).tolist()); // [ 3 ]
 * ```
 */
export function stopGradient(x: MetalArray): MetalArray {
  checkArgCount('stopGradient', arguments.length, 1, 'stopGradient(x)');
  if (!(x instanceof MetalArray)) throw new ArgumentError(`stopGradient: expected a MetalArray, got ${formatValue(x)}`);
  const n = primalNode(x.liveNode('stopGradient'));
  markStopped(n);
  return MetalArray.fromNode(n);
}

/** f's result as fresh output nodes (one per array of the tree) and how to rebuild the tree. */
function customOutputs(op: string, out: unknown): { nodes: Node[]; rebuild: (leaves: readonly MetalArray[]) => unknown } {
  if (out instanceof Promise) throw new ArgumentError(`${op}: the function returned a Promise; custom rules wrap synchronous functions`);
  const { leaves, def } = flattenTree(out, op);
  if (leaves.length === 0) throw new ArgumentError(`${op}: the function must return an array or a tree of arrays, got ${formatValue(out)}`);
  return { nodes: leaves.map((x) => primalNode(x.liveNode(op))), rebuild: (ls) => def.rebuild(ls) };
}

/** One entry per argument: its gradient tree flattened to `argLeaves[k].length` arrays, or nulls. */
function gradientLeaves(op: string, what: string, grads: unknown, argLeaves: readonly MetalArray[][]): (MetalArray | null)[] {
  if (!Array.isArray(grads) || grads.length !== argLeaves.length) {
    throw new ArgumentError(`${op}: ${what} must return one gradient per argument (${argLeaves.length}), got ${formatValue(grads)}`);
  }
  return grads.flatMap((g: unknown, k) => {
    if (g === null || g === undefined) return argLeaves[k].map(() => null);
    const { leaves } = flattenTree(g, op);
    if (leaves.length !== argLeaves[k].length)
      throw new ArgumentError(`${op}: ${what}'s gradient ${k} holds ${leaves.length} array(s), argument ${k} holds ${argLeaves[k].length}`);
    return leaves;
  });
}

/**
 * `f` with a user-written reverse-mode rule (JAX's `custom_vjp`): `fwd(...args)` returns
 * `[output, residuals]` and `bwd(residuals, cotangent)` returns one gradient per
 * argument (an array tree like the argument, or null for zero). The output comes from
 * `f`; `fwd` runs when a backward pass is built. Forward mode differentiates `f`'s own
 * graph. Arguments and the output may be array trees (nested lists and plain objects of
 * arrays): `bwd` gets the cotangent as a tree like the output (zeros where none reached
 * it). A custom kernel becomes differentiable this way.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * // log(1 + e^x) with a gradient written by hand.
 * const softplus = ma.customVjp(
 *   (x: ma.MetalArray) => x.exp().log1p(),
 *   (x: ma.MetalArray) => [x.exp().log1p(), x.sigmoid()],
 *   (s: ma.MetalArray, g: ma.MetalArray) => [g.multiply(s)],
 * );
 * console.log(ma.grad((x: ma.MetalArray) => softplus(x).sum())(ma.array([0], 'float32')).tolist()); // [ 0.5 ]
 * // Trees in and out: a {sum, product} pair of two arrays.
 * const both = ma.customVjp(
 *   (p: { a: ma.MetalArray; b: ma.MetalArray }) => ({ s: p.a.add(p.b), m: p.a.multiply(p.b) }),
 *   (p: { a: ma.MetalArray; b: ma.MetalArray }) => [{ s: p.a.add(p.b), m: p.a.multiply(p.b) }, p],
 *   (p: { a: ma.MetalArray; b: ma.MetalArray }, g: { s: ma.MetalArray; m: ma.MetalArray }) => [
 *     { a: g.s.add(g.m.multiply(p.b)), b: g.s.add(g.m.multiply(p.a)) },
 *   ],
 * );
 * const g = ma.grad((p: { a: ma.MetalArray; b: ma.MetalArray }) => both(p).m.sum())({ a: ma.array([2], 'float32'), b: ma.array([5], 'float32') });
 * console.log(g.a.tolist(), g.b.tolist()); // [ 5 ] [ 2 ]
 * ```
 */
export function customVjp<A extends unknown[], O extends ArrayTree, R>(
  f: (...args: A) => O,
  fwd: (...args: A) => readonly [O, R],
  bwd: (residuals: R, cotangent: O) => readonly (ArrayTree | null)[],
): (...args: A) => O {
  const op = 'customVjp';
  checkArgCount(op, arguments.length, 3, 'customVjp(f, fwd, bwd)');
  checkFunction(op, f);
  checkFunction(op, fwd, 'fwd');
  checkFunction(op, bwd, 'bwd');
  return (...args: A): O => {
    const { nodes, rebuild } = customOutputs(op, f(...args));
    const argLeaves = args.map((a) => flattenTree(a, op).leaves);
    attachCustomRule(nodes, {
      name: `customVjp(${f.name || 'f'})`,
      args: argLeaves.flat().map((x) => x.liveNode(op)),
      vjp: (cts) => {
        const pair = fwd(...args);
        if (!Array.isArray(pair) || pair.length !== 2) throw new ArgumentError(`${op}: fwd must return [output, residuals], got ${formatValue(pair)}`);
        return gradientLeaves(op, 'bwd', bwd(pair[1] as R, rebuild(cts) as O), argLeaves);
      },
      jvp: null,
    });
    return rebuild(nodes.map((n) => MetalArray.fromNode(n))) as O;
  };
}

/** The tangents a `customJvp` rule gets: one per argument, like it, or null when zero. */
export type TangentsOf<A extends unknown[]> = { [K in keyof A]: A[K] | null };

/**
 * `f` with a user-written forward-mode rule (JAX's `custom_jvp`): `jvpRule(primals,
 * tangents)` returns `[output, tangentOut]`. Each tangent is like its argument (an
 * array, or an array tree with zeros where a leaf has no tangent), or null when the
 * whole argument's tangent is zero; `tangentOut` is like the output (null: zero).
 * Reverse mode differentiates `f`'s own graph. Arguments and the output may be array
 * trees.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const cube = ma.customJvp(
 *   (x: ma.MetalArray) => x.multiply(x).multiply(x),
 *   ([x]: ma.MetalArray[], [t]: (ma.MetalArray | null)[]) => [x.multiply(x).multiply(x), x.multiply(x).multiply(3).multiply(t ?? 0)],
 * );
 * const [, tangent] = ma.jvp(cube, [ma.array([2], 'float32')], [ma.array([1], 'float32')]);
 * console.log(tangent.tolist()); // [ 12 ]
 * // A polar-to-cartesian map returning a list, its tangent written by hand.
 * const cartesian = ma.customJvp(
 *   (r: ma.MetalArray, t: ma.MetalArray) => [r.multiply(t.cos()), r.multiply(t.sin())],
 *   ([r, t]: ma.MetalArray[], [dr, dt]: (ma.MetalArray | null)[]) => {
 *     const [c, s] = [t.cos(), t.sin()];
 *     const dR = dr ?? ma.zerosLike(r);
 *     const dT = dt ?? ma.zerosLike(t);
 *     return [[r.multiply(c), r.multiply(s)], [dR.multiply(c).subtract(r.multiply(s).multiply(dT)), dR.multiply(s).add(r.multiply(c).multiply(dT))]];
 *   },
 * );
 * const [, [dx, dy]] = ma.jvp(cartesian, [ma.array([2], 'float32'), ma.array([0], 'float32')], [ma.array([0], 'float32'), ma.array([1], 'float32')]);
 * console.log(dx.tolist(), dy.tolist()); // [ 0 ] [ 2 ]
 * ```
 */
export function customJvp<A extends unknown[], O extends ArrayTree>(
  f: (...args: A) => O,
  jvpRule: (primals: A, tangents: TangentsOf<A>) => readonly [O, O | null],
): (...args: A) => O {
  const op = 'customJvp';
  checkArgCount(op, arguments.length, 2, 'customJvp(f, jvpRule)');
  checkFunction(op, f);
  checkFunction(op, jvpRule, 'jvpRule');
  return (...args: A): O => {
    const { nodes, rebuild } = customOutputs(op, f(...args));
    const trees = args.map((a) => flattenTree(a, op));
    attachCustomRule(nodes, {
      name: `customJvp(${f.name || 'f'})`,
      args: trees.flatMap((t) => t.leaves.map((x) => x.liveNode(op))),
      vjp: null,
      jvp: (tangents) => {
        let at = 0;
        const perArgument = trees.map(({ leaves, def }) => {
          const ts = tangents.slice(at, (at += leaves.length));
          if (ts.every((t) => t === null)) return null;
          return def.rebuild(ts.map((t, i) => t ?? MetalArray.fromNode(zerosLike((leaves[i] as MetalArray).liveNode(op)))));
        });
        const pair = jvpRule(args, perArgument as TangentsOf<A>);
        if (!Array.isArray(pair) || pair.length !== 2) throw new ArgumentError(`${op}: jvpRule must return [output, tangentOut], got ${formatValue(pair)}`);
        if (pair[1] === null) return nodes.map(() => null);
        const { leaves } = flattenTree(pair[1], op);
        if (leaves.length !== nodes.length) {
          throw new ArgumentError(
            `${op}: jvpRule's tangentOut holds ${leaves.length} array(s), the output holds ${nodes.length}; return a tangent like the output`,
          );
        }
        return leaves;
      },
    });
    return rebuild(nodes.map((n) => MetalArray.fromNode(n))) as O;
  };
}

/**
 * `f`, but a backward pass recomputes `f`'s intermediates from its arguments instead of
 * keeping them alive from the forward pass (gradient checkpointing: less memory, more
 * compute). Arguments and the output may be array trees.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const block = ma.checkpoint((x: ma.MetalArray) => x.tanh().multiply(x));
 * console.log(ma.grad((x: ma.MetalArray) => block(x).sum())(ma.array([0], 'float32')).tolist()); // [ 0 ]
 * // A layer with a parameter tree, returning its output and a penalty.
 * const layer = ma.checkpoint((p: { w: ma.MetalArray }, x: ma.MetalArray) => ({ y: x.multiply(p.w).tanh(), penalty: p.w.square().sum() }));
 * const g = ma.grad((p: { w: ma.MetalArray }) => {
 *   const { y, penalty } = layer(p, ma.array([1, 2], 'float32'));
 *   return y.sum().add(penalty);
 * })({ w: ma.array([0, 0], 'float32') });
 * console.log(g.w.tolist()); // [ 1, 2 ]
 * ```
 */
export function checkpoint<A extends unknown[], O extends ArrayTree>(f: (...args: A) => O): (...args: A) => O {
  const op = 'checkpoint';
  checkArgCount(op, arguments.length, 1, 'checkpoint(f)');
  checkFunction(op, f);
  return (...args: A): O => {
    const { nodes, rebuild } = customOutputs(op, f(...args));
    const argLeaves = args.map((a) => flattenTree(a, op).leaves);
    attachCustomRule(nodes, {
      name: `checkpoint(${f.name || 'f'})`,
      args: argLeaves.flat().map((x) => x.liveNode(op)),
      vjp: (cts) => {
        // Fresh primals, so the recomputed graph shares no node with the forward one.
        const { args: again, primals } = withPrimals(
          op,
          args,
          args.map((_, i) => i),
        );
        const recomputed = flattenTree(f(...(again as A)), op).leaves.map((x) => x.liveNode(op));
        if (recomputed.length !== nodes.length) {
          throw new ArgumentError(
            `${op}: f returned ${recomputed.length} array(s) when recomputed, ${nodes.length} the first time; f must return the same structure`,
          );
        }
        const grads = backward(
          recomputed,
          cts.map((c) => c.liveNode(op)),
          primals.flat(),
          op,
        );
        return grads.map((c) => (c === null ? null : MetalArray.fromNode(c)));
      },
      jvp: null,
    });
    return rebuild(nodes.map((n) => MetalArray.fromNode(n))) as O;
  };
}
