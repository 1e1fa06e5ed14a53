/**
 * The reference oracle for metalarray: a plain CPU implementation over `ndarray`
 * strided views, independent of src/. See docs/semantics.md for the semantics.
 */
export * from './array.js';
export * from './dtypes.js';
export * from './exact.js';
export * from './linalg.js';
export * from './ops.js';
export * from './reduce.js';
export * from './round.js';
export { erf as erfScalar, erfc as erfcScalar, erfinv as erfinvScalar } from './special.js';
export * from './views.js';
export * as indexing from './indexing.js';
