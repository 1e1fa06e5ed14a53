/**
 * The executor: turns a set of output nodes into a plan (schedule, lowered and
 * compiled kernels, buffer assignment, launch commands), caches plans by the graph's
 * structural key, and runs them: bind leaves and constants, allocate outputs and
 * intermediates, launch, free intermediates, turn outputs into leaves.
 */
import { chainLayout, type Layout, type LowerEnv, type LoweredKernel, lowerKernel } from '../codegen/lower.js';
import { VALIDATE_IR, validateKernelIR } from '../codegen/validate-ir.js';
import type { Backend } from '../runtime/backend.js';
import { CompileError } from '../errors.js';
import { contiguousStrides } from '../core/build.js';
import { describeGraph } from '../core/describe.js';
import { DTYPES, isFloat } from '../core/dtype.js';
import { type CpuMatmulMode, libraryGemmCommand, selectLibraryGemms } from './library-gemm.js';
import { counters } from '../core/metrics.js';
import { getMatmulPrecision } from './precision.js';
import { type AutoEvalLimits, type BufferRef, type Node, remeasure } from '../core/node.js';
import { schedule } from './scheduler.js';
import { walkGraph } from '../core/walk.js';

/** How an output of a plan is produced. */
type OutputRule =
  | { kind: 'kernel'; slot: number; strides: readonly number[] } // written by a kernel into buffer slot `slot`, contiguous
  | { kind: 'alias'; leafLocal: number; strides: number[]; offset: number } // a view of an existing leaf
  | { kind: 'same'; leafLocal: number }; // already a leaf

interface ConstBinding {
  local: number;
  word: number;
  float: boolean;
}

/** A cached, reusable schedule for one graph structure. */
export interface Plan {
  readonly backend: Backend;
  /** Command template; `patch[i]` positions get the id of buffer slot `patchSlot[i]`. */
  readonly commands: Int32Array;
  /** Where each kernel's id goes in `commands`, filled when the plan first runs. */
  readonly kernelPos: number[];
  /** Whether the kernels are compiled (explain() and kernelSources() plan without compiling). */
  compiled: boolean;
  readonly patch: Int32Array;
  readonly patchSlot: Int32Array;
  readonly args: BigInt64Array;
  /** The same words viewed as doubles, for float constants. */
  readonly argsF64: Float64Array;
  readonly consts: ConstBinding[];
  /** Slots 0..leafLocals.length-1 are leaves; the rest are kernel outputs. */
  readonly leafLocals: number[];
  readonly slotBytes: number[];
  /** For each kernel-written slot: whether it is freed after the run (an intermediate). */
  readonly slotIsIntermediate: boolean[];
  readonly outputs: OutputRule[];
  readonly outputLocals: number[];
  readonly kernelCount: number;
  /** Human-readable schedule for explain(). */
  readonly description: KernelDescription[];
  readonly sources: { name: string; source: string }[];
}

/** One kernel of a plan, as explain() shows it. */
export interface KernelDescription {
  name: string;
  kind: string;
  ops: string[];
  inputs: string[];
  output: string;
}

/** Options that change planning. */
export interface PlanOptions {
  // Readonly: a setting makes a new options object, so planContext may cache by identity.
  readonly fusion: boolean;
  /** Whether CPU float products may run on the system BLAS (see library-gemm.ts). */
  readonly cpuMatmul: CpuMatmulMode;
}

/** A step of a plan: a generated kernel, or a library call (ir null) with its kernel id. */
type PlanStep =
  | LoweredKernel
  | { ir: null; kernel: number; inputs: Node[]; args: number[]; consts: LoweredKernel['consts']; cost: number; materialize: Node[] };

/**
 * A cached plan under its full key: the graph walk's two hash lanes and node count, and
 * the planning context. Keys that share the first lane chain through `next`.
 */
interface PlanEntry {
  readonly h2: number;
  readonly count: number;
  readonly context: string;
  readonly plan: Plan;
  next: PlanEntry | null;
}

// Keyed by the first hash lane (a number: no key string is built per eval).
const planCache = new Map<number, PlanEntry>();
let planCount = 0;
const PLAN_CACHE_LIMIT = 4096;

/** Drops every cached plan (kernels stay compiled). */
export function clearPlanCache(): void {
  planCache.clear();
  planCount = 0;
}

// The planning context string, rebuilt only when the backend, options or precision change.
let lastBackend: Backend | null = null;
let lastOpts: PlanOptions | null = null;
let lastPrecision = '';
let lastContext = '';

