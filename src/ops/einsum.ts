/**
 * einsum for one or two operands (NumPy's subscripts, with '...' and repeated indices),
 * lowered onto ops that fuse: a repeated index within an operand (a diagonal) is a mask
 * from comparing index ramps, indices found in one operand only and absent from the
 * output are summed away first, and the two operands meet in one batched matmul.
 */
import type { MetalArray } from '../array/array.js';
import { ArgumentError, ShapeError } from '../errors.js';
import { binary } from './elementwise.js';
import { matmul } from './matmul.js';
import { broadcastTo, reshape, transpose } from './movement.js';
import { operandNodes } from './operand.js';
import { sum } from './reduce.js';
import { arange } from './ranges.js';

interface Term {
  x: MetalArray;
  letters: string[];
}

const LETTER = /^[a-zA-Z]$/;

/** Splits one operand's subscripts, expanding '...' into letters from `pool` (right-aligned). */
function parseTerm(spec: string, ndim: number, pool: string[], op: string): string[] {
  const dots = spec.indexOf('...');
  const explicit = spec.replace('...', '').split('');
  for (const c of explicit) if (!LETTER.test(c)) throw new ArgumentError(`${op}: bad subscript character ${JSON.stringify(c)} in ${JSON.stringify(spec)}`);
  if (dots < 0) {
    if (explicit.length !== ndim) throw new ShapeError(`${op}: subscripts ${JSON.stringify(spec)} name ${explicit.length} axes, the operand has ${ndim}`);
    return explicit;
  }
  const k = ndim - explicit.length;
  if (k < 0) throw new ShapeError(`${op}: subscripts ${JSON.stringify(spec)} name more axes than the operand's ${ndim}`);
  const ell = pool.slice(pool.length - k);
  const before = spec.slice(0, dots).split('');
  const after = spec.slice(dots + 3).split('');
  return [...before, ...ell, ...after];
}

/** Takes the diagonal over repeated letters of one operand (a[i, i] → d[i]). */
function diagonals(t: Term): Term {
  let { x, letters } = t;
  for (;;) {
    const dup = letters.findIndex((c, i) => letters.indexOf(c) !== i);
    if (dup < 0) return { x, letters };
    const first = letters.indexOf(letters[dup]);
    const n = x.shape[first];
    if (x.shape[dup] !== n) throw new ShapeError(`einsum: repeated subscript ${letters[dup]} spans sizes ${n} and ${x.shape[dup]}`);
    // mask[i, j] = (i == j) over the two axes, then sum one of them away.
    const shapeI = x.shape.map((_, d) => (d === first ? n : 1));
    const shapeJ = x.shape.map((_, d) => (d === dup ? n : 1));
    const mask = binary('equal', reshape(arange(n), shapeI), reshape(arange(n), shapeJ));
    x = sum(binary('multiply', x, mask.astype(x.dtype)), dup);
    letters = letters.filter((_, i) => i !== dup);
  }
}

/**
 * Einstein summation over one or two operands: `ma.einsum('ij,jk->ik', a, b)`,
 * `ma.einsum('ii', a)` (trace), `ma.einsum('...ij->...ji', a)`. Without '->' the
 * output is every index that appears once, in alphabetical order (after '...').
 *
 * @example
 * ```ts
 * const a = ma.array([[1, 2], [3, 4]], 'float32');
 * console.log(ma.einsum('ii', a).item()); // 5
 * console.log(ma.einsum('ij->ji', a).tolist()); // [ [ 1, 3 ], [ 2, 4 ] ]
 * console.log(ma.einsum('ij,jk->ik', a, a).tolist()); // [ [ 7, 10 ], [ 15, 22 ] ]
 * ```
 */
