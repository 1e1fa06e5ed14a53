/**
 * The reverse- and forward-mode walks over the recorded graph. A transformation marks
 * its primal inputs (fresh `copy` nodes, as MLX does, so nested transformations see the
 * outer primal beneath the inner one), runs the function on the lazy graph, and walks
 * the nodes between the primals and the outputs. Each node's rule (src/transforms/rules.ts)
 * builds its cotangents or tangent with ops, so the result is an ordinary lazy graph.
 */
import { MetalArray } from '../array/array.js';
import { castNode, constNode, elementwiseNode } from '../core/build.js';
import { DTYPES, type DType } from '../core/dtype.js';
import { type Node, setTracing } from '../core/node.js';
import { ShapeError } from '../errors.js';
import { type Primitive, type RuleArgs, ruleFor } from './rules.js';

/** A user-defined rule attached to a node (customVjp, customJvp, checkpoint). */
export interface CustomRecord {
  /** The name for error messages. */
  readonly name: string;
  /** The inputs the gradient flows to (the custom function's array arguments). */
  readonly args: readonly Node[];
  /** Cotangents of `args` from the output's cotangent; null: reverse mode walks the real graph. */
  readonly vjp: ((cotangent: MetalArray) => readonly (MetalArray | null)[]) | null;
  /** The output's tangent from the args' tangents; null: forward mode walks the real graph. */
  readonly jvp: ((tangents: readonly (MetalArray | null)[]) => MetalArray) | null;
}

const customRecords = new WeakMap<Node, CustomRecord>();
const stopped = new WeakSet<Node>();

/** Attaches a custom rule to `node` (a fresh node made for it). */
export function attachCustomRule(node: Node, record: CustomRecord): void {
  customRecords.set(node, record);
}

/** Marks `node` (a fresh node) as a gradient barrier. */
export function markStopped(node: Node): void {
  stopped.add(node);
}

/** Runs `body` with evaluated nodes keeping their history (an `eval` inside does not cut gradients). */
export function traced<T>(body: () => T): T {
  setTracing(1);
  try {
    return body();
  } finally {
    setTracing(-1);
  }
}

/** A fresh node standing for a primal input: the walks stop at it. */
export function primalNode(x: Node): Node {
  return elementwiseNode('copy', [x], x.shape, x.dtype);
}

/** True for dtypes that carry gradients. */
export function isFloat(dtype: DType): boolean {
  return DTYPES[dtype].kind === 'float';
}

type Mode = 'reverse' | 'forward';

interface Step {
  readonly inputs: readonly Node[];
  readonly prim: Primitive | null;
  readonly custom: CustomRecord | null;
}

/** What a node computes from which inputs, for a walk in `mode` (null: nothing to walk into). */
function stepOf(n: Node, mode: Mode): Step | null {
  if (stopped.has(n)) return null;
  const custom = customRecords.get(n);
  if (custom !== undefined && (mode === 'reverse' ? custom.vjp : custom.jvp) !== null) return { inputs: custom.args, prim: null, custom };
  if (n.kind === 'leaf') {
    const h = n.history;
    if (h === null) return null;
    return { inputs: h.inputs, prim: { ...h, shape: n.shape, dtype: n.dtype, backend: n.backend }, custom: null };
  }
  if (n.kind === 'const' || n.kind === 'iota') return null;
  return { inputs: n.inputs, prim: primitiveOf(n), custom: null };
}

/**
 * A copy of what `n` computes, taken before any rule runs: a rule builds nodes, and
 * automatic evaluation may then turn `n` itself into a leaf (kind 'leaf', attributes
 * cleared) while it or a later step still reads the primitive.
 */
function primitiveOf(n: Node): Primitive {
  return {
    kind: n.kind,
    op: n.op,
    view: n.view,
    axis: n.axis,
    bounds: n.bounds,
    axes: n.axes,
    inclusive: n.inclusive,
    scalarSide: n.scalarSide,
    value: n.value,
    shape: n.shape,
    dtype: n.dtype,
    backend: n.backend,
  };
}

/** The nodes between the primals and the outputs that carry a derivative, inputs first. */
function activeOrder(outputs: readonly Node[], primals: ReadonlySet<Node>, mode: Mode): { order: Node[]; steps: Map<Node, Step> } {
  const state = new Map<Node, boolean>(); // false: visiting; true/false after: active or not
  const active = new Set<Node>();
  const steps = new Map<Node, Step>();
  const order: Node[] = [];
  const stack: { node: Node; next: number; step: Step | null }[] = [];
  for (const out of outputs) {
    if (state.has(out)) continue;
    state.set(out, false);
    stack.push({ node: out, next: 0, step: primals.has(out) ? null : stepOf(out, mode) });
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = top.step === null ? [] : top.step.inputs;
      if (top.next < inputs.length) {
        const x = inputs[top.next++];
        if (!state.has(x)) {
          state.set(x, false);
          stack.push({ node: x, next: 0, step: primals.has(x) ? null : stepOf(x, mode) });
        }
        continue;
      }
      stack.pop();
      const n = top.node;
      const isActive = primals.has(n) || (isFloat(n.dtype) && top.step !== null && inputs.some((x) => active.has(x)));
      state.set(n, isActive);
      if (isActive) {
        active.add(n);
        order.push(n);
        if (top.step !== null) steps.set(n, top.step);
      }
    }
  }
  return { order, steps };
}

