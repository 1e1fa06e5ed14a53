/**
 * The scheduler: decides which nodes are materialized (each one is a kernel's output);
 * everything between materialization points fuses into the consumer's kernel.
 *
 * The multi-consumer cost rule: a node read by k consumers is either recomputed in
 * each (k - 1 extra evaluations of its fused subtree's arithmetic) or written once and
 * loaded k times. It is materialized when recomputing costs more than the round trip:
 *   (k - 1) * cost(subtree) > (k + 1) * LOAD_COST
 * cost counts arithmetic only: the subtree's own loads are paid either way. Costs add
 * up over the subtree as a tree, so a stencil whose every step reads the previous one
 * several times is materialized every step or two instead of recomputing its history
 * exponentially, while softmax's exp(x - max) is recomputed per row rather than stored.
 */
import type { Node } from '../core/node.js';
import { ELEMENTWISE, type ElementwiseOp } from '../core/op-table.js';

/** Cost of writing or reading one element, in ALU-op units. */
export const LOAD_COST = 6;
/** Metal allows 31 buffers per kernel; keep every backend under it. */
export const MAX_KERNEL_BUFFERS = 31;

/** Options that change the schedule. */
export interface ScheduleOptions {
  /** When false every elementwise op is its own kernel. */
  fusion: boolean;
  /** Nodes that must be kernel outputs whatever the cost rule says (library products and their operands). */
  forced?: ReadonlySet<Node>;
  /**
   * Most compute nodes fused into one kernel (GPU backends: their run-time compilers take
   * time superlinear in a kernel's length); unlimited when absent.
   */
  maxKernelOps?: number;
}

function ownCost(n: Node): number {
  switch (n.kind) {
    case 'unary':
    case 'binary':
      return (ELEMENTWISE.get(n.op) as ElementwiseOp).cost;
    case 'cast':
    case 'where':
    case 'concat':
    case 'reduce':
    case 'gather':
      return 1;
    default:
      return 0;
  }
}

const isCompute = (n: Node): boolean =>
  n.kind === 'unary' ||
  n.kind === 'binary' ||
  n.kind === 'where' ||
  n.kind === 'cast' ||
  n.kind === 'concat' ||
  n.kind === 'reduce' ||
  n.kind === 'matmul' ||
  n.kind === 'scan' ||
  n.kind === 'gather';

/** Follows views and reshapes down to the node that computes values. */
function viewBase(n: Node): Node {
  while (n.kind === 'view' || n.kind === 'reshape') n = n.inputs[0];
  return n;
}

/**
 * Returns the set of nodes to materialize, given the walk's post-order nodes (with
 * consumer counts) and the outputs. Outputs are always in the set unless they are
 * leaves or views of leaves that need no kernel (the executor decides those).
 */
export function schedule(nodes: readonly Node[], outputs: readonly Node[], opts: ScheduleOptions): Set<Node> {
  const materialized = new Set<Node>(opts.forced);
  const cost = new Float64Array(nodes.length);
  const isOutput = new Set(outputs);
  const joins = sharedJoins(nodes, isOutput);
  for (const n of nodes) {
    if (n.kind === 'leaf' || n.kind === 'const' || materialized.has(n)) continue;
    let c = ownCost(n);
    for (const x of n.inputs) c += materialized.has(x) || x.kind === 'leaf' ? 0 : cost[x.localId];
    // A reduction's output element folds many input elements; a product's, K of them.
    if (n.kind === 'reduce') c *= n.inputs[0].size / Math.max(1, n.size);
    if (n.kind === 'matmul') c = 2 * n.inputs[0].shape[n.inputs[0].shape.length - 1];
    // A broadcast spreads its input's work over the copies: the lowering computes a value
    // that only varies along outer dims once per row (a softmax's max), not per element.
    if (n.kind === 'view' && n.size > n.inputs[0].size) c *= n.inputs[0].size / n.size;
    cost[n.localId] = c;
    // A reduction read by another reduction is its own kernel: nested inside the
    // consumer's loop it would run on one thread (two-stage sums exist for parallelism).
    if (n.kind === 'reduce') {
      const b = viewBase(n.inputs[0]);
      if (b.kind === 'reduce' && !materialized.has(b)) {
        materialized.add(b);
        c = ownCost(n);
        cost[n.localId] = c * (n.inputs[0].size / Math.max(1, n.size));
      }
    }
    // A scatter is a kernel of its own; its positions and updates are buffers it reads
    // in update order (the op layer makes both computed, contiguous nodes).
    if (n.kind === 'scatter') {
      materialized.add(n);
      materialized.add(n.inputs[1]);
      materialized.add(n.inputs[2]);
      cost[n.localId] = 0;
      continue;
    }
    // A scan is a kernel of its own (its producers fuse in front of it).
    if (n.kind === 'scan') {
      materialized.add(n);
      cost[n.localId] = 0;
      continue;
    }
    if (isCompute(n) && !opts.fusion) {
      materialized.add(n);
      cost[n.localId] = 0;
      continue;
    }
    // Consumers that all meet again in one elementwise node at the same index share
    // one evaluation of n in that node's kernel: no recomputation to weigh.
    if (n.consumers > 1 && c > 0 && joins[n.localId] < 0) {
      const k = n.consumers;
      if ((k - 1) * c > (k + 1) * LOAD_COST) {
        const base = viewBase(n);
        if (base.kind !== 'leaf' && base.kind !== 'const') {
          materialized.add(base);
          cost[n.localId] = 0;
        }
      }
    }
  }
  for (const out of outputs) if (out.kind !== 'leaf') materialized.add(out);
  limitBuffers(nodes, materialized);
  if (opts.maxKernelOps !== undefined) limitOps(nodes, materialized, opts.maxKernelOps);
  for (const n of isOutput) if (n.kind === 'leaf') materialized.delete(n);
  return materialized;
}

