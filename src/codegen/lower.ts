/**
 * Lowering of one fused kernel group to the kernel IR.
 *
 * Phase 1 walks the group from its root with concrete index forms (affine maps from
 * the output's loop indices to each node's indices), so every movement op becomes
 * index arithmetic and every load a strided access. Phase 2 collapses output dims
 * that every access walks contiguously, then emits the IR with every size, stride,
 * offset and constant as an argument slot.
 */
import type { DType } from '../graph/dtype.js';
import type { Node, ViewMap } from '../graph/node.js';
import { contiguousStrides } from '../graph/build.js';
import { ELEMENTWISE } from '../ops/table.js';
import type { IndexExpr, IndexTerm, KernelIR, Stmt } from './ir.js';

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

interface RVar {
  linear: Form;
  div: number;
  mod: number;
}

type LExpr =
  | { t: 'load'; slot: number; dtype: DType; form: Form; gate: Clause[] | null }
  | { t: 'const'; node: Node }
  | { t: 'op'; op: string; dtype: DType; result: DType; srcs: LExpr[] }
  | { t: 'cast'; from: DType; to: DType; src: LExpr }
  | { t: 'where'; dtype: DType; srcs: [LExpr, LExpr, LExpr] }
  | { t: 'select'; dtype: DType; gates: Clause[][]; srcs: LExpr[] };

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
}

/** A lowered kernel: IR plus what the executor binds per run. */
export interface LoweredKernel {
  ir: KernelIR;
  /** Boundary nodes read by the kernel, in buffer order after the output. */
  inputs: Node[];
  /** Arg words (int64) known at plan time; const slots are filled per run. */
  args: number[];
  /** Const nodes and the arg slot that receives their value. */
  consts: { node: Node; slot: number }[];
  /** Total work items (output elements). */
  work: number;
  /** Sum of op costs per element, for the grain. */
  cost: number;
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

class Lowering {
  private ctxCount = 0;
  private readonly memo = new Map<Node, Map<number, LExpr>>();
  readonly slots = new Map<Node, number>();
  readonly inputs: Node[] = [];
  readonly rvars: RVar[] = [];
  cost = 0;

  constructor(
    private readonly env: LowerEnv,
    readonly rank: number,
  ) {}

  newCtx(forms: Form[], gate: Clause[] | null): Ctx {
    return { id: this.ctxCount++, forms, gate };
  }

  private slotOf(node: Node): number {
    let s = this.slots.get(node);
    if (s === undefined) {
      s = this.inputs.length + 1;
      this.slots.set(node, s);
      this.inputs.push(node);
    }
    return s;
  }