function planContext(backend: Backend, opts: PlanOptions): string {
  const precision = getMatmulPrecision();
  if (backend !== lastBackend || opts !== lastOpts || precision !== lastPrecision) {
    lastBackend = backend;
    lastOpts = opts;
    lastPrecision = precision;
    lastContext = `${backend.name}|${opts.fusion ? 1 : 0}${opts.cpuMatmul}|${precision}`;
  }
  return lastContext;
}

function describeNode(n: Node): string {
  return `${n.dtype}[${n.shape.join(',')}]`;
}

function opLabel(n: Node): string {
  switch (n.kind) {
    case 'unary':
    case 'binary':
      return n.op;
    case 'cast':
      return `astype(${n.dtype})`;
    case 'reduce':
      return `${n.op}[${(n.axes ?? []).join(',')}]`;
    case 'matmul':
      return 'matmul';
    case 'scan':
      return `${n.op}${n.inclusive ? '' : '(exclusive)'}`;
    default:
      return n.kind;
  }
}

/** Outputs that are view chains of a leaf share its buffer: the chain as strides over it. */
const leafChain: LowerEnv = {
  isBoundary: (n) => n.kind === 'leaf',
  layoutOf: (n) => ({ strides: n.strides as number[], offset: n.offset }),
};

function buildPlan(nodes: readonly Node[], outputs: readonly Node[], backend: Backend, opts: PlanOptions): Plan {
  // Outputs that are views of leaves need no kernel: they share the leaf's buffer.
  const outputRules: (OutputRule | null)[] = outputs.map((o) => {
    if (o.kind === 'leaf') return { kind: 'same', leafLocal: o.localId };
    const a = chainLayout(o, leafChain);
    return a ? { kind: 'alias', leafLocal: a.base.localId, strides: [...a.layout.strides], offset: a.layout.offset } : null;
  });
  const computed = outputs.filter((_, i) => outputRules[i] === null);
  const gemms = selectLibraryGemms(nodes, backend, opts.cpuMatmul);
  const materialized = schedule(nodes, computed, { fusion: opts.fusion, forced: gemms.forced, maxKernelOps: backend.maxKernelOps });

  const leafLocals: number[] = [];
  const slotOf = new Map<Node, number>();
  for (const n of nodes) {
    if (n.kind === 'leaf') {
      slotOf.set(n, leafLocals.length);
      leafLocals.push(n.localId);
    }
  }
  const slotBytes: number[] = leafLocals.map(() => 0);
  const slotIsIntermediate: boolean[] = leafLocals.map(() => false);
  const isOutput = new Set(computed);

  const env: LowerEnv = {
    matmulPrecision: getMatmulPrecision(),
    isBoundary: (n: Node) => n.kind === 'leaf' || materialized.has(n),
    layoutOf: (n: Node): Layout =>
      n.kind === 'leaf' ? { strides: n.strides as number[], offset: n.offset } : { strides: contiguousStrides(n.shape), offset: 0 },
  };

  // Lower every kernel; a kernel that would recompute an inline reduction per element
  // asks for it to be materialized, and the plan is lowered again with it as a kernel.
  let roots: Node[];
  let lowered: PlanStep[];
  const lowerStep = (root: Node): PlanStep => {
    if (!gemms.products.has(root)) return lowerKernel(root, env);
    const c = libraryGemmCommand(root, gemms);
    return { ir: null, kernel: c.kernel, inputs: c.inputs, args: c.args, consts: [], cost: 0, materialize: [] };
  };
  for (;;) {
    roots = nodes.filter((n) => materialized.has(n));
    lowered = roots.map(lowerStep);
    const wanted = lowered.flatMap((k) => k.materialize);
    const more = wanted.filter((n) => !materialized.has(n));
    if (more.length === 0) {
      // Every request is met; a kernel that still asks would render a placeholder.
      if (wanted.length > 0) throw new Error('internal: a kernel asked for nodes that are already materialized');
      break;
    }
    for (const n of more) materialized.add(n);
  }
  // Tests check every kernel's IR before a renderer sees it (off in production: speed).
  if (VALIDATE_IR) for (const k of lowered) if (k.ir !== null) validateKernelIR(k.ir);

  // Buffer slots for kernel outputs: intermediates reuse a freed slot of the same size.
  const lastUse = new Map<Node, number>();
  lowered.forEach((k, ki) => {
    for (const x of k.inputs) lastUse.set(x, ki);
  });
  const freeSlots: number[] = [];
  roots.forEach((root, ki) => {
    const bytes = root.size * DTYPES[root.dtype].bytes;
    let slot = -1;
    if (!isOutput.has(root)) {
      const i = freeSlots.findIndex((s) => slotBytes[s] === bytes);
      if (i >= 0) slot = freeSlots.splice(i, 1)[0];
    }
    if (slot < 0) {
      slot = slotBytes.length;
      slotBytes.push(bytes);
      slotIsIntermediate.push(!isOutput.has(root));
    }
    slotOf.set(root, slot);
    // Inputs whose last reader is this kernel free their slot for later kernels.
    for (const x of lowered[ki].inputs) {
      if (lastUse.get(x) === ki && materialized.has(x) && !isOutput.has(x)) freeSlots.push(slotOf.get(x) as number);
    }
  });

  // Render and name the generated kernels (library calls have neither).
  const sources: { name: string; source: string }[] = [];
  const stepSource = lowered.map((k) => {
    if (k.ir === null) return -1;
    const body = backend.render(k.ir, 'KERNEL_NAME');
    const name = kernelNameFor(backend, body);
    sources.push({ name, source: body.replaceAll('KERNEL_NAME', name) });
    return sources.length - 1;
  });

  // Commands and args.
  const commands: number[] = [];
  const kernelPos: number[] = [];
  const patch: number[] = [];
  const patchSlot: number[] = [];
  const args: number[] = [];
  const argIsFloat: boolean[] = [];
  const consts: ConstBinding[] = [];
  lowered.forEach((k, ki) => {
    const argOffset = args.length;
    if (k.ir !== null) k.args[1] = grainOf(k);
    for (const a of k.args) {
      args.push(a);
      argIsFloat.push(false);
    }
    for (const c of k.consts) {
      consts.push({ local: c.node.localId, word: argOffset + c.slot, float: isFloat(c.dtype) });
    }
    const bufs = [roots[ki], ...k.inputs];
    if (k.ir === null) {
      commands.push(k.kernel, argOffset * 8, bufs.length);
    } else {
      kernelPos.push(commands.length);
      commands.push(-1, argOffset * 8, bufs.length);
    }
    for (const b of bufs) {
      patch.push(commands.length);
      patchSlot.push(slotOf.get(b) as number);
      commands.push(-1);
    }
    // GPU backends: launch geometry and args size, from the sizes bound in k.args
    // (library GEMMs, which have no IR, exist only on the cpu backend).
    if (backend.launchWords && k.ir !== null) commands.push(...backend.launchWords(k.ir, k.args));
  });
  const argWords = new BigInt64Array(args.length);
  args.forEach((a, i) => {
    argWords[i] = BigInt(a);
  });

  const outputsFinal: OutputRule[] = outputRules.map(
    (r, i) => r ?? { kind: 'kernel', slot: slotOf.get(outputs[i]) as number, strides: contiguousStrides(outputs[i].shape) },
  );
  const description: KernelDescription[] = roots.map((_, ki) => {
    const root = roots[ki];
    // The nodes fused into this kernel, listed in the walk's post-order.
    const inKernel = new Set<Node>([root]);
    const stack = [...root.inputs];
    while (stack.length > 0) {
      const n = stack.pop() as Node;
      if (inKernel.has(n) || n.kind === 'leaf' || materialized.has(n)) continue;
      inKernel.add(n);
      stack.push(...n.inputs);
    }
    const ops = nodes.filter((n) => inKernel.has(n) && n.kind !== 'const').map(opLabel);
    const k = lowered[ki];
    return {
      name: k.ir === null ? 'blas' : sources[stepSource[ki]].name,
      kind: k.ir === null ? `matmul via ${backend.libraryName?.() ?? 'a library'}` : k.ir.kind,
      ops,
      inputs: k.inputs.map((x) => `${x.kind === 'leaf' ? 'buffer' : `kernel ${roots.indexOf(x)}`} ${describeNode(x)}`),
      output: `${isOutput.has(root) ? 'output' : 'intermediate'} ${describeNode(root)}`,
    };
  });

  return {
    backend,
    commands: Int32Array.from(commands),
    kernelPos,
    compiled: sources.length === 0,
    patch: Int32Array.from(patch),
    patchSlot: Int32Array.from(patchSlot),
    args: argWords,
    argsF64: new Float64Array(argWords.buffer),
    consts,
    leafLocals,
    slotBytes,
    slotIsIntermediate,
    outputs: outputsFinal,
    outputLocals: outputs.map((o) => o.localId),
    kernelCount: lowered.length,
    description,
    sources,
  };
}

