/**
 * The float32 matrix-product precision, MLX/JAX style: 'highest' (the default) computes
 * exact float32 products with float32 accumulation; 'tf32' lets a GPU backend use
 * TensorFloat-32 tensor cores (operands rounded to 10 mantissa bits, float32
 * accumulation). Backends without TF32 hardware (cpu) compute 'highest' either way.
 */
import { checkArgCount } from '../core/arguments.js';
import { ArgumentError, formatValue } from '../errors.js';

/**
 * How float32 matrix products are computed: `'highest'` is exact float32 (the default);
 * `'tf32'` lets CUDA use TensorFloat-32 tensor cores.
 *
 * @example
 * ```ts
 * ma.setMatmulPrecision('tf32');
 * ```
 */
export type MatmulPrecision = 'highest' | 'tf32';

let precision: MatmulPrecision = 'highest';

/**
 * The current float32 matmul precision.
 *
 * @example
 * ```ts
 * console.log(ma.getMatmulPrecision()); // highest
 * ```
 */
export function getMatmulPrecision(): MatmulPrecision {
  checkArgCount('getMatmulPrecision', arguments.length, 0, 'getMatmulPrecision()');
  return precision;
}

/**
 * Sets the float32 matmul precision for graphs evaluated from now on ('highest' or
 * 'tf32'); plans are cached per precision.
 *
 * @example
 * ```ts
 * const before = ma.getMatmulPrecision();
 * ma.setMatmulPrecision('tf32'); // float32 matmuls may use TF32 tensor cores from now on
 * console.log(ma.getMatmulPrecision()); // tf32
 * ma.setMatmulPrecision(before);
 * ```
 */
export function setMatmulPrecision(p: MatmulPrecision): void {
  checkArgCount('setMatmulPrecision', arguments.length, 1, 'setMatmulPrecision(precision)');
  if (p !== 'highest' && p !== 'tf32') throw new ArgumentError(`setMatmulPrecision: precision must be 'highest' or 'tf32', got ${formatValue(p)}`);
  precision = p;
}
