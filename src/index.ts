/**
 * metalarray: a lazy, fusing array library. `import * as ma from 'metalarray'`.
 */
export { MetalArray, type JsonList, type NestedList, type ReadOptions } from './array/array.js';
export type { DType } from './core/dtype.js';
export type { AnyTypedArray } from './core/dtype.js';
export type { Metrics } from './core/metrics.js';
export type { AutoEvalLimits } from './core/node.js';
export type { ArrayLike } from './ops/operand.js';
export type { IndexList, IndexTypedArray, SliceSpec } from './ops/movement.js';
export {
  MetalArrayError,
  ShapeError,
  DTypeError,
  BackendUnavailableError,
  BackendMismatchError,
  CompileError,
  DisposedError,
  OutOfMemoryError,
  ArgumentError,
  GpuError,
  FileError,
  IndexError,
  OverflowError,
  NotDifferentiableError,
  BatchingError,
  CompileTraceError,
  LinAlgError,
} from './errors.js';
export {
  array,
  full,
  zeros,
  ones,
  zerosLike,
  onesLike,
  fullLike,
  fromNdarray,
  toNdarray,
  type NestedArray,
  type NestedNumbers,
  type NestedBooleans,
  type NestedBigInts,
} from './array/creation.js';
export { arange, linspace, eye, identity, type ArangeOptions, type LinspaceOptions, type EyeOptions } from './ops/ranges.js';
export { promoteTypes } from './core/promotion.js';
export { treeMap, treeFlatten, treeUnflatten, type ArrayTree } from './transforms/tree.js';
export {
  grad,
  valueAndGrad,
  vjp,
  jvp,
  stopGradient,
  customVjp,
  customJvp,
  checkpoint,
  type ArgNums,
  type GradientOf,
  type TangentsOf,
  type ValueAndGradOptions,
} from './transforms/grad.js';
export { vmap, type AxisSpec } from './transforms/vmap.js';
import './ops/batching-table.js';
import './ops/methods.js';
import './ops/differentiation.js';
export * from './ops/elementwise-ops.js';
export { where, clip, astype } from './ops/elementwise.js';
export { reshape, transpose, swapaxes, moveaxis, broadcastTo, expandDims, squeeze, flatten, flip, range, SliceRange } from './ops/movement.js';
export { concatenate, stack, split } from './ops/join.js';
export {
  sum,
  prod,
  max,
  min,
  argmax,
  argmin,
  any,
  all,
  mean,
  variance as var,
  std,
  logsumexp,
  countNonzero,
  softmax,
  logSoftmax,
  norm,
  type Axes,
  type ReduceOptions,
  type AccumulateOptions,
  type MeanOptions,
  type ArgReduceOptions,
  type VarianceOptions,
  type SoftmaxOptions,
  type NormOptions,
} from './ops/reduce.js';
export { matmul, dot, inner, outer, tensordot } from './ops/matmul.js';
export { cumsum, cumprod, cummax, cummin, type ScanOptions, type AccumulateScanOptions } from './ops/scan.js';
export type {
  AccumulationOf,
  BoundOf,
  ClipOf,
  DTypeOfTypedArray,
  FloatDType,
  FloatOf,
  IntDType,
  IsIntegralLiteral,
  IsUnion,
  KnownOr,
  NumberDTypeOf,
  PromoteOf,
  RuleResultOf,
  SameDTypeOf,
  ScalarOf,
  SignedIntDType,
  TypedArrayByDType,
  TypedArrayOf,
  UnsignedIntDType,
  WeakPromoteOf,
  WeakScalar,
} from './core/dtype-types.js';
export type { BinaryFunction, UnaryFunction } from './ops/define-op.js';
export type { BinaryMethod, UnaryMethod } from './ops/methods.js';
export type { DTypeRule } from './core/op-table.js';
export { einsum } from './ops/einsum.js';
export * as random from './ops/random.js';
export { sort, argsort, topk } from './ops/sort.js';
export { customKernel, type CustomKernel, type CustomKernelSpec, type CustomOutput, type PreparedDispatch } from './array/custom.js';
export {
  slice,
  take,
  takeAlongAxis,
  putAlongAxis,
  at,
  type AtIndex,
  tril,
  triu,
  roll,
  tile,
  repeat,
  pad,
  nonzero,
  type IndexLike,
  type PadMode,
  type IndexMode,
  type GatherOptions,
  type ScatterOptions,
} from './ops/indexing.js';
export {
  evaluate as eval,
  evalAsync,
  tidy,
  dispose,
  keep,
  memory,
  clearCache,
  setCacheLimit,
  setMemoryLimit,
  metrics,
  resetMetrics,
  explain,
  kernelSources,
  getBackend,
  setBackend,
  isAvailable,
  deviceInfo,
  blasInfo,
  setCpuMatmul,
  getCpuMatmul,
  setAutoEval,
  getAutoEval,
  type AutoEvalSetting,
  type BlasInfo,
  type MemoryInfo,
  type KernelSourceInfo,
} from './array/api.js';
export { setFusion, fusionEnabled } from './array/context.js';
export type { DeviceInfo } from './runtime/backend.js';
export { setMatmulPrecision, getMatmulPrecision, type MatmulPrecision } from './engine/precision.js';
export { save, savez, saveSafetensors, load, loadSafetensors, type SafetensorsContents } from './io/files.js';
/** Collectives across processes and machines over Open MPI and NCCL (docs/distributed.md). */
export * as distributed from './distributed/index.js';
export {
  conv1d,
  conv2d,
  convGeneral,
  convTranspose1d,
  convTranspose2d,
  type ConvGeneralOptions,
  type ConvOptions,
  type ConvPadding,
  type ConvTransposeOptions,
  type PerAxis,
} from './ops/conv.js';
export { maxPool2d, avgPool2d, type PoolOptions } from './ops/pool.js';
export * as nn from './nn/index.js';
export * as fast from './nn/fast.js';
export {
  compile,
  setCompileCacheLimit,
  compileCacheInfo,
  clearCompileCache,
  type CompileOptions,
  type CompileCacheInfo,
} from './transforms/compile.js';
export * as optimizers from './optimizers/index.js';
export * as linalg from './linalg/index.js';
export {
  isclose,
  allclose,
  arrayEqual,
  deg2rad,
  rad2deg,
  sinc,
  heaviside,
  logaddexp2,
  ldexp,
  frexp,
  modf,
  nanToNum,
  type CloseOptions,
  type NanToNumOptions,
} from './ops/numeric.js';
export {
  nansum,
  nanmean,
  nanmax,
  nanmin,
  nanargmax,
  nanargmin,
  nanvar,
  nanstd,
  ptp,
  average,
  quantile,
  percentile,
  median,
  nanquantile,
  nanpercentile,
  nanmedian,
  type NanReduceOptions,
  type NanVarianceOptions,
  type NanArgOptions,
  type AverageOptions,
  type QuantileMethod,
  type QuantileOptions,
} from './ops/statistics.js';
export {
  atleast1d,
  atleast2d,
  atleast3d,
  vstack,
  hstack,
  dstack,
  columnStack,
  diagonal,
  trace,
  diag,
  diagflat,
  diff,
  meshgrid,
  rot90,
  polyval,
  type DiagonalOptions,
  type DiffOptions,
  type MeshgridOptions,
} from './ops/shaping.js';
export {
  searchsorted,
  digitize,
  isin,
  interp,
  bincount,
  type SearchsortedOptions,
  type InterpOptions,
  type BincountOptions,
} from './ops/searching.js';
export { cov, corrcoef, histogram, type CovOptions, type HistogramOptions } from './ops/correlation.js';