/**
 * The fewest work items worth a thread: about 128k simple ops per chunk, so a costly
 * kernel splits even when small and a cheap one runs inline. A matmul work item is a
 * block of rows, each of N outputs costing `cost`.
 */
function grainOf(k: LoweredKernel): number {
  // A scatter applies its updates in order on one thread: one chunk.
  if (k.ir.kind === 'scatter') return Math.max(1, k.args[0]);
  const mm = k.ir.matmul;
  // A scan or sort work item is a whole line (a sort makes log2(line) passes over it).
  const line = k.ir.kind === 'scan' || k.ir.kind === 'sort' ? Math.max(1, k.args[1 + k.ir.rank]) : 1;
  const passes = k.ir.kind === 'sort' ? Math.max(1, Math.log2(line)) * 4 : 1;
  const perItem = mm ? (k.cost + 2) * Math.max(1, k.args[mm.n]) * mm.rowBlock : (k.cost + 2) * line * passes;
  return Math.max(1, Math.floor(131072 / perItem));
}

const nameCache = new Map<string, string>();

function kernelNameFor(backend: Backend, body: string): string {
  const key = `${backend.name}\n${body}`;
  let name = nameCache.get(key);
  if (name === undefined) {
    name = backend.kernelName(body);
    nameCache.set(key, name);
  }
  return name;
}

