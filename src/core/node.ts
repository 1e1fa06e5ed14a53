/**
 * Nodes of the lazy expression graph.
 *
 * A node is built in O(1): its structural hash (two 32-bit lanes) is computed once
 * from its op, attributes, dtype, shape and its inputs' hashes. Constant values, leaf
 * buffer identities are not part of the hash, so the same loop body over new data maps
 * to the same plan. After evaluation a node turns into a leaf and drops its inputs.
 */
import type { DType } from './dtype.js';
import { DTYPES } from './dtype.js';
import { MAX_ELEMENTS, tooManyElements } from './shape.js';
import { debugLog, debugMemoryBytes } from './metrics.js';

export type { NodeKind, ReduceOp, ScanOp } from './vocabulary.js';
import type { NodeKind } from './vocabulary.js';

/**
 * A buffer owned by a backend, shared by every leaf that views it. `release()` returns
 * it to the pool when the last holder lets go (dispose, tidy, the executor); if every
 * holder is dropped unreleased, the GC frees it through its native handle.
 */
export interface BufferRef {
  readonly backend: string;
  readonly id: number;
  readonly nbytes: number;
  holders: number;
  release(): void;
  /** Names the op whose result the buffer holds (OOM messages; the first name sticks). */
  label(op: string): void;
  /** Adds `n` (may be negative) to the unevaluated nodes that read a leaf of this buffer (memory().lazyBytes). */
  addReaders(n: number): void;
}

/**
 * A dimension-wise affine view: input index j = start[j] + step[d] * out[d] for the
 * one output dim d with inDim[d] === j (if any). inDim[d] === -1 marks an output dim
 * that reads no input dim (broadcast or new axis). Every movement op except a reshape
 * that mixes dims is one of these, and two of them compose into one.
 */
export interface ViewMap {
  readonly inDim: readonly number[];
  readonly step: readonly number[];
  readonly start: readonly number[];
}

/** Scalar values a const node may hold. */
export type ScalarValue = number | bigint | boolean;

/** 32-bit multiplicative mixing (murmur3's finalizer), two independent lanes. */
export function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  return Math.imul(h, 0x1b873593) ^ (h >>> 13);
}
export function mix2(h: number, v: number): number {
  h = Math.imul(h + v, 0x85ebca6b);
  h ^= h >>> 16;
  // `| 0` keeps the lane an int32: hashes stay small integers in V8 (no boxed doubles
  // in nodes) and feed back into add() without its high-word path.
  return (Math.imul(h, 0xc2b2ae35) + 0x27d4eb2f) | 0;
}

/** Hash state builder; kept monomorphic and allocation-free. */
export class Hasher {
  h1 = 0;
  h2 = 0;
  reset(tag: number): this {
    return this.set(mix(0x12345678, tag), mix2(0x6a09e667, tag));
  }
  /** Continues from a state computed elsewhere. */
  set(h1: number, h2: number): this {
    this.h1 = h1;
    this.h2 = h2;
    return this;
  }
  add(v: number): this {
    const lo = v | 0;
    this.h1 = mix(this.h1, lo);
    this.h2 = mix2(this.h2, lo);
    // Values beyond int32 (large sizes, strides) fold their high word in too.
    if (lo !== v) {
      const hi = Math.floor(v / 4294967296) | 0;
      this.h1 = mix(this.h1, hi);
      this.h2 = mix2(this.h2, hi);
    }
    return this;
  }
  addList(vs: readonly number[]): this {
    this.add(vs.length);
    for (let i = 0; i < vs.length; i++) this.add(vs[i]);
    return this;
  }
}

const hasher = new Hasher();

/** A graph node. Fields are public for the scheduler; users see MetalArray only. */
export class Node {
  kind: NodeKind;
  /** Op name for unary/binary ops (e.g. 'add'); '' otherwise. */
  readonly op: string;
  inputs: Node[];
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly backend: string;
  /** Number of elements. */
  readonly size: number;
  h1 = 0;
  h2 = 0;

  // Attributes; only the fields of the node's kind are set.
  /** leaf: the buffer, element strides and element offset. */
  buffer: BufferRef | null = null;
  strides: readonly number[] | null = null;
  offset = 0;
  /** const: the value, in the node's dtype. */
  value: ScalarValue = 0;
  /** view: the dimension-wise map onto the input. */
  view: ViewMap | null = null;
  /** concat: the axis and the start of each input along it. */
  axis = 0;
  bounds: readonly number[] | null = null;
  /** reduce: the input dims reduced, ascending; gather: the data dim each index input reads. */
  axes: readonly number[] | null = null;
  /** scan: whether element i includes input i (else it folds inputs before i only). */
  inclusive = true;
  /**
   * binary with one input: a JS scalar folded into the op (held in `value`, in the
   * input's dtype) as its right (0) or left (1) operand; -1 otherwise.
   */
  scalarSide = -1;