export function einsum(subscripts: string, ...operands: MetalArray[]): MetalArray {
  if (typeof subscripts !== 'string') throw new ArgumentError('einsum: subscripts must be a string');
  if (operands.length < 1 || operands.length > 2) throw new ArgumentError(`einsum: supports one or two operands, got ${operands.length}`);
  const spec = subscripts.replace(/\s+/g, '');
  const [lhs, rhs] = spec.includes('->') ? spec.split('->') : [spec, undefined];
  const inputs = lhs.split(',');
  if (inputs.length !== operands.length) throw new ArgumentError(`einsum: ${inputs.length} subscript groups for ${operands.length} operands`);
  const nodes = operandNodes('einsum', operands);
  // Ellipsis letters: unused uppercase letters, shared right-aligned by every operand.
  const used = new Set(spec.replace(/[^a-zA-Z]/g, '').split(''));
  const maxEll = Math.max(0, ...inputs.map((s, i) => (s.includes('...') ? nodes[i].shape.length - s.replace('...', '').length : 0)));
  const pool = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
    .split('')
    .filter((c) => !used.has(c))
    .slice(0, maxEll);
  if (pool.length < maxEll) throw new ArgumentError('einsum: too many axes under "..."');
  const parsed = inputs.map((s, i) => parseTerm(s, nodes[i].shape.length, pool, 'einsum'));
  // The implicit output counts subscripts as written ('ii' is a trace, not a diagonal).
  const written = new Map<string, number>();
  for (const ls of parsed) for (const c of ls) written.set(c, (written.get(c) ?? 0) + 1);
  let terms: Term[] = parsed.map((letters, i) => diagonals({ x: operands[i], letters }));
  const counts = new Map<string, number>();
  for (const t of terms) for (const c of t.letters) counts.set(c, (counts.get(c) ?? 0) + 1);
  const ellLetters = pool.slice(pool.length - maxEll);
  const out =
    rhs === undefined
      ? [...ellLetters, ...[...written.keys()].filter((c) => written.get(c) === 1 && !ellLetters.includes(c)).sort()]
      : parseTerm(rhs, rhs.replace('...', '').length + (rhs.includes('...') ? maxEll : 0), pool, 'einsum');
  for (const c of out) if (!counts.has(c)) throw new ArgumentError(`einsum: output subscript ${c} appears in no operand`);
  if (new Set(out).size !== out.length) throw new ArgumentError(`einsum: output subscript repeated in ${JSON.stringify(rhs)}`);
  // Sizes per letter (1 broadcasts against n).
  const size = new Map<string, number>();
  for (const t of terms) {
    t.letters.forEach((c, d) => {
      const s = t.x.shape[d];
      const prev = size.get(c);
      if (prev !== undefined && prev !== s && prev !== 1 && s !== 1) throw new ShapeError(`einsum: subscript ${c} has sizes ${prev} and ${s}`);
      if (prev === undefined || prev === 1) size.set(c, s);
    });
  }
  // Sum away letters that live in one operand only and are not in the output.
  terms = terms.map((t) => {
    const drop = t.letters.map((c, d) => (!out.includes(c) && counts.get(c) === 1 ? d : -1)).filter((d) => d >= 0);
    if (drop.length === 0) return t;
    return { x: sum(t.x, drop), letters: t.letters.filter((_, d) => !drop.includes(d)) };
  });
  if (terms.length === 1) {
    const t = terms[0];
    return transpose(
      t.x,
      out.map((c) => t.letters.indexOf(c)),
    );
  }
  const [A, B] = terms;
  const inBoth = A.letters.filter((c) => B.letters.includes(c));
  const batch = inBoth.filter((c) => out.includes(c));
  const contract = inBoth.filter((c) => !out.includes(c));
  const freeA = A.letters.filter((c) => !inBoth.includes(c));
  const freeB = B.letters.filter((c) => !inBoth.includes(c));
  const sizes = (ls: string[]): number[] => ls.map((c) => size.get(c) as number);
  const prod = (ls: string[]): number => sizes(ls).reduce((p, s) => p * s, 1);
  // A → [batch..., freeA, contract], B → [batch..., contract, freeB], broadcasting 1-sized letters.
  const arrange = (t: Term, order: string[]): MetalArray => {
    const perm = order.map((c) => t.letters.indexOf(c));
    return broadcastTo(transpose(t.x, perm), sizes(order));
  };
  const a2 = reshape(arrange(A, [...batch, ...freeA, ...contract]), [...sizes(batch), prod(freeA), prod(contract)]);
  const b2 = reshape(arrange(B, [...batch, ...contract, ...freeB]), [...sizes(batch), prod(contract), prod(freeB)]);
  const product = reshape(matmul(a2, b2), [...sizes(batch), ...sizes(freeA), ...sizes(freeB)]);
  const have = [...batch, ...freeA, ...freeB];
  const missing = out.filter((c) => !have.includes(c));
  if (missing.length > 0) throw new ArgumentError(`einsum: output subscripts ${missing.join('')} cannot be produced`);
  return transpose(
    product,
    out.map((c) => have.indexOf(c)),
  );
}