/** Gets the cached plan for the graph under `outputs`, or builds it. */
export function planFor(outputs: readonly Node[], backend: Backend, opts: PlanOptions): { plan: Plan; nodes: Node[] } {
  const walk = walkGraph(outputs);
  const context = planContext(backend, opts);
  const count = walk.nodes.length;
  let e = planCache.get(walk.h1) ?? null;
  while (e !== null && (e.h2 !== walk.h2 || e.count !== count || e.context !== context)) e = e.next;
  if (e !== null) {
    counters.planCacheHits++;
    return { plan: e.plan, nodes: walk.nodes };
  }
  counters.planCacheMisses++;
  const plan = buildPlan(walk.nodes, outputs, backend, opts);
  if (planObserver !== null) planObserver(walk.nodes, outputs, backend, opts);
  if (planCount >= PLAN_CACHE_LIMIT) {
    // The oldest first lane goes, with every plan chained under it.
    const [h1, oldest] = planCache.entries().next().value as [number, PlanEntry];
    for (let x: PlanEntry | null = oldest; x !== null; x = x.next) planCount--;
    planCache.delete(h1);
  }
  planCache.set(walk.h1, { h2: walk.h2, count, context, plan, next: planCache.get(walk.h1) ?? null });
  planCount++;
  return { plan, nodes: walk.nodes };
}

/** Sees each plan built anew: its walked nodes, outputs, backend and options. */
export type PlanObserver = (nodes: readonly Node[], outputs: readonly Node[], backend: Backend, opts: PlanOptions) => void;

// Test instrumentation only (test/support/collect-cuda.ts); null, and free, otherwise.
let planObserver: PlanObserver | null = null;

/** Installs (or, with null, removes) the observer of newly built plans. */
export function setPlanObserver(observer: PlanObserver | null): void {
  planObserver = observer;
}

/**
 * The kernel sources `backend` would compile for a walked graph (a plan observer's
 * arguments), planned afresh: nothing is cached or counted.
 */
export function planSourcesFor(nodes: readonly Node[], outputs: readonly Node[], backend: Backend, opts: PlanOptions): readonly KernelSourceText[] {
  return buildPlan(nodes, outputs, backend, opts).sources;
}

/** A rendered kernel: its symbol name and its source (without the backend's prelude). */
export interface KernelSourceText {
  name: string;
  source: string;
}

/** Compiles (or loads from the caches) a plan's kernels the first time it runs (also compile.ts, once per trace). */
export function ensureCompiled(plan: Plan, nodes: readonly Node[]): void {
  if (plan.compiled) return;
  let ids: number[];
  try {
    ids = plan.backend.kernels(plan.sources);
  } catch (err) {
    // Generated code that does not compile is always metalarray's bug, never the user's.
    if (err instanceof CompileError) throw internalCompileError(err, nodes);
    throw err;
  }
  for (let k = 0; k < ids.length; k++) plan.commands[plan.kernelPos[k]] = ids[k];
  plan.compiled = true;
}