  /**
   * Holders that keep this node's inputs or buffer alive: the MetalArrays that wrap it
   * and the unevaluated nodes that use it. At zero the node lets go of its inputs (or
   * its buffer, for a leaf).
   */
  refs = 0;

  /** Scratch fields used by one graph walk at a time (see core/walk.ts). */
  mark = 0;
  localId = -1;
  consumers = 0;

  /**
   * Longest path of pending nodes beneath this one (0 for leaves, constants and iotas;
   * 1 + the deepest input otherwise), kept at construction so auto-evaluation costs O(1).
   */
  depth = 0;
  /**
   * Estimate of the buffer bytes this node keeps alive while pending: a leaf's buffer
   * size; otherwise the largest input's estimate plus the other evaluated inputs it reads
   * directly (see measure() and docs/lazy.md).
   */
  pinned = 0;
  /** The buffer `pinned` started from (a leaf's own buffer), so inputs sharing it count it once. */
  pinnedTop: BufferRef | null = null;
  /** Unevaluated nodes that have this node as an input (their buffers' reader count, see BufferRef.addReaders). */
  pendingUses = 0;
  /** True once auto-evaluation turned this node into a leaf (explain() reports it). */
  autoEvaluated = false;
  /**
   * What the node was before evaluation made it a leaf, kept only while a transformation
   * traces (see `setTracing`): an `eval` inside a differentiated function must not cut
   * the gradient. It holds the inputs until the node is released.
   */
  history: NodeHistory | null = null;

  constructor(kind: NodeKind, op: string, inputs: Node[], shape: readonly number[], dtype: DType, backend: string) {
    this.kind = kind;
    this.op = op;
    this.inputs = inputs;
    this.shape = shape;
    this.dtype = dtype;
    this.backend = backend;
    let size = 1;
    for (let i = 0; i < shape.length; i++) size *= shape[i];
    // Shapes no argument named (broadcasts, outer products) get the same limit as checkShape's.
    if (size > MAX_ELEMENTS) throw tooManyElements(`building a ${op === '' ? kind : op} node`, shape);
    this.size = size;
    if (inputs.length > 0) {
      // Evaluates over-deep or over-pinning inputs first (before taking holds, so a
      // failed evaluation leaks nothing); they come back as leaves.
      if (autoEvalHook !== null && measure(this, inputs)) autoEvalHook(inputs, this.depth, this.pinned);
      measure(this, inputs);
      for (let i = 0; i < inputs.length; i++) {
        const x = inputs[i];
        x.refs++;
        x.pendingUses++;
        if (x.buffer !== null) x.buffer.addReaders(1);
      }
    }
  }

  /** Computes the structural hash; called by the factories once attributes are set. */
  seal(): this {
    const k = this.kind;
    // Kind, dtype, scalar side and op pack losslessly into one int, mixed once.
    const head = (((opIndex(this.op) << 2) | (this.scalarSide + 1)) << 8) | (KIND_TAG[k] << 4) | DTYPES[this.dtype].id;
    let h1 = mix(0x12345678, head);
    let h2 = mix2(0x6a09e667, head);
    if (k !== 'binary' && k !== 'unary' && k !== 'cast' && k !== 'where' && k !== 'matmul') {
      // Elementwise, cast, where, concat and reduce shapes follow from their inputs (and
      // attributes), which are hashed; the rest hash their own shape.
      const h = hasher.set(h1, h2);
      switch (k) {
        case 'leaf':
          h.addList(this.shape)
            .addList(this.strides as number[])
            .add(this.offset);
          break;
        case 'const':
        case 'iota':
        case 'reshape':
          h.addList(this.shape);
          break;
        case 'view': {
          const v = this.view as ViewMap;
          h.addList(this.shape).addList(v.inDim).addList(v.step).addList(v.start);
          break;
        }
        case 'concat':
          h.add(this.axis).addList(this.bounds as number[]);
          break;
        case 'gather':
          h.addList(this.axes as number[]).addList(this.inputs[0].shape);
          break;
        case 'reduce':
          h.addList(this.axes as number[]);
          break;
        case 'scan':
          h.add(this.inclusive ? 1 : 0);
          break;
        default:
          break;
      }
      h1 = h.h1;
      h2 = h.h2;
    }
    // Each lane folds in the same lane of the inputs: two independent 32-bit Merkle
    // hashes, half the mixing of feeding both words to both lanes.
    const inputs = this.inputs;
    for (let i = 0; i < inputs.length; i++) {
      h1 = mix(h1, inputs[i].h1);
      h2 = mix2(h2, inputs[i].h2);
    }
    this.h1 = h1;
    this.h2 = h2;
    return this;
  }

