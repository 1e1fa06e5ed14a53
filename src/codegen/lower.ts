/**
 * Lowering of one fused kernel group to the kernel IR.
 *
 * Phase 1 walks the group from its root with concrete index forms (affine maps from
 * the output's loop indices to each node's indices), so every movement op becomes
 * index arithmetic and every load a strided access. Phase 2 collapses output dims
 * that every access walks contiguously, then emits the IR with every size, stride,
 * offset and constant as an argument slot.
 */
import type { DType } from '../core/dtype.js';
import type { Node, ReduceOp, ViewMap } from '../core/node.js';
import { contiguousStrides } from '../core/build.js';
import { ELEMENTWISE, type ElementwiseOp } from '../core/op-table.js';
import { type IndexExpr, type IndexTerm, type KernelIR, MATMUL_ROW_BLOCK, type MatmulSpec, type Stmt } from './ir.js';

/** c + Σ coefs[v] * var_v, over output dims (ids < rank) and reshape vars. */
interface Form {
  c: number;
  coefs: number[];
}

interface Clause {
  form: Form;
  lo: number;
  hi: number;
}

/** Vars beyond the output dims: reshape-derived indices and reduction loop indices. */
type ExtraVar =
  | { kind: 'rvar'; linear: Form; div: number; mod: number }
  | { kind: 'red'; size: number }
  /** A gathered index: the value of `expr` (an integer), wrapped and clamped to [0, size). */
  | { kind: 'gval'; expr: LExpr; size: number };

type LExpr =
  | { t: 'load'; slot: number; dtype: DType; form: Form; gate: Clause[] | null }
  | { t: 'const'; node: Node; dtype: DType }
  | { t: 'index'; form: Form; dtype: DType }
  | { t: 'op'; op: string; dtype: DType; result: DType; srcs: LExpr[] }
  | { t: 'cast'; from: DType; to: DType; src: LExpr }
  | { t: 'where'; dtype: DType; srcs: [LExpr, LExpr, LExpr] }
  | { t: 'select'; dtype: DType; gates: Clause[][]; srcs: LExpr[] }
  | { t: 'reduce'; node: Node; op: ReduceOp; dtype: DType; result: DType; vars: number[]; body: LExpr }
  | { t: 'matmul'; node: Node; a: { slot: number; layout: Layout }; b: { slot: number; layout: Layout } };

interface Ctx {
  id: number;
  forms: Form[];
  gate: Clause[] | null;
}

/** A strided layout over a buffer: element strides and offset. */
export interface Layout {
  strides: readonly number[];
  offset: number;
}

/** What the lowering needs to know about the plan around the kernel. */
export interface LowerEnv {
  /** True for nodes that are materialized (leaves, or earlier kernels' outputs). */
  isBoundary(node: Node): boolean;
  /** The layout of a boundary node's buffer. */
  layoutOf(node: Node): Layout;
  /** Float32 matmul precision ('highest' when absent); recorded in the MatmulSpec. */
  matmulPrecision?: 'highest' | 'tf32';
}

/** A lowered kernel: IR plus what the executor binds per run. */
export interface LoweredKernel {
  ir: KernelIR;
  /** Boundary nodes read by the kernel, in buffer order after the output. */
  inputs: Node[];
  /** Arg words (int64) known at plan time; const slots are filled per run. */
  args: number[];
  /** Nodes whose `value` (a constant, or a folded scalar) fills an arg slot, and its dtype. */
  consts: { node: Node; slot: number; dtype: DType }[];
  /** Total work items (output elements). */
  work: number;
  /** Sum of op costs per element, for the grain. */
  cost: number;
  /** Inline reductions this kernel would recompute per element: the plan materializes them and lowers again. */
  materialize: Node[];
}

/** A form as text: equal forms, equal keys. */
function formKey(f: Form): string {
  let key = `${f.c}`;
  for (let v = 0; v < f.coefs.length; v++) if (f.coefs[v]) key += `,${v}*${f.coefs[v]}`;
  return key;
}

function affine(c: number, coefs: number[]): Form {
  return { c, coefs };
}

function unitForm(v: number): Form {
  const coefs: number[] = [];
  coefs[v] = 1;
  return { c: 0, coefs };
}

/** Σ weights[d] * forms[d] + c. */
function combine(forms: readonly Form[], weights: readonly number[], c: number): Form {
  const coefs: number[] = [];
  for (let d = 0; d < forms.length; d++) {
    const w = weights[d];
    if (w === 0) continue;
    const f = forms[d];
    c += w * f.c;
    for (let v = 0; v < f.coefs.length; v++) {
      const k = f.coefs[v];
      if (k) coefs[v] = (coefs[v] ?? 0) + w * k;
    }
  }
  return { c, coefs };
}

/**
 * Strides for viewing a strided array under a new shape without copying, or null
 * when the layout can't express it (then the reshape becomes div/mod index math).
 */
