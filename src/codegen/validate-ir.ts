/**
 * A structural check of the kernel IR, run between lowering and rendering when
 * METALARRAY_VALIDATE_IR=1 (the test suite sets it in vitest.config.ts; production
 * skips it for speed), as tinygrad checks its UOp spec. A malformed IR would otherwise
 * surface as a compiler error far from its cause (`v12 undeclared` in generated C), or
 * worse, as a kernel that compiles and reads the wrong memory.
 *
 * Checked: every SSA value is declared once and before its use, in scope (a reduction
 * body's values are not visible after it; a body reads only values defined before the
 * reduce or earlier in the body); index variables name an output dim of the kernel's
 * rank, an rvar/gidx in scope, or a loop of an enclosing reduce; buffer indices and arg
 * slots are in range; operand dtypes agree with what each statement says it takes;
 * the kernel-kind attributes (matmul, scan, sort, scatter) are present exactly for
 * their kind.
 */
import type { DType } from '../core/dtype.js';
import type { IndexExpr, KernelIR, Stmt } from './ir.js';

/** What a value is: a dtype, or an integer index (rvar, gidx). */
type ValueType = DType | 'index';

/** Whether validation is on: METALARRAY_VALIDATE_IR=1 (read once). */
export const VALIDATE_IR = process.env.METALARRAY_VALIDATE_IR === '1';