const isSameShapeElementwise = (c: Node, n: Node): boolean =>
  (c.kind === 'unary' || c.kind === 'binary' || c.kind === 'where' || c.kind === 'cast') &&
  c.shape.length === n.shape.length &&
  c.shape.every((d, i) => d === n.shape[i]);

/**
 * For each node, the local id of the nearest node that every path from it to an output
 * passes through while staying at the same index (same-shape elementwise consumers
 * only), or -1 where some path leaves that (an output, a view, a reduction...). Such a
 * join is the node's immediate post-dominator over elementwise edges: fused into the
 * join's kernel, all of the node's consumers read it in the same context, so the
 * lowering computes it once (as `x1` in `(x1 << 13) | (x1 >> 19)`, or `isfinite(m)` and
 * `where(isfinite(m), m, 0)` sharing `m`). Nodes come in post-order, so a consumer's
 * join is known before its inputs' are needed, and joins only move forward.
 */
function sharedJoins(nodes: readonly Node[], isOutput: ReadonlySet<Node>): Int32Array {
  const EXIT = -1;
  const join = new Int32Array(nodes.length).fill(EXIT);
  const consumers: number[][] = nodes.map(() => []);
  for (const n of nodes) {
    n.inputs.forEach((x, i) => {
      if (n.inputs.indexOf(x) === i && x.localId >= 0) consumers[x.localId].push(isSameShapeElementwise(n, x) ? n.localId : EXIT);
    });
  }
  const meet = (a: number, b: number): number => {
    while (a !== b) {
      if (a === EXIT || b === EXIT) return EXIT;
      if (a < b) a = join[a];
      else b = join[b];
    }
    return a;
  };
  for (let i = nodes.length - 1; i >= 0; i--) {
    const list = consumers[i];
    if (isOutput.has(nodes[i]) || list.length === 0) continue;
    let j = list[0];
    for (let k = 1; k < list.length && j !== EXIT; k++) j = meet(j, list[k]);
    join[i] = j;
  }
  return join;
}

/**
 * Splits fused kernels of more than `max` compute nodes: walking in post-order, where a
 * node's fused subtree would hold more than `max` (each node counted once, its unit
 * shared among its consumers), its largest fused inputs become kernel outputs, and the
 * count starts over from them.
 */
function limitOps(nodes: readonly Node[], materialized: Set<Node>, max: number): void {
  const count = new Float64Array(nodes.length);
  // A shared node's subtree is split among its consumers, so a kernel that holds every
  // consumer counts it once (the lowering emits it once), not once per path to it.
  const share = (x: Node): number => count[x.localId] / Math.max(1, x.consumers);
  for (const n of nodes) {
    if (n.kind === 'leaf' || n.kind === 'const') continue;
    let c = isCompute(n) ? 1 : 0;
    for (const x of n.inputs) if (x.localId >= 0 && !materialized.has(x)) c += share(x);
    if (c > max) {
      // Over the limit: the largest fused inputs become kernels of their own.
      const inputs = n.inputs.filter((x) => x.localId >= 0 && isCompute(x) && !materialized.has(x)).sort((a, b) => share(b) - share(a));
      for (const x of inputs) {
        if (c <= max) break;
        materialized.add(x);
        c -= share(x);
      }
    }
    count[n.localId] = materialized.has(n) ? 0 : c;
  }
}

/**
 * Splits kernels that would read more than MAX_KERNEL_BUFFERS - 1 buffers by
 * materializing the root's largest fused input subtrees until each fits.
 */
function limitBuffers(nodes: readonly Node[], materialized: Set<Node>): void {
  const boundary = (x: Node): boolean => x.kind === 'leaf' || materialized.has(x);
  const countInputs = (root: Node): Set<Node> => {
    const found = new Set<Node>();
    const seen = new Set<Node>();
    const stack = [...root.inputs];
    while (stack.length) {
      const x = stack.pop() as Node;
      if (seen.has(x)) continue;
      seen.add(x);
      if (boundary(x)) {
        found.add(x);
        continue;
      }
      stack.push(...x.inputs);
    }
    return found;
  };
  // Roots in post-order so splitting one never invalidates an earlier decision.
  for (const root of nodes) {
    if (!materialized.has(root)) continue;
    for (;;) {
      if (countInputs(root).size < MAX_KERNEL_BUFFERS) break;
      // Materialize the fused (non-boundary, compute) input with the most leaves below it.
      let best: Node | null = null;
      let bestCount = 0;
      const stack = [...root.inputs];
      const seen = new Set<Node>();
      while (stack.length) {
        const x = stack.pop() as Node;
        if (seen.has(x) || boundary(x)) continue;
        seen.add(x);
        if (isCompute(x)) {
          const c = countInputs(x).size;
          if (c > bestCount && c < MAX_KERNEL_BUFFERS) {
            best = x;
            bestCount = c;
          }
        }
        stack.push(...x.inputs);
      }
      if (!best) break;
      materialized.add(best);
    }
  }
}