export function reshapeStrides(oldShape: readonly number[], oldStrides: readonly number[], newShape: readonly number[]): number[] | null {
  let size = 1;
  for (const s of newShape) size *= s;
  if (size === 0) return contiguousStrides(newShape);
  const od: number[] = [];
  const os: number[] = [];
  for (let i = 0; i < oldShape.length; i++) {
    if (oldShape[i] !== 1) {
      od.push(oldShape[i]);
      os.push(oldStrides[i]);
    }
  }
  const ns = new Array<number>(newShape.length).fill(0);
  let oi = 0;
  let oj = 1;
  let ni = 0;
  let nj = 1;
  while (ni < newShape.length && oi < od.length) {
    let np = newShape[ni];
    let op = od[oi];
    while (np !== op) {
      if (np < op) np *= newShape[nj++];
      else op *= od[oj++];
    }
    for (let ok = oi; ok < oj - 1; ok++) if (os[ok] !== od[ok + 1] * os[ok + 1]) return null;
    ns[nj - 1] = os[oj - 1];
    for (let nk = nj - 1; nk > ni; nk--) ns[nk - 1] = ns[nk] * newShape[nk];
    ni = nj++;
    oi = oj++;
  }
  // Trailing 1-sized new dims keep stride 0; any stride works for them.
  return ns;
}

/**
 * Composes a chain of views and reshapes down to the first boundary node into one
 * strided layout over that node's buffer; null if the chain holds anything else or a
 * reshape strides can't express.
 */
export function chainLayout(top: Node, env: LowerEnv): { base: Node; layout: Layout } | null {
  const chain: Node[] = [];
  let n = top;
  while (!env.isBoundary(n)) {
    if (n.kind !== 'view' && n.kind !== 'reshape') return null;
    chain.push(n);
    n = n.inputs[0];
  }
  const base = n;
  let layout = env.layoutOf(base);
  for (let k = chain.length - 1; k >= 0; k--) {
    const node = chain[k];
    const inner = layout;
    if (node.kind === 'view') {
      const map = node.view as ViewMap;
      let offset = inner.offset;
      for (let j = 0; j < map.start.length; j++) offset += inner.strides[j] * map.start[j];
      layout = { strides: map.inDim.map((j, d) => (j >= 0 ? inner.strides[j] * map.step[d] : 0)), offset };
    } else {
      const strides = reshapeStrides(node.inputs[0].shape, inner.strides, node.shape);
      if (!strides) return null;
      layout = { strides, offset: inner.offset };
    }
  }
  return { base, layout };
}

class Lowering {
  private ctxCount = 0;
  private readonly memo = new Map<Node, Map<number, LExpr>>();
  readonly slots = new Map<Node, number>();
  readonly inputs: Node[] = [];
  readonly extra: ExtraVar[] = [];
  cost = 0;

  constructor(
    private readonly env: LowerEnv,
    readonly rank: number,
  ) {}

  /** Contexts by their index forms and gate, so a node reached twice at one index is lowered once. */
  private readonly ctxByKey = new Map<string, Ctx>();

  /**
   * The context of these forms and gate: an existing one when equal, so paths that meet
   * again at the same index (softmax's max, read by the output and inside the sum) share
   * one expression, and one reduction.
   */
  newCtx(forms: Form[], gate: Clause[] | null): Ctx {
    let key = '';
    for (const f of forms) key += `${formKey(f)};`;
    if (gate) for (const c of gate) key += `|${formKey(c.form)}:${c.lo}:${c.hi}`;
    const known = this.ctxByKey.get(key);
    if (known) return known;
    const ctx = { id: this.ctxCount++, forms, gate };
    this.ctxByKey.set(key, ctx);
    return ctx;
  }

  slotOf(node: Node): number {
    let s = this.slots.get(node);
    if (s === undefined) {
      s = this.inputs.length + 1;
      this.slots.set(node, s);
      this.inputs.push(node);
    }
    return s;
  }

  private load(node: Node, boundary: Node, layout: Layout, ctx: Ctx): LExpr {
    return {
      t: 'load',
      slot: this.slotOf(boundary),
      dtype: node.dtype,
      form: combine(ctx.forms, layout.strides, layout.offset),
      gate: ctx.gate,
    };
  }

  /** The first node below a view/reshape chain (a boundary, or the computed node under it). */
  private chainBase(node: Node): Node {
    while (!this.env.isBoundary(node) && (node.kind === 'view' || node.kind === 'reshape')) node = node.inputs[0];
    return node;
  }

  private lookup(node: Node, ctx: Ctx): LExpr | undefined {
    return this.memo.get(node)?.get(ctx.id);
  }

  private store(node: Node, ctx: Ctx, e: LExpr): void {
    let byCtx = this.memo.get(node);
    if (byCtx === undefined) {
      byCtx = new Map();
      this.memo.set(node, byCtx);
    }
    byCtx.set(ctx.id, e);
  }

  /** Inline products, and nodes the kernel needs materialized instead of inlined. */
  readonly matmuls: Node[] = [];
  readonly materialize: Node[] = [];