  /** Turns an evaluated node into a leaf over `buffer` and lets go of its inputs. */
  becomeLeaf(buffer: BufferRef, strides: readonly number[], offset: number): void {
    const inputs = this.inputs;
    const madeBy = this.op || this.kind;
    const keep = tracing > 0 && inputs.length > 0;
    if (keep)
      this.history = {
        kind: this.kind,
        op: this.op,
        inputs,
        view: this.view,
        axis: this.axis,
        bounds: this.bounds,
        axes: this.axes,
        inclusive: this.inclusive,
        scalarSide: this.scalarSide,
        value: this.value,
      };
    this.kind = 'leaf';
    this.inputs = EMPTY;
    this.view = null;
    this.bounds = null;
    this.axes = null;
    this.buffer = buffer;
    buffer.holders++;
    buffer.label(madeBy);
    if (this.pendingUses > 0) buffer.addReaders(this.pendingUses);
    this.strides = strides;
    this.offset = offset;
    this.depth = 0;
    this.pinned = buffer.nbytes;
    this.pinnedTop = buffer;
    this.seal();
    for (let i = 0; i < inputs.length; i++) {
      dropUse(inputs[i]);
      // Under a transformation the history keeps its holds on the inputs (released with the node).
      if (!keep) releaseNode(inputs[i]);
    }
    if (debugMemoryBytes !== null && buffer.nbytes >= debugMemoryBytes) logAllocation(this, madeBy);
  }
}

const EMPTY: Node[] = [];

/** A node's kind, op, inputs and attributes as they were before it became a leaf. */
export interface NodeHistory {
  readonly kind: NodeKind;
  readonly op: string;
  readonly inputs: Node[];
  readonly view: ViewMap | null;
  readonly axis: number;
  readonly bounds: readonly number[] | null;
  readonly axes: readonly number[] | null;
  readonly inclusive: boolean;
  readonly scalarSide: number;
  readonly value: ScalarValue;
}

let tracing = 0;
/**
 * Enters (+1) or leaves (-1) a transformation's trace: while any is open, evaluated
 * nodes keep their history (Node.history) so gradients flow through an `eval`.
 */
export function setTracing(delta: 1 | -1): void {
  tracing += delta;
}

/** Whether a differentiation transformation is tracing (compile inlines inside one). */
export function isTracing(): boolean {
  return tracing > 0;
}

/**
 * Bounds on a pending graph (see `setAutoEval` and docs/lazy.md): a new node whose
 * depth exceeds `maxDepth`, or whose pinned-bytes bound exceeds `maxPinnedBytes`, has
 * its pending inputs evaluated first.
 */
export interface AutoEvalLimits {
  readonly maxDepth: number;
  readonly maxPinnedBytes: number;
}

/** Defaults: far above a fused expression (a normal draw is ~90 deep), far below a loop's chain. */
export const DEFAULT_AUTO_EVAL: AutoEvalLimits = { maxDepth: 512, maxPinnedBytes: 1024 * 1024 * 1024 };

/** What the constructor calls when a bound is crossed: evaluates the pending inputs (or decides not to). */
export type AutoEvalHook = (inputs: readonly Node[], depth: number, pinned: number) => void;

let autoEvalHook: AutoEvalHook | null = null;
let maxDepth = Number.POSITIVE_INFINITY;
let maxPinnedBytes = Number.POSITIVE_INFINITY;

/** Installs the evaluation hook with its bounds; null turns auto-evaluation off. */
export function setAutoEvalHook(hook: AutoEvalHook | null, limits: AutoEvalLimits): void {
  autoEvalHook = hook;
  maxDepth = limits.maxDepth;
  maxPinnedBytes = limits.maxPinnedBytes;
}

/**
 * Sets `node.depth` and `node.pinned` from its inputs; true when either crosses its bound.
 * The pinned figure is an estimate, not a sum over paths (that doubles at every
 * reconvergence, as in an optimizer whose state feeds itself): the largest input's
 * figure, plus the buffers of evaluated inputs read directly that are not its largest
 * buffer. A chain that reads a new array every step grows by each array; a tree of
 * pending sums over many arrays is underestimated (see docs/lazy.md).
 */