/** A generated kernel's compile failure, restated as a bug report with the graph behind it. */
function internalCompileError(err: CompileError, nodes: readonly Node[]): CompileError {
  const message =
    `internal error: metalarray generated a kernel that does not compile. This is a bug in metalarray, not in your program; ` +
    `please report it with the graph and the compiler's log below (setFusion(false) may work around it).\n` +
    `${err.message.split('\n')[0]}\ngraph (post-order):\n${describeGraph(nodes)}\ncompiler log:`;
  return new CompileError(message, err.source, err.log);
}

/** A plan bound to this run's buffers, ready to launch. */
export class BoundRun {
  readonly commands: Int32Array;
  readonly args: BigInt64Array;
  constructor(
    readonly plan: Plan,
    readonly nodes: readonly Node[],
    readonly buffers: BufferRef[],
  ) {
    this.commands = plan.commands;
    this.args = plan.args;
  }

  /** After the kernels ran: turns the outputs into leaves and frees the intermediates. */
  finish(): void {
    const { plan, nodes, buffers } = this;
    // Aliases first: they take their hold on leaf buffers before kernel outputs let go of inputs.
    for (let i = 0; i < plan.outputs.length; i++) {
      const rule = plan.outputs[i];
      const out = nodes[plan.outputLocals[i]];
      if (rule.kind === 'alias' && out.kind !== 'leaf') out.becomeLeaf(nodes[rule.leafLocal].buffer as BufferRef, rule.strides, rule.offset);
    }
    for (let i = 0; i < plan.outputs.length; i++) {
      const rule = plan.outputs[i];
      const out = nodes[plan.outputLocals[i]];
      // An output another (async) eval already finished keeps its first result.
      if (rule.kind === 'kernel' && out.kind !== 'leaf') out.becomeLeaf(buffers[rule.slot], rule.strides, 0);
    }
    for (let i = plan.leafLocals.length; i < buffers.length; i++) {
      if (buffers[i].holders === 0) buffers[i].release();
    }
  }

  /** The run failed: frees the buffers it allocated. */
  abandon(): void {
    for (let i = this.plan.leafLocals.length; i < this.buffers.length; i++) this.buffers[i].release();
  }
}