  /**
   * A matrix product runs in this kernel only as its output (plus elementwise work on
   * it at the same index) with strided operands; otherwise the plan materializes it
   * (or its operand) and lowers again. The placeholder returned then is never rendered.
   */
  private matmul(node: Node, ctx: Ctx): LExpr {
    const identity =
      ctx.gate === null && ctx.forms.length === this.rank && ctx.forms.every((f, d) => f.c === 0 && f.coefs.every((k, v) => (v === d ? k === 1 : !k)));
    if (!identity || this.matmuls.length > 0) {
      this.materialize.push(node);
      return { t: 'const', node, dtype: node.dtype };
    }
    const operand = (x: Node): { slot: number; layout: Layout } | null => {
      const c = chainLayout(x, this.env);
      if (!c) {
        // Materialize the computed node under the views; if that is already a buffer
        // (strides can't express the reshape over it), the operand itself is copied.
        const base = this.chainBase(x);
        this.materialize.push(this.env.isBoundary(base) ? x : base);
        return null;
      }
      return { slot: this.slotOf(c.base), layout: c.layout };
    };
    const a = operand(node.inputs[0]);
    const b = operand(node.inputs[1]);
    if (!a || !b) return { t: 'const', node, dtype: node.dtype };
    this.matmuls.push(node);
    this.cost += node.inputs[0].shape[node.inputs[0].shape.length - 1] * 2;
    return { t: 'matmul', node, a, b };
  }

  /**
   * A gather reads its data (a strided view of a buffer; a computed one is materialized
   * first) at the consumer's index with each gathered axis replaced by its index value.
   */
  private gather(node: Node, ctx: Ctx, indices: readonly LExpr[]): LExpr {
    const data = node.inputs[0];
    const c = chainLayout(data, this.env);
    if (!c) {
      const base = this.chainBase(data);
      this.materialize.push(this.env.isBoundary(base) ? data : base);
      return { t: 'const', node, dtype: node.dtype };
    }
    const forms = ctx.forms.slice();
    (node.axes as readonly number[]).forEach((axis, k) => {
      forms[axis] = unitForm(this.rank + this.extra.length);
      this.extra.push({ kind: 'gval', expr: indices[k], size: data.shape[axis] });
    });
    return this.load(data, c.base, c.layout, this.newCtx(forms, ctx.gate));
  }

  /** The expression of a node that needs no children walked (a load or constant), or null. */
  private direct(node: Node, ctx: Ctx): LExpr | null {
    if (this.env.isBoundary(node)) return this.load(node, node, this.env.layoutOf(node), ctx);
    if (node.kind === 'const') return { t: 'const', node, dtype: node.dtype };
    if (node.kind === 'iota') return { t: 'index', form: combine(ctx.forms, contiguousStrides(node.shape), 0), dtype: node.dtype };
    if (node.kind === 'matmul') return this.matmul(node, ctx);
    if (node.kind === 'view' || node.kind === 'reshape') {
      const c = chainLayout(node, this.env);
      if (c) return this.load(node, c.base, c.layout, ctx);
    }
    if (node.kind === 'leaf') throw new Error('internal: leaf that is not a boundary');
    return null;
  }

  /** The (node, context) pairs a node's expression is built from. */
  private children(node: Node, ctx: Ctx): { node: Node; ctx: Ctx }[] {
    switch (node.kind) {
      case 'view': {
        const map = node.view as ViewMap;
        const input = node.inputs[0];
        const forms: Form[] = [];
        for (let j = 0; j < input.shape.length; j++) forms.push(affine(map.start[j], []));
        for (let d = 0; d < map.inDim.length; d++) {
          const j = map.inDim[d];
          if (j >= 0) forms[j] = combine([forms[j], ctx.forms[d]], [1, map.step[d]], 0);
        }
        return [{ node: input, ctx: this.newCtx(forms, ctx.gate) }];
      }
      case 'reshape':
        return [{ node: node.inputs[0], ctx: this.newCtx(this.reshapeForms(node, ctx), ctx.gate) }];
      case 'reduce': {
        // Kept dims read the consumer's index; reduced dims get fresh loop vars.
        const input = node.inputs[0];
        const axes = node.axes as readonly number[];
        const vars: number[] = [];
        let k = 0;
        const forms = input.shape.map((size, d) => {
          if (!axes.includes(d)) return ctx.forms[k++];
          const v = this.rank + this.extra.length;
          this.extra.push({ kind: 'red', size });
          vars.push(v);
          return unitForm(v);
        });
        const c = this.newCtx(forms, ctx.gate);
        this.reduceVars.set(c, vars);
        return [{ node: input, ctx: c }];
      }
      case 'gather':
        // Only the indices are read at the consumer's index; the data is read in gather().
        return node.inputs.slice(1).map((x) => ({ node: x, ctx }));
      case 'concat': {
        const bounds = node.bounds as readonly number[];
        const axisForm = ctx.forms[node.axis];
        return node.inputs.map((x, j) => {
          const clause: Clause = { form: axisForm, lo: bounds[j], hi: bounds[j + 1] };
          const forms = ctx.forms.slice();
          forms[node.axis] = affine(axisForm.c - bounds[j], axisForm.coefs);
          const c = this.newCtx(forms, ctx.gate ? [...ctx.gate, clause] : [clause]);
          this.clauses.set(c, clause);
          return { node: x, ctx: c };
        });
      }
      default:
        return node.inputs.map((x) => ({ node: x, ctx }));
    }
  }

