/**
 * The `flat` GPU kernel family: one thread per group of V consecutive output elements
 * (V×element ≤ 16 bytes); within a row, loads that walk the inner dim with unit stride
 * are moved in one 16-byte (or narrower) access where aligned; grid-stride loop.
 */
import { DTYPES } from '../core/dtype.js';
import type { IndexExpr, KernelIR } from './ir.js';
import { FLAT_THREADS, type GpuRenderer } from './gpu-walker.js';

/** True if the load's index is idx0 + j along the inner dim with every other term row-invariant. */
function isUnitInner(ix: IndexExpr, inner: number, ir: KernelIR): boolean {
  let unit = false;
  for (const t of ix.terms) {
    if ('dim' in t.v) {
      if (t.v.dim === inner) {
        if (t.coef !== 'unit' || unit) return false;
        unit = true;
      }
    } else if ('rvar' in t.v) {
      const id = t.v.rvar;
      const k = ir.stmts.findIndex((s) => s.k === 'rvar' && s.id === id);
      if (k < 0 || ir.inner[k]) return false;
    } else return false;
  }
  return unit;
}

/**
 * Statements above which a flat kernel has no vector path (it would be a second copy
 * of the body, unrolled V times): NVRTC's time grows with the source, and a chain of
 * thousands of ops is bound by its arithmetic, not by 16-byte accesses.
 */
const VECTOR_PATH_MAX_STMTS = 256;

/** Elements per thread of a flat kernel: as many as fit 16 bytes of the widest buffer (1..8). */
export function flatVector(ir: KernelIR): number {
  if (ir.stmts.length > VECTOR_PATH_MAX_STMTS) return 1;
  const widest = Math.max(...ir.buffers.map((d) => DTYPES[d].bytes));
  return Math.max(1, Math.min(8, Math.floor(16 / widest)));
}

/** A `flat` kernel: grid-stride over groups of V output elements, with a vector path for aligned rows. */
export function renderFlat(R: GpuRenderer, name: string): string {
  const ir = R.ir;
  const D = R.D;
  const W = D.int64;
  const r = ir.rank;
  const inner = r - 1;
  const outD = ir.buffers[0];
  const V = flatVector(ir);
  const L: string[] = [...R.head(name, FLAT_THREADS)];
  L.push(`  const ${W} N = ${R.arg(0)};`);
  L.push(...R.dimsDecl(r, '  '));
  L.push(`  const ${W} step = (${W})${D.gridDimX} * ${D.blockDimX} * ${V};`);
  L.push(`  for (${W} base = ((${W})${D.blockX} * ${D.blockDimX} + ${D.threadX}) * ${V}; base < N; base += step) {`);
  const res = `v${ir.result}`;
  if (V > 1) {
    const rowVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
    const row0 = (d: number): string => (d === inner ? 'j0' : `i${d}`);
    L.push('    {');
    L.push(...R.decode('base', r, (d) => (d === inner ? 'j0' : `i${d}`), '      '));
    L.push(`      if (j0 + ${V} <= n${inner}) {`);
    // Row-invariant statements once; inner statements per element, unrolled.
    const hoisted: string[] = [];
    const perElem: string[] = [];
    const vecLoads = new Map<number, string>();
    const pre: string[] = [];
    ir.stmts.forEach((s, k) => {
      if (!ir.inner[k]) {
        hoisted.push(`        ${R.stmt(s, row0, 'serial').split('\n').join('\n        ')}`);
        return;
      }
      if (s.k === 'load' && s.gate === null && isUnitInner(s.index, inner, ir)) {
        const sty = R.st(s.dtype);
        const bytes = DTYPES[s.dtype].bytes * V;
        const VT = D.vectorType(bytes);
        pre.push(`        const ${W} x${s.id} = ${R.index(s.index, row0)};`);
        pre.push(`        union { ${VT} v; ${sty} e[${V}]; } t${s.id};`);
        pre.push(`        if ((x${s.id} & ${V - 1}) == 0) t${s.id}.v = *(${D.ptr(`const ${VT}`)})(b${s.buf} + x${s.id});`);
        pre.push(`        else { ${D.unroll} for (int e = 0; e < ${V}; e++) t${s.id}.e[e] = b${s.buf}[x${s.id} + e]; }`);
        vecLoads.set(s.id, `t${s.id}.e[e]`);
      }
      perElem.push(`          ${R.stmt(s, rowVar, 'serial', vecLoads).split('\n').join('\n          ')}`);
    });
    L.push(...hoisted, ...pre);
    const sty = R.st(outD);
    const OVT = D.vectorType(DTYPES[outD].bytes * V);
    L.push(`        union { ${OVT} v; ${sty} e[${V}]; } o;`);
    L.push(`        ${D.unroll} for (int e = 0; e < ${V}; e++) {`);
    L.push(`          const ${W} j = j0 + e;`);
    L.push(...perElem);
    L.push(`          o.e[e] = ${R.toStorage(outD, res)};`);
    L.push('        }');
    L.push(`        *(${D.ptr(OVT)})(b0 + base) = o.v;`);
    L.push('        continue;');
    L.push('      }');
    L.push('    }');
  }
  // Scalar path: each element decoded on its own.
  L.push(`    for (int e = 0; e < ${V} && base + e < N; e++) {`);
  const dimVar = (d: number): string => (d === inner ? 'j' : `i${d}`);
  L.push(...R.decode('base + e', r, dimVar, '      '));
  for (const s of ir.stmts) L.push(`      ${R.stmt(s, dimVar, 'serial').split('\n').join('\n      ')}`);
  L.push(`      b0[base + e] = ${R.toStorage(outD, res)};`);
  L.push('    }');
  L.push('  }');
  L.push('}');
  return L.join('\n');
}
