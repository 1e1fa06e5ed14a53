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
import { ArgumentError, ShapeError, formatValue } from '../errors.js';
import { type Primitive, type RuleArgs, ruleFor } from './rules.js';

/**
 * A user-defined rule over a group of outputs (customVjp, customJvp, checkpoint of a
 * function returning an array tree). The walks see the group as one hidden token node
 * between the arguments and the outputs, so the rule runs once with every output's
 * cotangent (or gives every output's tangent), whatever order the outputs are used in.
 */
export interface CustomRecord {
  /** The name for error messages. */
  readonly name: string;
  /** The inputs the gradient flows to (the custom function's array arguments, flattened). */
  readonly args: readonly Node[];
  /**
   * Cotangents of `args` from the outputs' cotangents (one per output, zeros where
   * none reached it); null: reverse mode walks the real graph.
   */
  readonly vjp: ((cotangents: readonly MetalArray[]) => readonly (MetalArray | null)[]) | null;
  /** The outputs' tangents (null: zero) from the args' tangents; null: forward mode walks the real graph. */
  readonly jvp: ((tangents: readonly (MetalArray | null)[]) => readonly (MetalArray | null)[]) | null;
}

interface CustomGroup {
  readonly record: CustomRecord;
  /** The hidden node standing for the rule: the outputs' only input in the walks. */
  readonly token: Node;
  readonly outputs: readonly Node[];
}

/** Output node → its group and position in it. */
const customOutputs = new WeakMap<Node, { readonly group: CustomGroup; readonly index: number }>();
/** Token node → its group. */
const customTokens = new WeakMap<Node, CustomGroup>();
const stopped = new WeakSet<Node>();

/** Attaches a custom rule to `outputs` (fresh nodes made for it, one per output array). */
export function attachCustomRule(outputs: readonly Node[], record: CustomRecord): void {
  // A fresh constant: never evaluated, only a key for the walks (nodes are not deduplicated).
  const token = constNode(0, [], 'float32', outputs[0]?.backend ?? 'cpu');
  const group: CustomGroup = { record, token, outputs };
  customTokens.set(token, group);
  for (const [index, n] of outputs.entries()) customOutputs.set(n, { group, index });
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
  /** The custom rule when this node is a group's token (its inputs are the rule's args). */
  readonly custom: CustomRecord | null;
  /** This node is output `outputIndex` of a custom group (its one input is the token); else -1. */
  readonly outputIndex: number;
}

/** What a node computes from which inputs, for a walk in `mode` (null: nothing to walk into). */
function stepOf(n: Node, mode: Mode): Step | null {
  if (stopped.has(n)) return null;
  const group = customTokens.get(n);
  if (group !== undefined) return { inputs: group.record.args, prim: null, custom: group.record, outputIndex: -1 };
  const output = customOutputs.get(n);
  if (output !== undefined) {
    const record = output.group.record;
    // Without a rule for this mode the walk goes through the function's own graph.
    if ((mode === 'reverse' ? record.vjp : record.jvp) !== null) return { inputs: [output.group.token], prim: null, custom: null, outputIndex: output.index };
  }
  if (n.kind === 'leaf') {
    const h = n.history;
    if (h === null) return null;
    return { inputs: h.inputs, prim: { ...h, shape: n.shape, dtype: n.dtype, backend: n.backend }, custom: null, outputIndex: -1 };
  }
  if (n.kind === 'const' || n.kind === 'iota') return null;
  return { inputs: n.inputs, prim: primitiveOf(n), custom: null, outputIndex: -1 };
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
  // A custom group's output cotangents, gathered until its token (before every output in `order`) is reached.
  const groupCts = new Map<Node, (Node | undefined)[]>();
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k];
    if (primalSet.has(n)) continue;
    const step = steps.get(n) as Step;
    if (step.outputIndex >= 0) {
      const g = ct.get(n);
      if (g === undefined) continue;
      const token = step.inputs[0] as Node;
      const list = groupCts.get(token) ?? [];
      list[step.outputIndex] = g;
      groupCts.set(token, list);
      continue;
    }
    const wanted = step.inputs.map((x) => activeSet.has(x));
    let results: readonly (MetalArray | null)[];
    if (step.custom !== null) {
      const list = groupCts.get(n);
      if (list === undefined) continue;
      const outputs = (customTokens.get(n) as CustomGroup).outputs;
      results = (step.custom.vjp as NonNullable<CustomRecord['vjp']>)(outputs.map((o, i) => wrap(list[i] ?? zerosLike(o))));
      if (!Array.isArray(results) || results.length !== step.inputs.length) {
        throw new ArgumentError(`${op} (${step.custom.name}): the rule gave ${formatValue(results)} for ${step.inputs.length} argument array(s)`);
      }
    } else {
      const g = ct.get(n);
      if (g === undefined) continue;
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
  // A custom group's output tangents, computed at its token (before every output in `order`).
  const groupTans = new Map<Node, readonly (MetalArray | null)[]>();
  for (const n of order) {
    if (primalSet.has(n)) continue;
    const step = steps.get(n) as Step;
    if (step.outputIndex >= 0) {
      const t = groupTans.get(step.inputs[0] as Node)?.[step.outputIndex];
      if (t !== null && t !== undefined) tan.set(n, conform(t, n, `${op} (${describeStep(step)} tangent)`));
      continue;
    }
    const ts = step.inputs.map((x) => {
      const t = tan.get(x);
      return t === undefined ? null : wrap(t);
    });
    if (ts.every((t) => t === null)) continue;
    if (step.custom !== null) {
      const outs = (step.custom.jvp as NonNullable<CustomRecord['jvp']>)(ts);
      const count = (customTokens.get(n) as CustomGroup).outputs.length;
      if (!Array.isArray(outs) || outs.length !== count) {
        throw new ArgumentError(`${op} (${step.custom.name}): the rule gave ${formatValue(outs)} for ${count} output array(s)`);
      }
      groupTans.set(n, outs);
      continue;
    }
    const prim = step.prim as Primitive;
    const rule = ruleFor(prim, op);
    if (rule === 'zero') continue;
    const t = rule.jvp(ruleArgs(prim, step.inputs, n), ts);
    tan.set(n, conform(t, n, `${op} (${describeStep(step)} tangent)`));
  }
  return outputs.map((o) => tan.get(o) ?? null);
}

function describeStep(step: Step): string {
  if (step.custom !== null) return step.custom.name;
  if (step.outputIndex >= 0) return `custom output ${step.outputIndex}`;
  const p = step.prim as Primitive;
  return p.op === '' ? p.kind : `${p.kind} ${p.op}`;
}

/** A zero array like `n` (a constant: no memory until something reads it). */
export function zerosLike(n: Node): Node {
  return constNode(DTYPES[n.dtype].kind === 'bool' ? false : n.dtype === 'int64' || n.dtype === 'uint64' ? 0n : 0, n.shape, n.dtype, n.backend);
}