  /**
   * The input index of a reshape from its output index. Dims pair up in groups of equal
   * size (as in reshapeStrides); a group with one input dim reads an affine combination of
   * its output dims (splits and merges of contiguous dims cost nothing), and only a group
   * that splits one linear index over several input dims needs division and modulo.
   */
  private reshapeForms(node: Node, ctx: Ctx): Form[] {
    const input = node.inputs[0];
    const outDims = node.shape.flatMap((d, i) => (d === 1 ? [] : [i]));
    const inDims = input.shape.flatMap((d, i) => (d === 1 ? [] : [i]));
    const forms: Form[] = input.shape.map(() => affine(0, []));
    if (node.size === 0) return forms;
    let o = 0;
    let m = 0;
    while (o < outDims.length && m < inDims.length) {
      const o0 = o;
      const m0 = m;
      let outSize = node.shape[outDims[o++]];
      let inSize = input.shape[inDims[m++]];
      while (outSize !== inSize) {
        if (outSize < inSize) outSize *= node.shape[outDims[o++]];
        else inSize *= input.shape[inDims[m++]];
      }
      const groupOut = outDims.slice(o0, o);
      const linear = combine(
        groupOut.map((d) => ctx.forms[d]),
        contiguousStrides(groupOut.map((d) => node.shape[d])),
        0,
      );
      const groupIn = inDims.slice(m0, m);
      if (groupIn.length === 1) {
        forms[groupIn[0]] = linear;
        continue;
      }
      const inStrides = contiguousStrides(groupIn.map((d) => input.shape[d]));
      groupIn.forEach((d, k) => {
        const v = this.rank + this.extra.length;
        this.extra.push({ kind: 'rvar', linear, div: inStrides[k], mod: input.shape[d] });
        forms[d] = unitForm(v);
      });
    }
    return forms;
  }

  private readonly clauses = new Map<Ctx, Clause>();
  private readonly reduceVars = new Map<Ctx, number[]>();

  /** The expression of a node from its children's expressions. */
  private combineNode(node: Node, ctx: Ctx, kids: { node: Node; ctx: Ctx }[], vals: LExpr[]): LExpr {
    switch (node.kind) {
      case 'unary':
      case 'binary': {
        this.cost += (ELEMENTWISE.get(node.op) as ElementwiseOp).cost;
        let srcs = vals;
        if (node.scalarSide >= 0) {
          // The folded scalar: a constant in the input's (compute) dtype, bound from node.value.
          const c: LExpr = { t: 'const', node, dtype: node.inputs[0].dtype };
          srcs = node.scalarSide === 0 ? [vals[0], c] : [c, vals[0]];
        }
        return { t: 'op', op: node.op, dtype: node.inputs[0].dtype, result: node.dtype, srcs };
      }
      case 'cast':
        this.cost += 1;
        return { t: 'cast', from: node.inputs[0].dtype, to: node.dtype, src: vals[0] };
      case 'where':
        this.cost += 1;
        return { t: 'where', dtype: node.dtype, srcs: [vals[0], vals[1], vals[2]] };
      case 'view':
      case 'reshape':
        return vals[0];
      case 'concat':
        return { t: 'select', dtype: node.dtype, gates: kids.map((k) => [this.clauses.get(k.ctx) as Clause]), srcs: vals };
      case 'reduce': {
        const vars = this.reduceVars.get(kids[0].ctx) as number[];
        const size = vars.reduce((p, v) => p * (this.extra[v - this.rank] as { size: number }).size, 1);
        this.cost += size * 2;
        return { t: 'reduce', node, op: node.op as ReduceOp, dtype: node.inputs[0].dtype, result: node.dtype, vars, body: vals[0] };
      }
      case 'gather':
        return this.gather(node, ctx, vals);
      default:
        throw new Error(`internal: cannot lower ${node.kind}`);
    }
  }

  /** The expression of `root` at `rootCtx`, built without recursion (chains can be long). */
  walk(root: Node, rootCtx: Ctx): LExpr {
    type Frame = { node: Node; ctx: Ctx; kids: { node: Node; ctx: Ctx }[] | null };
    const stack: Frame[] = [{ node: root, ctx: rootCtx, kids: null }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1];
      if (this.lookup(f.node, f.ctx) !== undefined) {
        stack.pop();
        continue;
      }
      if (f.kids === null) {
        const d = this.direct(f.node, f.ctx);
        if (d !== null) {
          this.store(f.node, f.ctx, d);
          stack.pop();
          continue;
        }
        f.kids = this.children(f.node, f.ctx);
        for (const k of f.kids) if (this.lookup(k.node, k.ctx) === undefined) stack.push({ node: k.node, ctx: k.ctx, kids: null });
        continue;
      }
      const vals = f.kids.map((k) => this.lookup(k.node, k.ctx) as LExpr);
      this.store(f.node, f.ctx, this.combineNode(f.node, f.ctx, f.kids, vals));
      stack.pop();
    }
    return this.lookup(root, rootCtx) as LExpr;
  }
}