  /** The strided layout of a chain of views/reshapes ending at a boundary, if one exists. */
  private stridedLayout(top: Node): Layout | null {
    const chain: Node[] = [];
    let n = top;
    while (!this.env.isBoundary(n)) {
      if (n.kind !== 'view' && n.kind !== 'reshape') return null;
      chain.push(n);
      n = n.inputs[0];
    }
    let layout = this.env.layoutOf(n);
    for (let k = chain.length - 1; k >= 0; k--) {
      const node = chain[k];
      const input = node.inputs[0];
      const inner = layout;
      if (node.kind === 'view') {
        const map = node.view as ViewMap;
        let offset = inner.offset;
        for (let j = 0; j < map.start.length; j++) offset += inner.strides[j] * map.start[j];
        layout = { strides: map.inDim.map((j, d) => (j >= 0 ? inner.strides[j] * map.step[d] : 0)), offset };
      } else {
        const strides = reshapeStrides(input.shape, inner.strides, node.shape);
        if (!strides) return null;
        layout = { strides, offset: inner.offset };
      }
    }
    return layout;
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

  /** The boundary node at the bottom of a view/reshape chain. */
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

  /** The expression of a node that needs no children walked (a load or constant), or null. */
  private direct(node: Node, ctx: Ctx): LExpr | null {
    if (this.env.isBoundary(node)) return this.load(node, node, this.env.layoutOf(node), ctx);
    if (node.kind === 'const') return { t: 'const', node };
    if (node.kind === 'view' || node.kind === 'reshape') {
      const layout = this.stridedLayout(node);
      if (layout) return this.load(node, this.chainBase(node), layout, ctx);
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
      case 'reshape': {
        const input = node.inputs[0];
        const linear = combine(ctx.forms, contiguousStrides(node.shape), 0);
        const inStrides = contiguousStrides(input.shape);
        const forms = input.shape.map((dim, m) => {
          const v = this.rank + this.rvars.length;
          this.rvars.push({ linear, div: inStrides[m], mod: dim });
          return unitForm(v);
        });
        return [{ node: input, ctx: this.newCtx(forms, ctx.gate) }];
      }
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

  private readonly clauses = new Map<Ctx, Clause>();

  /** The expression of a node from its children's expressions. */
  private combineNode(node: Node, kids: { node: Node; ctx: Ctx }[], vals: LExpr[]): LExpr {
    switch (node.kind) {
      case 'unary':
      case 'binary':
        this.cost += ELEMENTWISE[node.op].cost;
        return { t: 'op', op: node.op, dtype: node.inputs[0].dtype, result: node.dtype, srcs: vals };
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
      this.store(f.node, f.ctx, this.combineNode(f.node, f.kids, vals));
      stack.pop();
    }
    return this.lookup(root, rootCtx) as LExpr;
  }
}

/** The sub-expressions an expression reads. */
function childrenOf(e: LExpr): LExpr[] {
  switch (e.t) {
    case 'op':
    case 'where':
    case 'select':
      return e.srcs;
    case 'cast':
      return [e.src];
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

/** Lowers the kernel that computes `root` (contiguous output) to IR. */
export function lowerKernel(root: Node, env: LowerEnv): LoweredKernel {
  const rank = root.shape.length;
  // The root is computed by this kernel even when the plan materializes it.
  const kernelEnv: LowerEnv = { isBoundary: (n) => n !== root && env.isBoundary(n), layoutOf: env.layoutOf };
  const L = new Lowering(kernelEnv, rank);
  const expr = L.walk(
    root,
    L.newCtx(
      root.shape.map((_, d) => unitForm(d)),
      null,
    ),
  );

  // Every form that involves output dims decides which dims may collapse.
  const forms: Form[] = [];
  const seen = new Set<LExpr>();
  const pending: LExpr[] = [expr];
  while (pending.length > 0) {
    const e = pending.pop() as LExpr;
    if (seen.has(e)) continue;
    seen.add(e);
    if (e.t === 'load') {
      forms.push(e.form);
      for (const c of e.gate ?? []) forms.push(c.form);
    } else if (e.t === 'select') {
      for (const g of e.gates) for (const c of g) forms.push(c.form);
    }
    pending.push(...childrenOf(e));
  }
  for (const r of L.rvars) forms.push(r.linear);
  const groups = collapseDims(root.shape, forms);
  const outRank = Math.max(1, groups.length);
  const dims = groups.length ? groups.map((g) => g.reduce((p, d) => p * root.shape[d], 1)) : [1];
  // The var of each original dim: its group's index, or -1 for dropped 1-sized dims.
  const groupOf = new Array<number>(rank).fill(-1);
  const innermostOf = new Array<boolean>(rank).fill(false);
  groups.forEach((g, gi) => {
    for (const d of g) groupOf[d] = gi;
    innermostOf[g[g.length - 1]] = true;
  });

  const args: number[] = [root.size, 0, ...dims];
  const newSlot = (value: number): number => {
    args.push(value);
    return args.length - 1;
  };
  const stmts: Stmt[] = [];
  const inner: boolean[] = [];
  const innerIds = new Set<number>();
  let nextId = 0;
  const innerDim = outRank - 1;

  const rvarIds: number[] = [];
  const rvarInner: boolean[] = [];

  const indexExpr = (f: Form): { expr: IndexExpr; isInner: boolean } => {
    const terms: IndexTerm[] = [];
    let isInner = false;
    for (let v = 0; v < f.coefs.length; v++) {
      const k = f.coefs[v];
      if (!k) continue;
      if (v < rank) {
        const g = groupOf[v];
        if (g < 0 || !innermostOf[v]) continue; // dropped dim, or folded into its group's coefficient
        const coef = g === innerDim && k === 1 ? 'unit' : newSlot(k);
        terms.push({ v: { dim: g }, coef });
        if (g === innerDim) isInner = true;
      } else {
        const r = v - rank;
        terms.push({ v: { rvar: rvarIds[r] }, coef: k === 1 ? 'unit' : newSlot(k) });
        if (rvarInner[r]) isInner = true;
      }
    }
    return { expr: { base: newSlot(f.c), terms }, isInner };
  };

  const push = (s: Stmt, isInner: boolean): number => {
    stmts.push(s);
    inner.push(isInner);
    if (isInner && 'id' in s) innerIds.add(s.id);
    return 'id' in s ? s.id : -1;
  };

  for (const r of L.rvars) {
    const { expr: linear, isInner } = indexExpr(r.linear);
    const id = nextId++;
    push({ k: 'rvar', id, linear, div: newSlot(r.div), mod: newSlot(r.mod) }, isInner);
    rvarIds.push(id);
    rvarInner.push(isInner);
  }

  // One statement per clause (shared by every load under it), ANDed together.
  const clauseIds = new Map<Clause, number>();
  const andIds = new Map<string, number>();
  const gateOf = (clauses: Clause[]): number => {
    let acc = -1;
    let key = '';
    for (const c of clauses) {
      let id = clauseIds.get(c);
      if (id === undefined) {
        const ix = indexExpr(c.form);
        id = push({ k: 'gate', id: nextId++, clause: { index: ix.expr, lo: newSlot(c.lo), hi: newSlot(c.hi) } }, ix.isInner);
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
      acc = push({ k: 'alu', id: nextId++, op: 'logicalAnd', dtype: 'bool', result: 'bool', srcs: [acc, id] }, innerIds.has(acc) || innerIds.has(id));
      andIds.set(key, acc);
    }
    return acc;
  };

  const consts: { node: Node; slot: number }[] = [];
  const emitted = new Map<LExpr, number>();
  const emit = (e: LExpr): number => {
    const done = emitted.get(e);
    if (done !== undefined) return done;
    let id: number;
    const anyInner = (ids: readonly number[]): boolean => ids.some((x) => innerIds.has(x));
    switch (e.t) {
      case 'load': {
        const gate = e.gate ? gateOf(e.gate) : null;
        const ix = indexExpr(e.form);
        id = push({ k: 'load', id: nextId++, buf: e.slot, dtype: e.dtype, index: ix.expr, gate }, ix.isInner || (gate !== null && innerIds.has(gate)));
        break;
      }
      case 'const': {
        const slot = newSlot(0);
        consts.push({ node: e.node, slot });
        id = push({ k: 'arg', id: nextId++, dtype: e.node.dtype, slot }, false);
        break;
      }
      case 'op': {
        const srcs = e.srcs.map(emit);
        id = push({ k: 'alu', id: nextId++, op: e.op, dtype: e.dtype, result: e.result, srcs }, anyInner(srcs));
        break;
      }
      case 'cast': {
        const src = emit(e.src);
        id = push({ k: 'cast', id: nextId++, from: e.from, to: e.to, src }, anyInner([src]));
        break;
      }
      case 'where': {
        const srcs = e.srcs.map(emit) as [number, number, number];
        id = push({ k: 'where', id: nextId++, dtype: e.dtype, srcs }, anyInner(srcs));
        break;
      }
      case 'select': {
        // Later inputs are the default; earlier ones win where their gate holds.
        let acc = emit(e.srcs[e.srcs.length - 1]);
        for (let j = e.srcs.length - 2; j >= 0; j--) {
          const value = emit(e.srcs[j]);
          const cond = gateOf(e.gates[j]);
          acc = push({ k: 'where', id: nextId++, dtype: e.dtype, srcs: [cond, value, acc] }, anyInner([cond, value, acc]));
        }
        id = acc;
        break;
      }
    }
    emitted.set(e, id);
    return id;
  };
  // Emit children before parents without recursion: chains can be thousands of ops deep.
  const order: LExpr[] = [];
  const placed = new Set<LExpr>();
  const work: { e: LExpr; expanded: boolean }[] = [{ e: expr, expanded: false }];
  while (work.length > 0) {
    const top = work[work.length - 1];
    if (placed.has(top.e)) {
      work.pop();
      continue;
    }
    if (!top.expanded) {
      top.expanded = true;
      const kids = childrenOf(top.e);
      for (let k = kids.length - 1; k >= 0; k--) if (!placed.has(kids[k])) work.push({ e: kids[k], expanded: false });
      continue;
    }
    placed.add(top.e);
    order.push(top.e);
    work.pop();
  }
  for (const e of order) emit(e);
  const result = emit(expr);

  const ir: KernelIR = {
    kind: 'elementwise',
    rank: outRank,
    buffers: [root.dtype, ...L.inputs.map((n) => n.dtype)],
    stmts,
    inner,
    result,
    argWords: args.length,
  };
  return { ir, inputs: L.inputs, args, consts, work: root.size, cost: L.cost };
}