/** Binds a plan to the current graph's leaves, constants and fresh buffers. */
export function bindPlan(plan: Plan, nodes: readonly Node[]): BoundRun {
  const backend = plan.backend;
  ensureCompiled(plan, nodes);
  const buffers: BufferRef[] = new Array(plan.slotBytes.length);
  for (let i = 0; i < plan.leafLocals.length; i++) buffers[i] = nodes[plan.leafLocals[i]].buffer as BufferRef;
  let allocated = plan.leafLocals.length;
  try {
    for (; allocated < plan.slotBytes.length; allocated++) buffers[allocated] = backend.alloc(plan.slotBytes[allocated]);
  } catch (err) {
    for (let i = plan.leafLocals.length; i < allocated; i++) buffers[i].release();
    throw err;
  }
  // The addon copies commands and args when a run is submitted (sync or async), so the
  // plan's own arrays are patched in place: no per-eval typed arrays (each new small one
  // costs V8 a copy off its heap when native code first touches it).
  const commands = plan.commands;
  for (let i = 0; i < plan.patch.length; i++) commands[plan.patch[i]] = buffers[plan.patchSlot[i]].id;
  const args = plan.args;
  const f64 = plan.argsF64;
  const consts = plan.consts;
  for (let i = 0; i < consts.length; i++) {
    const c = consts[i];
    const v = nodes[c.local].value;
    if (c.float) f64[c.word] = Number(v);
    else args[c.word] = typeof v === 'bigint' ? BigInt.asIntN(64, v) : BigInt(typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }
  return new BoundRun(plan, nodes, buffers);
}

/** The distinct outputs that are not leaves yet. */
function unevaluated(outputs: readonly Node[]): Node[] {
  const out: Node[] = [];
  for (const o of outputs) if (o.kind !== 'leaf' && !out.includes(o)) out.push(o);
  return out;
}

/** The plan for the unevaluated outputs, bound to this run's buffers; null if none. */
function prepareRun(outputs: readonly Node[], backend: Backend, opts: PlanOptions): BoundRun | null {
  const pending = unevaluated(outputs);
  if (pending.length === 0) return null;
  const { plan, nodes } = planFor(pending, backend, opts);
  return bindPlan(plan, nodes);
}

/** After the kernels ran: count them and turn the outputs into leaves. */
function completeRun(run: BoundRun): void {
  counters.kernelLaunches += run.plan.kernelCount;
  // Another (async) eval may have finished some outputs meanwhile; finish() keeps theirs.
  run.finish();
}

/** Evaluates `outputs` synchronously; each becomes a leaf. */
export function execute(outputs: readonly Node[], backend: Backend, opts: PlanOptions): void {
  const run = prepareRun(outputs, backend, opts);
  if (run === null) return;
  try {
    if (run.plan.kernelCount > 0) backend.run(run.commands, run.args);
  } catch (err) {
    run.abandon();
    throw err;
  }
  completeRun(run);
}

/** Evaluates `outputs` with the kernels running off the JS thread. */
export async function executeAsync(outputs: readonly Node[], backend: Backend, opts: PlanOptions): Promise<void> {
  const run = prepareRun(outputs, backend, opts);
  if (run === null) return;
  try {
    if (run.plan.kernelCount > 0) await backend.runAsync(run.commands, run.args);
  } catch (err) {
    run.abandon();
    throw err;
  }
  completeRun(run);
}

/**
 * The auto-evaluation hook's body (node.ts calls it while building a node whose depth or
 * pinned-bytes bound crossed its limit): evaluates the node's pending inputs together,
 * so the node is built over leaves. A pinned-bytes crossing is acted on only when
 * evaluating would at least halve the bound (the inputs' own bytes are what stays
 * pinned afterwards); a graph over large leaves the caller holds anyway stays fused.
 */
export function autoEvaluate(inputs: readonly Node[], depth: number, pinned: number, limits: AutoEvalLimits, backend: Backend, opts: PlanOptions): void {
  const pending: Node[] = [];
  let after = 0;
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    if (pending.includes(x)) continue;
    if (x.depth > 0) pending.push(x);
    after += x.depth > 0 ? x.size * DTYPES[x.dtype].bytes : x.pinned;
  }
  if (pending.length === 0) return;
  if (depth <= limits.maxDepth && pinned <= 2 * after) return;
  // Evaluating only the inputs leaves every other pending node of the graph with its
  // whole history: loop state read inside the step (Adam's m and v feed p's update)
  // would stay ~maxDepth deep, so each later step would cross the bound again and
  // recompute that history (O(depth) work per step). So the same plan also evaluates a
  // cut halfway down: every pending node at most maxDepth / 2 deep that a deeper node
  // reads. Each path down from a node above the cut ends at the cut, so once depths are
  // recomputed no pending node stays deeper than ~maxDepth / 2, the next auto-evaluation
  // is at least that far away, and each level is evaluated at most about twice. (Node
  // refs can't single out the live state instead: dropped MetalArrays keep their refs,
  // see node.ts, so every API result looks held from outside.)
  const cutLevel = Math.floor(limits.maxDepth / 2);
  const graph = depth > cutLevel && cutLevel > 0 ? walkGraph(pending).nodes : null;
  const outputs = graph === null ? pending : pending.concat(cutBelow(graph, cutLevel, pending));
  execute(outputs, backend, opts);
  counters.autoEvals++;
  for (let i = 0; i < outputs.length; i++) outputs[i].autoEvaluated = true;
  if (graph === null) return;
  // Post-order: inputs are re-measured before their consumers. (Pending graphs outside
  // this one that read its nodes keep their older, larger figures: conservative.)
  for (let i = 0; i < graph.length; i++) if (graph[i].kind !== 'leaf' && graph[i].inputs.length > 0) remeasure(graph[i]);
}

/**
 * The pending nodes at most `level` deep that a node deeper than `level` reads (other
 * than `skip`): every path down from above `level` enters the cut on its first step below.
 */
function cutBelow(graph: readonly Node[], level: number, skip: readonly Node[]): Node[] {
  const cut = new Set<Node>();
  for (let i = 0; i < graph.length; i++) {
    const x = graph[i];
    if (x.depth <= level) continue;
    for (let k = 0; k < x.inputs.length; k++) {
      const y = x.inputs[k];
      if (y.depth > 0 && y.depth <= level && !skip.includes(y)) cut.add(y);
    }
  }
  return [...cut];
}

/** The plan for `outputs` without running it (explain, kernelSources). */
export function inspectPlan(outputs: readonly Node[], backend: Backend, opts: PlanOptions): Plan | null {
  const pending = unevaluated(outputs);
  if (pending.length === 0) return null;
  return planFor(pending, backend, opts).plan;
}