/** The sub-expressions an expression reads (a reduce's body counts). */
function childrenOf(e: LExpr): LExpr[] {
  switch (e.t) {
    case 'op':
    case 'where':
    case 'select':
      return e.srcs;
    case 'cast':
      return [e.src];
    case 'reduce':
      return [e.body];
    default:
      return [];
  }
}

/** Groups of adjacent output dims that every access walks contiguously. */
function collapseDims(shape: readonly number[], forms: readonly Form[]): number[][] {
  const kept: number[] = [];
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) kept.push(d);
  const groups: number[][] = [];
  for (const d of kept) {
    const last = groups[groups.length - 1];
    if (last) {
      const inner = d;
      const outer = last[last.length - 1];
      const ok = forms.every((f) => (f.coefs[outer] ?? 0) === (f.coefs[inner] ?? 0) * shape[inner]);
      if (ok) {
        last.push(d);
        continue;
      }
    }
    groups.push([d]);
  }
  return groups;
}

/** The matmul expression inside an epilogue expression, if any. */
function findMatmul(expr: LExpr): Extract<LExpr, { t: 'matmul' }> | null {
  const pending: LExpr[] = [expr];
  const seen = new Set<LExpr>();
  while (pending.length > 0) {
    const e = pending.pop() as LExpr;
    if (seen.has(e)) continue;
    seen.add(e);
    if (e.t === 'matmul') return e;
    pending.push(...childrenOf(e));
  }
  return null;
}

/**
 * Every form in an expression tree, and the reduce expressions in it; a load's gathered
 * index (a 'gval' var of `extra`, numbered from `rank`) counts as part of the tree.
 */
function collectForms(expr: LExpr, rank: number, extra: readonly ExtraVar[]): { forms: Form[]; reduces: Extract<LExpr, { t: 'reduce' }>[] } {
  const forms: Form[] = [];
  const reduces: Extract<LExpr, { t: 'reduce' }>[] = [];
  const seen = new Set<LExpr>();
  const pending: LExpr[] = [expr];
  while (pending.length > 0) {
    const e = pending.pop() as LExpr;
    if (seen.has(e)) continue;
    seen.add(e);
    if (e.t === 'load') {
      forms.push(e.form);
      for (const c of e.gate ?? []) forms.push(c.form);
      e.form.coefs.forEach((k, v) => {
        const x = k && v >= rank ? extra[v - rank] : undefined;
        if (x?.kind === 'gval') pending.push(x.expr);
      });
    } else if (e.t === 'index') {
      forms.push(e.form);
    } else if (e.t === 'select') {
      for (const g of e.gates) for (const c of g) forms.push(c.form);
    } else if (e.t === 'reduce') reduces.push(e);
    pending.push(...childrenOf(e));
  }
  return { forms, reduces };
}