function wrap(n: Node): MetalArray {
  return MetalArray.fromNode(n);
}

/** A rule's result as a node of `like`'s shape and dtype (a wrong shape is a rule bug, reported). */
function conform(x: MetalArray, like: Node, what: string): Node {
  const n = castNode(x.liveNode(what), like.dtype);
  if (n.shape.length !== like.shape.length || n.shape.some((d, i) => d !== like.shape[i])) {
    throw new ShapeError(`${what}: a rule returned shape [${n.shape.join(', ')}] for a value of shape [${like.shape.join(', ')}]`);
  }
  return n;
}

function ruleArgs(prim: Primitive, inputs: readonly Node[], node: Node): RuleArgs {
  return { node: prim, inputs: inputs.map(wrap), output: wrap(node) };
}

/**
 * Cotangents of `primals` given the outputs' cotangents (null: the primal does not
 * reach any output, or only through integer values). Builds lazy nodes only.
 */
export function backward(outputs: readonly Node[], cotangents: readonly Node[], primals: readonly Node[], op: string): (Node | null)[] {
  const primalSet = new Set(primals);
  const { order, steps } = activeOrder(outputs, primalSet, 'reverse');
  const ct = new Map<Node, Node>();
  const accumulate = (n: Node, g: Node): void => {
    const prev = ct.get(n);
    ct.set(n, prev === undefined ? g : elementwiseNode('add', [prev, g], n.shape, n.dtype));
  };
  outputs.forEach((out, i) => {
    if (isFloat(out.dtype)) accumulate(out, castNode(cotangents[i], out.dtype));
  });
  const activeSet = new Set(order);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k];
    const g = ct.get(n);
    if (g === undefined || primalSet.has(n)) continue;
    const step = steps.get(n) as Step;
    const wanted = step.inputs.map((x) => activeSet.has(x));
    let results: readonly (MetalArray | null)[];
    if (step.custom !== null) {
      results = (step.custom.vjp as NonNullable<CustomRecord['vjp']>)(wrap(g));
    } else {
      const prim = step.prim as Primitive;
      const rule = ruleFor(prim, op);
      if (rule === 'zero') continue;
      results = rule.vjp(ruleArgs(prim, step.inputs, n), wrap(g), wanted);
    }
    step.inputs.forEach((x, i) => {
      const r = results[i];
      if (wanted[i] && r !== null && r !== undefined) accumulate(x, conform(r, x, `${op} (${describeStep(step)} cotangent)`));
    });
  }
  return primals.map((p) => ct.get(p) ?? null);
}

/** Tangents of `outputs` given the primals' tangents (null: zero). Builds lazy nodes only. */
export function forward(outputs: readonly Node[], primals: readonly Node[], tangents: readonly Node[], op: string): (Node | null)[] {
  const primalSet = new Set(primals);
  const { order, steps } = activeOrder(outputs, primalSet, 'forward');
  const tan = new Map<Node, Node>();
  primals.forEach((p, i) => {
    if (isFloat(p.dtype)) tan.set(p, castNode(tangents[i], p.dtype));
  });
  for (const n of order) {
    if (primalSet.has(n)) continue;
    const step = steps.get(n) as Step;
    const ts = step.inputs.map((x) => {
      const t = tan.get(x);
      return t === undefined ? null : wrap(t);
    });
    if (ts.every((t) => t === null)) continue;
    let t: MetalArray;
    if (step.custom !== null) {
      t = (step.custom.jvp as NonNullable<CustomRecord['jvp']>)(ts);
    } else {
      const prim = step.prim as Primitive;
      const rule = ruleFor(prim, op);
      if (rule === 'zero') continue;
      t = rule.jvp(ruleArgs(prim, step.inputs, n), ts);
    }
    tan.set(n, conform(t, n, `${op} (${describeStep(step)} tangent)`));
  }
  return outputs.map((o) => tan.get(o) ?? null);
}

function describeStep(step: Step): string {
  if (step.custom !== null) return step.custom.name;
  const p = step.prim as Primitive;
  return p.op === '' ? p.kind : `${p.kind} ${p.op}`;
}

/** A zero array like `n` (a constant: no memory until something reads it). */
export function zerosLike(n: Node): Node {
  return constNode(DTYPES[n.dtype].kind === 'bool' ? false : n.dtype === 'int64' || n.dtype === 'uint64' ? 0n : 0, n.shape, n.dtype, n.backend);
}
