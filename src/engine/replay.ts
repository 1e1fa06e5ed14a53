/**
 * A stored, replayable plan for `compile` (src/transforms/compile.ts): a traced graph
 * scheduled once, its kernels compiled, its constants bound into a private copy of the
 * plan's args and its commands copied. A replay patches this call's input buffers and
 * fresh pool buffers into the commands and launches them: no node is built, nothing
 * is hashed or scheduled.
 *
 * On a backend with device graphs (CUDA) the plan is instead recorded once as a graph
 * over buffers this replay owns (one per argument the plan reads, one per intermediate):
 * a replay copies the arguments into them, launches the graph once and copies the
 * outputs into fresh buffers, all in one native call.
 */
import type { Backend, DeviceGraph, PreparedReplay } from '../runtime/backend.js';
import { DTYPES } from '../core/dtype.js';
import { counters } from '../core/metrics.js';
import { type BufferRef, type Node, releaseNode } from '../core/node.js';
import { ensureCompiled, planFor, type PlanOptions } from './executor.js';

/** Where a traced output's values are after a replay: a view over one of the replay's buffers. */
export interface ReplayOutput {
  readonly slot: number;
  readonly shape: readonly number[];
  readonly dtype: Node['dtype'];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** What a leaf of the trace is on replay: argument `index`, or a captured constant leaf. */
type LeafSource = { readonly input: number; readonly node: null } | { readonly input: -1; readonly node: Node };

/** One traced graph made replayable. */
export class Replay {
  readonly commands: Int32Array;
  readonly args: BigInt64Array;
  readonly patch: Int32Array;
  readonly patchSlot: Int32Array;
  /** Slots 0..leaves.length-1 are leaves; the rest are allocated per replay. */
  readonly leaves: LeafSource[];
  readonly freshBytes: number[];
  readonly outputs: ReplayOutput[];
  readonly kernelCount: number;
  readonly backend: Backend;
  private readonly buffers: BufferRef[];
  /** Where the backend has them (CPU): the plan validated once natively; a run passes only the patched ids. */
  private prepared: PreparedReplay | null = null;
  private readonly ids: Int32Array;
  /** Graph mode: the recorded graph, or null (launch by launch). */
  private graph: DeviceGraph | null = null;
  /** Graph mode: the buffers this replay owns, by slot (input leaves the plan reads, intermediates). */
  private fixed: BufferRef[] = [];
  /** Graph mode: (argument buffer id, fixed buffer id) pairs copied before the launch; the argument of each pair. */
  private before = new Int32Array(0);
  private beforeInput = new Int32Array(0);
  /** Graph mode: (fixed buffer id, fresh buffer id) pairs copied after the launch; the output slot of each pair. */
  private after = new Int32Array(0);
  private afterSlot = new Int32Array(0);