/** The IR's defects, empty when it is well formed. */
export function kernelIRProblems(ir: KernelIR): string[] {
  const problems: string[] = [];
  const bad = (what: string): void => {
    problems.push(what);
  };
  const slot = (where: string, s: number): void => {
    if (!Number.isInteger(s) || s < 0 || s >= ir.argWords) bad(`${where}: arg slot ${s} outside [0, ${ir.argWords})`);
  };
  const buffer = (where: string, b: number): void => {
    if (!Number.isInteger(b) || b < 0 || b >= ir.buffers.length) bad(`${where}: buffer ${b} outside [0, ${ir.buffers.length})`);
  };

  if (ir.rank < 1) bad(`rank ${ir.rank} < 1`);
  if (ir.buffers.length < 1) bad('no output buffer');
  if (ir.inner.length !== ir.stmts.length) bad(`inner has ${ir.inner.length} flags for ${ir.stmts.length} statements`);

  const declared = new Set<number>(); // every id ever declared (ids are unique kernel-wide)
  const walk = (stmts: readonly Stmt[], outer: ReadonlyMap<number, ValueType>, loops: ReadonlySet<number>, where: string): Map<number, ValueType> => {
    const scope = new Map(outer);
    const use = (at: string, id: number, want?: ValueType | 'integer'): void => {
      const t = scope.get(id);
      if (t === undefined) {
        bad(`${at}: v${id} is used but not declared before it in scope`);
        return;
      }
      if (want === 'integer') {
        if (t !== 'index' && !/int/.test(t)) bad(`${at}: v${id} is ${t}, expected an integer`);
      } else if (want !== undefined && t !== want) bad(`${at}: v${id} is ${t}, expected ${want}`);
    };
    const index = (at: string, e: IndexExpr): void => {
      if (e.base !== -1) slot(`${at} base`, e.base);
      for (const term of e.terms) {
        if (term.coef !== 'unit') slot(`${at} coefficient`, term.coef);
        const v = term.v;
        if ('dim' in v) {
          if (!Number.isInteger(v.dim) || v.dim < 0 || v.dim >= ir.rank) bad(`${at}: dim ${v.dim} outside the kernel's rank ${ir.rank}`);
        } else if ('rvar' in v) use(at, v.rvar, 'index');
        else if (!loops.has(v.loop)) bad(`${at}: loop ${v.loop} is not an enclosing reduction loop`);
      }
    };
    const declare = (at: string, id: number, t: ValueType): void => {
      if (declared.has(id)) bad(`${at}: v${id} is declared twice`);
      declared.add(id);
      scope.set(id, t);
    };
    stmts.forEach((s, i) => {
      const at = `${where}stmt ${i} (${s.k} v${s.id})`;
      switch (s.k) {
        case 'rvar':
          index(at, s.linear);
          slot(at, s.div);
          slot(at, s.mod);
          declare(at, s.id, 'index');
          break;
        case 'load':
          buffer(at, s.buf);
          if (ir.buffers[s.buf] !== undefined && ir.buffers[s.buf] !== s.dtype) bad(`${at}: loads ${s.dtype} from a ${ir.buffers[s.buf]} buffer`);
          index(at, s.index);
          if (s.gate !== null) use(at, s.gate, 'bool');
          declare(at, s.id, s.dtype);
          break;
        case 'arg':
          slot(at, s.slot);
          declare(at, s.id, s.dtype);
          break;
        case 'gidx':
          use(at, s.src, 'integer');
          slot(at, s.size);
          declare(at, s.id, 'index');
          break;
        case 'index':
          index(at, s.index);
          declare(at, s.id, s.dtype);
          break;
        case 'alu':
          if (s.srcs.length < 1 || s.srcs.length > 2) bad(`${at}: ${s.srcs.length} operands`);
          for (const x of s.srcs) use(at, x, s.dtype);
          declare(at, s.id, s.result);
          break;
        case 'cast':
          use(at, s.src, s.from);
          declare(at, s.id, s.to);
          break;
        case 'where':
          use(at, s.srcs[0], 'bool');
          use(at, s.srcs[1], s.dtype);
          use(at, s.srcs[2], s.dtype);
          declare(at, s.id, s.dtype);
          break;
        case 'gate':
          index(at, s.clause.index);
          slot(at, s.clause.lo);
          slot(at, s.clause.hi);
          declare(at, s.id, 'bool');
          break;
        case 'mm':
          if (ir.matmul === undefined) bad(`${at}: a product outside a matmul kernel`);
          else if (ir.matmul.dtype !== s.dtype) bad(`${at}: product dtype ${s.dtype}, the matmul's is ${ir.matmul.dtype}`);
          declare(at, s.id, s.dtype);
          break;
        case 'reduce': {
          const inner = new Set(loops);
          for (const l of s.loops) {
            if (inner.has(l.loop)) bad(`${at}: loop ${l.loop} reused inside itself`);
            inner.add(l.loop);
            slot(at, l.size);
          }
          if (s.loops.length === 0) bad(`${at}: no loops`);
          const body = walk(s.body, scope, inner, `${at} body: `);
          // The folded value comes from the body (or from before it: a constant fold).
          const t = body.get(s.value);
          if (t === undefined) bad(`${at}: folds v${s.value}, which is not declared in its body or before it`);
          else if (t !== s.dtype) bad(`${at}: folds v${s.value} of ${t} as ${s.dtype}`);
          declare(at, s.id, s.result);
          break;
        }
      }
    });
    return scope;
  };
  const top = walk(ir.stmts, new Map(), new Set(), '');
  const resultType = top.get(ir.result);
  if (resultType === undefined) bad(`result v${ir.result} is not declared at the top level`);

  // Kind attributes.
  const has = { matmul: ir.matmul !== undefined, scan: ir.scan !== undefined, sort: ir.sort !== undefined, scatter: ir.scatter !== undefined };
  for (const [k, present] of Object.entries(has)) {
    if (present !== (ir.kind === k)) bad(`kind ${ir.kind} ${present ? 'has' : 'lacks'} its ${k} attributes`);
  }
  if (ir.matmul) {
    const m = ir.matmul;
    for (const [name, op] of [
      ['a', m.a],
      ['b', m.b],
    ] as const) {
      buffer(`matmul ${name}`, op.buf);
      slot(`matmul ${name} offset`, op.offset);
      if (op.strides.length !== m.batchRank + 2) bad(`matmul ${name}: ${op.strides.length} strides for batch rank ${m.batchRank}`);
      for (const s of op.strides) slot(`matmul ${name} stride`, s);
    }
    if (m.batchDims.length !== m.batchRank) bad(`matmul: ${m.batchDims.length} batch dims for batch rank ${m.batchRank}`);
    for (const s of [...m.batchDims, m.m, m.n, m.k]) slot('matmul dims', s);
  }
  if (ir.scatter) {
    buffer('scatter positions', ir.scatter.positions);
    buffer('scatter updates', ir.scatter.updates);
    slot('scatter count', ir.scatter.count);
  }
  return problems;
}

/**
 * Throws when the IR is malformed, naming every defect (an internal error: lowering
 * made a kernel the renderers must not see).
 *
 * @example
 * ```ts
 * if (VALIDATE_IR) validateKernelIR(lowered.ir);
 * ```
 */
export function validateKernelIR(ir: KernelIR): void {
  const problems = kernelIRProblems(ir);
  if (problems.length > 0) throw new Error(`internal: malformed ${ir.kind} kernel IR:\n  ${problems.join('\n  ')}`);
}