function measure(node: Node, inputs: readonly Node[]): boolean {
  let depth = 0;
  let widest: Node = inputs[0];
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    if (x.depth >= depth) depth = x.depth + 1;
    if (x.pinned > widest.pinned) widest = x;
  }
  const top = widest.pinnedTop;
  let pinned = widest.pinned;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    // Evaluated inputs other than the widest, each buffer once (x * x reads x once; wide
    // inputs, a stack of many arrays, skip the quadratic check).
    if (x === widest || x.depth !== 0 || x.pinnedTop === top || (i > 0 && i < 8 && inputs.indexOf(x) < i)) continue;
    pinned += x.pinned;
  }
  node.pinnedTop = top;
  node.depth = depth;
  node.pinned = pinned;
  return depth > maxDepth || pinned > maxPinnedBytes;
}

/**
 * Recomputes a pending node's depth and pinned estimate from its inputs as they are
 * now (auto-evaluation calls it, inputs first, after turning part of a graph into
 * leaves, so the nodes above the cut stop counting the evaluated history).
 */
export function remeasure(node: Node): void {
  measure(node, node.inputs);
}

const KIND_TAG: Record<NodeKind, number> = {
  leaf: 1,
  const: 2,
  unary: 3,
  binary: 4,
  where: 5,
  cast: 6,
  view: 7,
  reshape: 8,
  concat: 9,
  reduce: 10,
  matmul: 11,
  scan: 12,
  iota: 13,
  gather: 14,
  scatter: 15,
};

const opIndices = new Map<string, number>();
/** A small distinct integer per op name ('' is 0), assigned on first use. */
function opIndex(op: string): number {
  if (op === '') return 0;
  let t = opIndices.get(op);
  if (t === undefined) {
    t = opIndices.size + 1;
    opIndices.set(op, t);
  }
  return t;
}

/*
 * Leaves that user code drops without releasing need no JS finalizer: a leaf is the
 * only strong path to its BufferRef (besides other leaves of the same buffer and a
 * run in flight), and the BufferRef owns a native handle whose Node-API finalizer
 * frees the memory inside the GC that collects it (runtime/pool-buffer.ts). A
 * FinalizationRegistry would only run on a later turn of the event loop, which a
 * synchronous loop never reaches. `holders` counts explicit holds, so `releaseNode`
 * can free a buffer as soon as its last leaf is disposed.
 */

/** Takes a freshly made leaf's hold on its buffer. */
export function registerLeaf(node: Node): void {
  const buffer = node.buffer as BufferRef;
  buffer.holders++;
  buffer.label('array (from JS data)');
  if (debugMemoryBytes !== null && buffer.holders === 1 && buffer.nbytes >= debugMemoryBytes) logAllocation(node, 'array (from JS data)');
}

/** METALARRAY_DEBUG=memory: one line per large buffer an array came to hold. */
function logAllocation(node: Node, op: string): void {
  const buffer = node.buffer as BufferRef;
  debugLog(`memory: ${(buffer.nbytes / 2 ** 20).toFixed(2)} MiB (${buffer.backend}) for ${op} -> ${node.dtype}[${node.shape.join(', ')}]`);
}

/** An unevaluated consumer of `x` was evaluated or dropped: one reader fewer. */
function dropUse(x: Node): void {
  x.pendingUses--;
  if (x.buffer !== null) x.buffer.addReaders(-1);
}

/**
 * Drops one hold on a node. At zero a leaf gives its buffer back and any other node
 * lets go of its inputs, recursively (iteratively, so deep graphs can't overflow).
 */
export function releaseNode(node: Node): void {
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (--n.refs > 0) continue;
    if (n.kind === 'leaf') {
      const history = n.history;
      if (history !== null) {
        n.history = null;
        for (let i = 0; i < history.inputs.length; i++) stack.push(history.inputs[i]);
      }
      const buffer = n.buffer;
      if (buffer !== null) {
        n.buffer = null;
        if (n.pendingUses > 0) buffer.addReaders(-n.pendingUses);
        buffer.holders--;
        if (buffer.holders === 0) buffer.release();
      }
    } else {
      const inputs = n.inputs;
      n.inputs = EMPTY;
      for (let i = 0; i < inputs.length; i++) {
        dropUse(inputs[i]);
        stack.push(inputs[i]);
      }
    }
  }
}