/** Lowers the kernel that computes `root` (contiguous output) to IR. */
export function lowerKernel(root: Node, env: LowerEnv): LoweredKernel {
  const rank = root.shape.length;
  // The root is computed by this kernel even when the plan materializes it.
  const kernelEnv: LowerEnv = { isBoundary: (n) => n !== root && env.isBoundary(n), layoutOf: env.layoutOf, matmulPrecision: env.matmulPrecision };
  const L = new Lowering(kernelEnv, rank);
  // A scan kernel computes its input at the output's index and folds it along the last dim;
  // a scatter kernel computes its base there and then applies its updates.
  const isScan = root.kind === 'scan';
  const isScatter = root.kind === 'scatter';
  const expr = L.walk(
    isScan || isScatter ? root.inputs[0] : root,
    L.newCtx(
      root.shape.map((_, d) => unitForm(d)),
      null,
    ),
  );

  const { forms, reduces } = collectForms(expr, rank, L.extra);
  for (const x of L.extra) if (x.kind === 'rvar') forms.push(x.linear);

  // Output dims (of size > 1) each expression reads, through rvars and nested reduces.
  const outDims = (e: LExpr): Set<number> => {
    const dims = new Set<number>();
    const addForm = (f: Form): void => {
      f.coefs.forEach((k, v) => {
        if (!k) return;
        if (v < rank) {
          if (root.shape[v] !== 1) dims.add(v);
        } else {
          const x = L.extra[v - rank];
          if (x.kind === 'rvar') addForm(x.linear);
        }
      });
    };
    const inner = collectForms(e, rank, L.extra);
    for (const f of inner.forms) addForm(f);
    return dims;
  };
  // A reduction broadcast along the innermost output dim would be recomputed for every
  // element there: the plan materializes it instead. Broadcast only along outer dims
  // (softmax, layer norm over the last axis) it is computed once per row.
  const materialize: Node[] = [...L.materialize];
  let innermost = -1;
  for (let d = rank - 1; d >= 0; d--) {
    if (root.shape[d] !== 1) {
      innermost = d;
      break;
    }
  }
  for (const r of reduces) {
    if (r === expr) continue;
    const dims = outDims(r.body);
    const broadcast = root.shape.some((s, d) => s !== 1 && !dims.has(d));
    if (broadcast && innermost >= 0 && dims.has(innermost)) materialize.push(r.node);
  }

  // A matmul kernel keeps every dim as its own loop (its scaffold tiles rows and columns).
  // Only an elementwise kernel can be a matmul's epilogue: a scan or scatter over a product
  // has its own loop structure, so the product becomes a kernel of its own.
  const mm = L.matmuls.length > 0 && !isScan && !isScatter ? (expr.t === 'matmul' ? expr : reduces.length === 0 ? findMatmul(expr) : null) : null;
  if (L.matmuls.length > 0 && !mm) materialize.push(...L.matmuls);
  const groups = mm || isScan ? root.shape.map((_, d) => [d]) : collapseDims(root.shape, forms);
  const outRank = Math.max(1, groups.length);
  const dims = groups.length ? groups.map((g) => g.reduce((p, d) => p * root.shape[d], 1)) : [1];
  // The var of each original dim: its group's index, or -1 for dropped 1-sized dims.
  const groupOf = new Array<number>(rank).fill(-1);
  const innermostOf = new Array<boolean>(rank).fill(false);
  groups.forEach((g, gi) => {
    for (const d of g) groupOf[d] = gi;
    innermostOf[g[g.length - 1]] = true;
  });

  const args: number[] = [root.size, 0, ...(mm || isScan ? root.shape : dims)];
  if (isScan) {
    // Work items are lines along the last dim.
    const line = root.shape[rank - 1];
    args[0] = line > 0 ? root.size / line : 0;
  }
  const newSlot = (value: number): number => {
    args.push(value);
    return args.length - 1;
  };
  let nextId = 0;
  let nextLoop = 0;
  const innerDim = outRank - 1;
  const innerIds = new Set<number>();
  const usesDimIds = new Set<number>();

  // Blocks: the kernel body, and one per reduce being emitted (innermost last).
  interface Block {
    vars: Set<number>;
    stmts: Stmt[];
    inner: boolean[];
  }
  const top: Block = { vars: new Set(), stmts: [], inner: [] };
  const blocks: Block[] = [top];
  const loopOf = new Map<number, number>(); // reduction var → loop number
  const redDeps = new Map<number, Set<number>>(); // SSA id → reduction vars it depends on
  const rvarIds = new Map<number, number>(); // extra var → rvar statement id

  const blockFor = (deps: Set<number>): Block => {
    for (let b = blocks.length - 1; b > 0; b--) {
      for (const v of deps) if (blocks[b].vars.has(v)) return blocks[b];
    }
    return top;
  };
  const push = (s: Stmt, isInner: boolean, deps: Set<number>, usesDims: boolean): number => {
    const block = blockFor(deps);
    block.stmts.push(s);
    block.inner.push(isInner);
    const id = (s as { id: number }).id;
    if (isInner) innerIds.add(id);
    if (usesDims) usesDimIds.add(id);
    redDeps.set(id, deps);
    return id;
  };
  const depsOfIds = (ids: readonly number[]): Set<number> => {
    const out = new Set<number>();
    for (const x of ids) for (const v of redDeps.get(x) ?? []) out.add(v);
    return out;
  };

  interface Ix {
    expr: IndexExpr;
    isInner: boolean;
    deps: Set<number>;
    usesDims: boolean;
  }
  const indexExpr = (f: Form): Ix => {
    const terms: IndexTerm[] = [];
    let isInner = false;
    let usesDims = false;
    const deps = new Set<number>();
    for (let v = 0; v < f.coefs.length; v++) {
      const k = f.coefs[v];
      if (!k) continue;
      if (v < rank) {
        const g = groupOf[v];
        if (g < 0 || !innermostOf[v]) continue; // dropped dim, or folded into its group's coefficient
        terms.push({ v: { dim: g }, coef: g === innerDim && k === 1 ? 'unit' : newSlot(k) });
        usesDims = true;
        if (g === innerDim) isInner = true;
        continue;
      }
      const x = L.extra[v - rank];
      const coef = k === 1 ? 'unit' : newSlot(k);
      if (x.kind === 'red') {
        terms.push({ v: { loop: loopOf.get(v) as number }, coef });
        deps.add(v);
      } else {
        const id = rvarOf(v);
        terms.push({ v: { rvar: id }, coef });
        if (innerIds.has(id)) isInner = true;
        if (usesDimIds.has(id)) usesDims = true;
        for (const d of redDeps.get(id) ?? []) deps.add(d);
      }
    }
    return { expr: { base: newSlot(f.c), terms }, isInner, deps, usesDims };
  };
  // Reshape indices are emitted where first needed, in the block their vars allow.
  const rvarOf = (v: number): number => {
    const known = rvarIds.get(v);
    if (known !== undefined) return known;
    const extra = L.extra[v - rank];
    if (extra.kind === 'gval') {
      // The gathered index: its value, emitted where its own inputs allow, then clamped.
      const src = emitTree(extra.expr);
      const id = valueStmt({ k: 'gidx', id: nextId++, src, size: newSlot(extra.size) }, [src]);
      rvarIds.set(v, id);
      return id;
    }
    const x = extra as Extract<ExtraVar, { kind: 'rvar' }>;
    const ix = indexExpr(x.linear);
    const id = push({ k: 'rvar', id: nextId++, linear: ix.expr, div: newSlot(x.div), mod: newSlot(x.mod) }, ix.isInner, ix.deps, ix.usesDims);
    rvarIds.set(v, id);
    return id;
  };

  // One statement per gate clause (shared by every load under it), ANDed together.
  const clauseIds = new Map<Clause, number>();
  const andIds = new Map<string, number>();
  const gateOf = (clauses: Clause[]): number => {
    let acc = -1;
    let key = '';
    for (const c of clauses) {
      let id = clauseIds.get(c);
      if (id === undefined) {
        const ix = indexExpr(c.form);
        id = push({ k: 'gate', id: nextId++, clause: { index: ix.expr, lo: newSlot(c.lo), hi: newSlot(c.hi) } }, ix.isInner, ix.deps, ix.usesDims);
        clauseIds.set(c, id);
      }
      key += `${id},`;
      if (acc < 0) {
        acc = id;
        continue;
      }
      const known = andIds.get(key);
      if (known !== undefined) {
        acc = known;
        continue;
      }
      const srcs = [acc, id];
      acc = push(
        { k: 'alu', id: nextId++, op: 'logicalAnd', dtype: 'bool', result: 'bool', srcs },
        srcs.some((x) => innerIds.has(x)),
        depsOfIds(srcs),
        srcs.some((x) => usesDimIds.has(x)),
      );
      andIds.set(key, acc);
    }
    return acc;
  };

  const consts: { node: Node; slot: number; dtype: DType }[] = [];
  const emitted = new Map<LExpr, number>();
  const valueStmt = (s: Stmt, srcs: readonly number[]): number =>
    push(
      s,
      srcs.some((x) => innerIds.has(x)),
      depsOfIds(srcs),
      srcs.some((x) => usesDimIds.has(x)),
    );

  const emitOne = (e: LExpr): number => {
    const done = emitted.get(e);
    if (done !== undefined) return done;
    let id: number;
    switch (e.t) {
      case 'load': {
        const gate = e.gate ? gateOf(e.gate) : null;
        const ix = indexExpr(e.form);
        const deps = gate === null ? ix.deps : new Set([...ix.deps, ...(redDeps.get(gate) ?? [])]);
        id = push(
          { k: 'load', id: nextId++, buf: e.slot, dtype: e.dtype, index: ix.expr, gate },
          ix.isInner || (gate !== null && innerIds.has(gate)),
          deps,
          ix.usesDims || (gate !== null && usesDimIds.has(gate)),
        );
        break;
      }
      case 'const': {
        const slot = newSlot(0);
        consts.push({ node: e.node, slot, dtype: e.dtype });
        id = push({ k: 'arg', id: nextId++, dtype: e.dtype, slot }, false, new Set(), false);
        break;
      }
      case 'index': {
        const ix = indexExpr(e.form);
        id = push({ k: 'index', id: nextId++, dtype: e.dtype, index: ix.expr }, ix.isInner, ix.deps, ix.usesDims);
        break;
      }
      case 'op': {
        const srcs = e.srcs.map((x) => emitted.get(x) as number);
        id = valueStmt({ k: 'alu', id: nextId++, op: e.op, dtype: e.dtype, result: e.result, srcs }, srcs);
        break;
      }
      case 'cast': {
        const src = emitted.get(e.src) as number;
        id = valueStmt({ k: 'cast', id: nextId++, from: e.from, to: e.to, src }, [src]);
        break;
      }
      case 'where': {
        const srcs = e.srcs.map((x) => emitted.get(x) as number) as [number, number, number];
        id = valueStmt({ k: 'where', id: nextId++, dtype: e.dtype, srcs }, srcs);
        break;
      }
      case 'select': {
        // Later inputs are the default; earlier ones win where their gate holds.
        let acc = emitted.get(e.srcs[e.srcs.length - 1]) as number;
        for (let j = e.srcs.length - 2; j >= 0; j--) {
          const value = emitted.get(e.srcs[j]) as number;
          const cond = gateOf(e.gates[j]);
          acc = valueStmt({ k: 'where', id: nextId++, dtype: e.dtype, srcs: [cond, value, acc] }, [cond, value, acc]);
        }
        id = acc;
        break;
      }
      case 'matmul': {
        id = push({ k: 'mm', id: nextId++, dtype: e.node.dtype }, true, new Set(), true);
        break;
      }
      case 'reduce': {
        const loops = e.vars.map((v) => {
          const loop = nextLoop++;
          loopOf.set(v, loop);
          return { loop, size: newSlot((L.extra[v - rank] as { size: number }).size) };
        });
        const block: Block = { vars: new Set(e.vars), stmts: [], inner: [] };
        blocks.push(block);
        const value = emitTree(e.body);
        blocks.pop();
        // What the body reads from outside decides where the reduce itself goes.
        const outside = new Set<number>();
        let isInner = false;
        let usesDims = false;
        for (const st of block.stmts) {
          const id2 = (st as { id: number }).id;
          if (innerIds.has(id2)) isInner = true;
          if (usesDimIds.has(id2)) usesDims = true;
          for (const v of redDeps.get(id2) ?? []) if (!block.vars.has(v)) outside.add(v);
        }
        // The value may live outside the block: a body that never reads the reduction's own
        // vars (a reduction over a size-1 or broadcast axis) is emitted where its inputs allow,
        // possibly inside an enclosing reduction's loop. The reduce must follow it there.
        if (innerIds.has(value)) isInner = true;
        if (usesDimIds.has(value)) usesDims = true;
        for (const v of redDeps.get(value) ?? []) if (!block.vars.has(v)) outside.add(v);
        id = push(
          { k: 'reduce', id: nextId++, op: e.op, dtype: e.dtype, result: e.result, loops, body: block.stmts, value, usesDims },
          isInner,
          outside,
          usesDims,
        );
        break;
      }
    }
    emitted.set(e, id);
    return id;
  };

  // Emit children before parents without recursion (chains can be thousands of ops
  // deep); a reduce's body is emitted, in its own block, when the reduce is.
  const emitTree = (rootExpr: LExpr): number => {
    const work: { e: LExpr; expanded: boolean }[] = [{ e: rootExpr, expanded: false }];
    while (work.length > 0) {
      const top2 = work[work.length - 1];
      if (emitted.has(top2.e)) {
        work.pop();
        continue;
      }
      if (!top2.expanded && top2.e.t !== 'reduce') {
        top2.expanded = true;
        const kids = childrenOf(top2.e);
        for (let k = kids.length - 1; k >= 0; k--) if (!emitted.has(kids[k])) work.push({ e: kids[k], expanded: false });
        continue;
      }
      emitOne(top2.e);
      work.pop();
    }
    return emitted.get(rootExpr) as number;
  };
  const result = emitTree(expr);

  let matmulSpec: MatmulSpec | undefined;
  if (mm) {
    const r = rank;
    const aShape = mm.node.inputs[0].shape;
    const M = aShape[r - 2];
    const K = aShape[r - 1];
    const N = root.shape[r - 1];
    const batch = root.shape.slice(0, r - 2);
    const operand = (o: { slot: number; layout: Layout }) => ({
      buf: o.slot,
      offset: newSlot(o.layout.offset),
      strides: o.layout.strides.map((s) => newSlot(s)),
    });
    matmulSpec = {
      a: operand(mm.a),
      b: operand(mm.b),
      dtype: mm.node.dtype,
      batchRank: r - 2,
      batchDims: batch.map((d) => newSlot(d)),
      m: newSlot(M),
      n: newSlot(N),
      k: newSlot(K),
      rowBlock: MATMUL_ROW_BLOCK,
      precision: env.matmulPrecision === 'tf32' && mm.node.dtype === 'float32' ? 'tf32' : 'highest',
    };
    // Work items are row blocks of every batch.
    args[0] = batch.reduce((p, d) => p * d, 1) * Math.ceil(M / MATMUL_ROW_BLOCK);
  }

  const scanOps = { cumsum: 'sum', cumprod: 'prod', cummax: 'max', cummin: 'min' } as const;
  const isSort = isScan && (root.op === 'sort' || root.op === 'argsort');
  const ir: KernelIR = {
    kind: isScatter ? 'scatter' : isSort ? 'sort' : isScan ? 'scan' : mm ? 'matmul' : expr.t === 'reduce' ? 'reduce' : 'elementwise',
    rank: mm || isScan ? rank : outRank,
    scan: isScan && !isSort ? { op: scanOps[root.op as keyof typeof scanOps], inclusive: root.inclusive } : undefined,
    sort: isSort ? { indices: root.op === 'argsort', dtype: root.inputs[0].dtype } : undefined,
    scatter: isScatter
      ? {
          op: root.op as NonNullable<KernelIR['scatter']>['op'],
          positions: L.slotOf(root.inputs[1]),
          updates: L.slotOf(root.inputs[2]),
          count: newSlot(root.inputs[1].size),
        }
      : undefined,
    matmul: matmulSpec,
    buffers: [root.dtype, ...L.inputs.map((n) => n.dtype)],
    stmts: top.stmts,
    inner: top.inner,
    result,
    argWords: args.length,
  };
  return { ir, inputs: L.inputs, args, consts, work: root.size, cost: L.cost, materialize };
}
