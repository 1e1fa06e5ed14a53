/**
 * Matrix products handed to a library gemm (the system BLAS on the CPU) instead of a
 * generated kernel: which products qualify, and the command words that describe one.
 *
 * A product qualifies when its dtype has a library kernel, each operand is a strided
 * view of one buffer whose matrix dims a BLAS can read (one of the two strides is 1, the
 * other a leading dimension at least the row length; batch dims take any strides), and,
 * in 'auto' mode, it is large enough that the library beats the generated kernel. The
 * product is then its own step (its epilogue becomes an elementwise kernel) and a
 * computed operand is materialized first. Sizes, strides and offsets are part of the
 * plan key, so the choice is made once per plan.
 */
import { chainLayout, type Layout, type LowerEnv } from '../codegen/lower.js';
import type { Backend } from '../runtime/backend.js';
import { contiguousStrides } from '../core/build.js';
import type { Node } from '../core/node.js';

/** How the CPU backend multiplies float32/float64 matrices. */
export type CpuMatmulMode = 'auto' | 'blas' | 'generated';

/**
 * In 'auto' mode, products of at least this many multiply-adds (M·N·K per batch, about
 * 101³) go to the library. Below it a product keeps its fused epilogue in one generated
 * kernel; above it the library's blocking wins by more than the extra pass costs (on the
 * 2-core dev machine OpenBLAS ran 128³ in 47 µs against 160 µs for the generated kernel,
 * 1024³ in about 7 ms against 11 ms).
 */
export const LIBRARY_GEMM_MIN_MACS = 1 << 20;

const INT32_MAX = 0x7fffffff;

/** How a library reads one operand: its buffer, transpose flag and leading dimension. */
interface OperandLayout {
  base: Node;
  layout: Layout;
  trans: boolean;
  ld: number;
}

/** The products a plan hands to the library and the operand bases it must materialize. */
export interface LibraryGemms {
  products: Map<Node, { kernel: number; a: OperandLayout; b: OperandLayout }>;
  /** Product nodes and computed operand bases: materialized from the start. */
  forced: Set<Node>;
}

export const NO_LIBRARY_GEMMS: LibraryGemms = { products: new Map(), forced: new Set() };

function viewBase(n: Node): Node {
  while (n.kind === 'view' || n.kind === 'reshape') n = n.inputs[0];
  return n;
}

/** The BLAS reading of operand `x` ([..., rows, cols]), or null if a BLAS can't read it. */
function operandLayout(x: Node): OperandLayout | null {
  const base = viewBase(x);
  if (base.kind === 'const') return null;
  const env: LowerEnv = {
    isBoundary: (n) => n === base,
    layoutOf: (n) => (n.kind === 'leaf' ? { strides: n.strides as number[], offset: n.offset } : { strides: contiguousStrides(n.shape), offset: 0 }),
  };
  const chain = chainLayout(x, env);
  if (!chain) return null;
  const r = x.shape.length;
  const rows = x.shape[r - 2];
  const cols = x.shape[r - 1];
  const sRow = chain.layout.strides[r - 2];
  const sCol = chain.layout.strides[r - 1];
  let trans: boolean;
  let ld: number;
  if (sCol === 1 && (rows === 1 || sRow >= cols)) {
    trans = false;
    ld = rows === 1 ? Math.max(1, cols) : sRow;
  } else if (sRow === 1 && (cols === 1 || sCol >= rows)) {
    trans = true;
    ld = cols === 1 ? Math.max(1, rows) : sCol;
  } else {
    return null;
  }
  if (ld > INT32_MAX) return null;
  return { base, layout: chain.layout, trans, ld };
}

/** Picks the products of `nodes` that `backend`'s library gemm will run. */
export function selectLibraryGemms(nodes: readonly Node[], backend: Backend, mode: CpuMatmulMode): LibraryGemms {
  if (mode === 'generated' || !backend.libraryGemm) return NO_LIBRARY_GEMMS;
  let found: LibraryGemms | null = null;
  for (const n of nodes) {
    if (n.kind !== 'matmul') continue;
    const kernel = backend.libraryGemm(n.dtype);
    if (kernel === undefined) continue;
    const aShape = n.inputs[0].shape;
    const r = aShape.length;
    const m = aShape[r - 2];
    const k = aShape[r - 1];
    const cols = n.shape[r - 1];
    if (m === 0 || k === 0 || cols === 0 || Math.max(m, k, cols) > INT32_MAX) continue;
    if (mode === 'auto' && m * k * cols < LIBRARY_GEMM_MIN_MACS) continue;
    const a = operandLayout(n.inputs[0]);
    const b = a && operandLayout(n.inputs[1]);
    if (!a || !b) continue;
    found ??= { products: new Map(), forced: new Set() };
    found.products.set(n, { kernel, a, b });
    found.forced.add(n);
    for (const o of [a, b]) if (o.base.kind !== 'leaf') found.forced.add(o.base);
  }
  return found ?? NO_LIBRARY_GEMMS;
}

/** The command of a library product: its kernel, inputs (A, B bases) and arg words (see native/cpu/blas.h). */
export function libraryGemmCommand(n: Node, gemms: LibraryGemms): { kernel: number; inputs: Node[]; args: number[] } {
  const p = gemms.products.get(n);
  if (!p) throw new Error('internal: not a library product');
  const aShape = n.inputs[0].shape;
  const r = aShape.length;
  const batchDims = n.shape.slice(0, r - 2);
  const batches = batchDims.reduce((x, d) => x * d, 1);
  const args = [
    batches,
    Math.max(1, batches),
    aShape[r - 2],
    n.shape[r - 1],
    aShape[r - 1],
    p.a.trans ? 1 : 0,
    p.a.ld,
    p.b.trans ? 1 : 0,
    p.b.ld,
    p.a.layout.offset,
    p.b.layout.offset,
    r - 2,
    ...batchDims,
    ...p.a.layout.strides.slice(0, r - 2),
    ...p.b.layout.strides.slice(0, r - 2),
  ];
  return { kernel: p.kernel, inputs: [p.a.base, p.b.base], args };
}