  /**
   * Plans the graph under `outputs` (each a node of the trace; leaves allowed) whose
   * placeholder leaves are the buffers in `inputOf` (buffer → argument index). Every
   * other leaf is captured: this replay holds it until `release()`.
   */
  constructor(outputs: readonly Node[], inputOf: ReadonlyMap<BufferRef, number>, backend: Backend, opts: PlanOptions) {
    this.backend = backend;
    const pending: Node[] = [];
    for (const o of outputs) if (o.kind !== 'leaf' && !pending.includes(o)) pending.push(o);
    const leafSlot = new Map<Node, number>();
    this.leaves = [];
    const addLeaf = (n: Node): number => {
      let slot = leafSlot.get(n);
      if (slot === undefined) {
        slot = this.leaves.length;
        leafSlot.set(n, slot);
        const input = inputOf.get(n.buffer as BufferRef);
        if (input !== undefined) this.leaves.push({ input, node: null });
        else {
          n.refs++; // a captured constant lives as long as the trace
          this.leaves.push({ input: -1, node: n });
        }
      }
      return slot;
    };
    this.freshBytes = [];
    if (pending.length === 0) {
      this.commands = new Int32Array(0);
      this.args = new BigInt64Array(0);
      this.patch = new Int32Array(0);
      this.patchSlot = new Int32Array(0);
      this.kernelCount = 0;
      this.outputs = outputs.map((o) => ({ slot: addLeaf(o), shape: o.shape, dtype: o.dtype, strides: o.strides as number[], offset: o.offset }));
      this.buffers = new Array(this.leaves.length);
      this.ids = new Int32Array(0);
      return;
    }
    const { plan, nodes } = planFor(pending, backend, opts);
    ensureCompiled(plan, nodes);
    for (const local of plan.leafLocals) addLeaf(nodes[local]);
    const planLeaves = plan.leafLocals.length;
    // Leaf outputs the plan does not read get leaf slots after the plan's; fresh slots follow.
    for (const o of outputs) if (o.kind === 'leaf') addLeaf(o);
    const base = this.leaves.length;
    const slotOfPlan = (s: number): number => (s < planLeaves ? s : base + (s - planLeaves));
    for (let s = planLeaves; s < plan.slotBytes.length; s++) this.freshBytes.push(plan.slotBytes[s]);
    this.outputs = outputs.map((o) => {
      if (o.kind === 'leaf') return { slot: addLeaf(o), shape: o.shape, dtype: o.dtype, strides: o.strides as number[], offset: o.offset };
      const rule = plan.outputs[plan.outputLocals.indexOf(o.localId)];
      if (rule.kind === 'kernel') return { slot: slotOfPlan(rule.slot), shape: o.shape, dtype: o.dtype, strides: rule.strides, offset: 0 };
      const leaf = nodes[rule.leafLocal];
      const view = rule.kind === 'alias' ? rule : { strides: leaf.strides as number[], offset: leaf.offset };
      return { slot: addLeaf(leaf), shape: o.shape, dtype: o.dtype, strides: view.strides, offset: view.offset };
    });
    this.commands = plan.commands.slice();
    this.patch = plan.patch.slice();
    this.patchSlot = plan.patchSlot.map((s) => slotOfPlan(s));
    this.args = plan.args.slice();
    const f64 = new Float64Array(this.args.buffer);
    for (const c of plan.consts) {
      const v = nodes[c.local].value;
      if (c.float) f64[c.word] = Number(v);
      else this.args[c.word] = typeof v === 'bigint' ? BigInt.asIntN(64, v) : BigInt(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    }
    this.kernelCount = plan.kernelCount;
    this.buffers = new Array(this.leaves.length + this.freshBytes.length);
    this.ids = new Int32Array(this.patch.length);
    if (backend.recordGraph !== undefined) this.recordGraph(plan.leafLocals.map((local) => nodes[local]));
    else if (backend.prepareReplay !== undefined && this.kernelCount > 0) this.prepared = backend.prepareReplay(this.commands, this.args, this.patch);
  }

  /**
   * Graph mode, where the backend has graphs: allocates the fixed buffers, patches them
   * into the commands for good and records the graph. `planLeaves` are the nodes of the
   * plan's leaf slots (0..n-1): an argument's fixed buffer covers the elements its leaf reads.
   */
  private recordGraph(planLeaves: readonly Node[]): void {
    const base = this.leaves.length;
    const slotCount = base + this.freshBytes.length;
    const fixed: BufferRef[] = new Array(slotCount);
    const ids = new Int32Array(slotCount);
    const owned: BufferRef[] = [];
    const beforeInput: number[] = [];
    const beforeSlot: number[] = [];
    try {
      for (let s = 0; s < planLeaves.length; s++) {
        const l = this.leaves[s];
        if (l.input < 0) {
          ids[s] = ((l.node as Node).buffer as BufferRef).id;
          continue;
        }
        const bytes = extentBytes(planLeaves[s]);
        if (bytes === 0) return; // an empty argument: launch by launch
        const b = this.backend.alloc(bytes);
        owned.push(b);
        fixed[s] = b;
        ids[s] = b.id;
        beforeInput.push(l.input);
        beforeSlot.push(s);
      }
      for (let k = 0; k < this.freshBytes.length; k++) {
        const b = this.backend.alloc(this.freshBytes[k]);
        owned.push(b);
        fixed[base + k] = b;
        ids[base + k] = b.id;
      }
      for (let i = 0; i < this.patch.length; i++) this.commands[this.patch[i]] = ids[this.patchSlot[i]];
      this.graph = (this.backend.recordGraph as NonNullable<Backend['recordGraph']>).call(this.backend, this.commands, this.args);
    } finally {
      if (this.graph === null) for (const b of owned) b.release();
    }
    if (this.graph === null) return;
    this.fixed = fixed;
    this.before = new Int32Array(2 * beforeInput.length);
    for (let k = 0; k < beforeSlot.length; k++) this.before[2 * k + 1] = ids[beforeSlot[k]];
    this.beforeInput = Int32Array.from(beforeInput);
    const outSlots: number[] = [];
    for (const o of this.outputs) if (o.slot >= base && !outSlots.includes(o.slot)) outSlots.push(o.slot);
    this.afterSlot = Int32Array.from(outSlots);
    this.after = new Int32Array(2 * outSlots.length);
    for (let k = 0; k < outSlots.length; k++) this.after[2 * k] = ids[outSlots[k]];
  }

  /**
   * Launches the stored plan over `inputs` (one dense, contiguous buffer per argument
   * leaf). Returns the replay's buffers (indexed by slot, valid until `finish`): read
   * the outputs' slots, then call `finish` to free the intermediates.
   */
  run(inputs: readonly BufferRef[]): BufferRef[] {
    const buffers = this.buffers;
    const leaves = this.leaves;
    for (let i = 0; i < leaves.length; i++) {
      const l = leaves[i];
      buffers[i] = l.input >= 0 ? inputs[l.input] : ((l.node as Node).buffer as BufferRef);
    }
    if (this.graph !== null) return this.runGraph(inputs, this.graph);
    const base = leaves.length;
    let allocated = 0;
    try {
      for (; allocated < this.freshBytes.length; allocated++) buffers[base + allocated] = this.backend.alloc(this.freshBytes[allocated]);
      const patchSlot = this.patchSlot;
      const prepared = this.prepared;
      if (prepared !== null) {
        const ids = this.ids;
        for (let i = 0; i < patchSlot.length; i++) ids[i] = buffers[patchSlot[i]].id;
        prepared.run(ids);
      } else {
        const commands = this.commands;
        const patch = this.patch;
        for (let i = 0; i < patch.length; i++) commands[patch[i]] = buffers[patchSlot[i]].id;
        if (this.kernelCount > 0) this.backend.run(commands, this.args);
      }
    } catch (err) {
      for (let i = 0; i < allocated; i++) buffers[base + i].release();
      throw err;
    }
    counters.kernelLaunches += this.kernelCount;
    return buffers;
  }

  /** Graph mode: copies in, one graph launch, copies out into fresh buffers. */
  private runGraph(inputs: readonly BufferRef[], graph: DeviceGraph): BufferRef[] {
    const buffers = this.buffers;
    const before = this.before;
    const beforeInput = this.beforeInput;
    for (let k = 0; k < beforeInput.length; k++) before[2 * k] = inputs[beforeInput[k]].id;
    const fixed = this.fixed;
    for (let s = this.leaves.length; s < buffers.length; s++) buffers[s] = fixed[s];
    const after = this.after;
    const afterSlot = this.afterSlot;
    const base = this.leaves.length;
    let allocated = 0;
    try {
      for (; allocated < afterSlot.length; allocated++) {
        const b = this.backend.alloc(this.freshBytes[afterSlot[allocated] - base]);
        buffers[afterSlot[allocated]] = b;
        after[2 * allocated + 1] = b.id;
      }
      graph.replay(before, after);
    } catch (err) {
      for (let i = 0; i < allocated; i++) buffers[afterSlot[i]].release();
      throw err;
    }
    counters.kernelLaunches += this.kernelCount;
    return buffers;
  }

  /** After the outputs took their holds: frees the fresh buffers no output holds. */
  finish(): void {
    const buffers = this.buffers;
    if (this.graph !== null) {
      // Only the output copies are fresh; the fixed intermediates stay with the replay.
      for (const s of this.afterSlot) if (buffers[s].holders === 0) buffers[s].release();
    } else {
      for (let i = this.leaves.length; i < buffers.length; i++) {
        if (buffers[i].holders === 0) buffers[i].release();
      }
    }
    buffers.fill(undefined as unknown as BufferRef);
  }

  /** Whether replays launch one recorded device graph (CUDA) rather than kernel by kernel. */
  get usesGraph(): boolean {
    return this.graph !== null;
  }

  /** Lets go of the captured constants and, in graph mode, the graph and its buffers (the trace was evicted). */
  release(): void {
    if (this.graph !== null) {
      this.graph.release();
      this.graph = null;
      for (const b of this.fixed) if (b !== undefined) b.release();
      this.fixed = [];
    }
    for (const l of this.leaves) if (l.node !== null) releaseNode(l.node);
  }
}

/** Bytes from a leaf's buffer start through the last element its view reads (0 if it reads none). */
function extentBytes(n: Node): number {
  let last = n.offset;
  for (let d = 0; d < n.shape.length; d++) {
    if (n.shape[d] === 0) return 0;
    const step = (n.shape[d] - 1) * (n.strides as readonly number[])[d];
    if (step > 0) last += step;
  }
  return (last + 1) * DTYPES[n.dtype].bytes;
}
