/**
 * The Metal dialect: what Metal Shading Language differs in from the shared GPU walker
 * (gpu.ts), and the MSL prelude.
 *
 * What differs from CUDA C, as a table:
 * - address spaces: buffers are `device` pointers bound with `[[buffer(i)]]`, the args
 *   blob a `constant` reference bound after them; thread and group indices are kernel
 *   parameters with position attributes;
 * - no double: float64 has no type (rendering a float64 kernel throws DTypeError naming
 *   the op), float sums accumulate in float, float constants travel as double bits and
 *   are rounded to float in integer arithmetic (`ma_d2f`);
 * - math: the `metal::precise` functions (kernels are also compiled with fast math
 *   off), called through `ma_<fn>` wrappers whose argument no compiler can fold;
 *   Metal has no erf, expm1 or log1p, so the prelude defines them;
 * - SIMD-group folds: `simd_sum`, `simd_product`, `simd_max`, `simd_min` where their
 *   semantics match (MSL_SIMD_REDUCE in op-expressions.ts), else `simd_shuffle_down` (SIMD groups of 32 on
 *   Apple GPUs; 64-bit values as two 32-bit halves);
 * - shared memory: `threadgroup` arrays, declared through the `MA_THREADGROUP` macro so
 *   the Linux checks can map them (see test/codegen/msl/);
 * - barriers name the memory they order: `mem_threadgroup` for shared memory, both
 *   `mem_device | mem_threadgroup` where a block's threads hand values through device
 *   memory (sorts merging long lines in the scratch buffer, scatter);
 * - split reductions (a full sum over several threadgroups) take two dispatches: MSL
 *   3.1 has no device-scope fence to hand partials between threadgroups in one, so the
 *   runtime follows the split dispatch by a fold dispatch of grid (x, 1, 2)
 *   (`splitTwoPass`; native/metal/metal_runtime.h); for the same reason a scatter's
 *   base and the merges of sort lines longer than a tile run over many threadgroups as
 *   ordered passes of one kernel (`orderedPasses`: the base, then the updates; tile
 *   sorts, then one dispatch per merge pass), each pass told its index by a word after
 *   the args;
 * - matrix products of float32, float16 and bfloat16 use SIMD-group matrices
 *   (`simdgroup_float8x8`, `simdgroup_multiply_accumulate`) on GPUs that have them;
 * - float16/bfloat16 are stored as 16-bit patterns and converted with the same rounding
 *   as the C renderer, so results do not depend on the MSL version (bfloat needs 3.1
 *   only for the native type, which these kernels do not use).
 */
import { DTypeError } from '../errors.js';
import type { DType } from '../core/dtype.js';
import type { ReduceOp } from '../core/node.js';
import { C_COMPUTE_TYPE } from './ctypes.js';
import { renderGpuKernel } from './gpu.js';
import { SORT_SCRATCH_BUDGET } from './gpu-sort.js';
import { GPU_COMMON_SPELLINGS, type GpuDialect, type GpuParam, type SimdgroupMatrixOps } from './gpu-dialect.js';
import type { KernelIR, Stmt } from './ir.js';
import { MSL_PRECISE_MATH, MSL_PRELUDE_MATH, MSL_SIMD_REDUCE } from './op-expressions.js';
import { erfinvText, floatFloorDivision, halfConversions, intHelpers, type PreludeSpelling } from './prelude-text.js';

// Metal has no double: float64 has no type here (its kernels are refused).
const COMPUTE: Record<DType, string | null> = { ...C_COMPUTE_TYPE, float64: null };

const STORAGE: Record<DType, string | null> = { ...COMPUTE, float16: 'uint16_t', bfloat16: 'uint16_t' };

/**
 * The name of a libm-style function in MSL; the class is float either way (no double).
 * Precise functions go through the prelude's `ma_<fn>` wrappers, which hide constant
 * arguments from the compiler (see ma_opaque in the prelude).
 */
function mslMath(fn: string): string {
  return MSL_PRELUDE_MATH[fn] ?? (MSL_PRECISE_MATH.has(fn) ? `ma_${fn}` : `metal::${fn}`);
}

/**
 * The prelude's wrappers of the precise functions. Metal's compiler may fold a function
 * of a constant argument at compile time, not necessarily as the GPU computes it, and
 * a fused kernel can see a literal where the unfused one loads a buffer; the argument
 * is read through a volatile, which no compiler may fold. Exact functions (fabs,
 * floor, rint, fma, ...) fold to the run-time bits and stay unwrapped.
 */
const PRECISE_WRAPPERS = [...MSL_PRECISE_MATH]
  .map((fn) =>
    fn === 'pow' || fn === 'atan2'
      ? `inline float ma_${fn}(float x, float y) { return metal::precise::${fn}(ma_opaque(x), ma_opaque(y)); }`
      : `inline float ma_${fn}(float x) { return metal::precise::${fn}(ma_opaque(x)); }`,
  )
  .join('\n');

/** MSL has no `double`: where the shared op table asks for one, Metal computes in float. */
function mslKernelHead(name: string, params: readonly GpuParam[], argWords: number): string {
  // The args block is always a buffer binding (setBytes up to 4 KB, a buffer beyond), so
  // the kernel reads it through a constant reference either way.
  const ps = params.map((p, i) => `device ${p.readonly ? 'const ' : ''}${p.type} *${p.name} [[buffer(${i})]]`);
  ps.push(`constant MaArgs<${argWords}> &a [[buffer(${params.length})]]`);
  ps.push('uint3 ma_tid [[thread_position_in_threadgroup]]');
  ps.push('uint3 ma_bid [[threadgroup_position_in_grid]]');
  ps.push('uint3 ma_bdim [[threads_per_threadgroup]]');
  ps.push('uint3 ma_gdim [[threadgroups_per_grid]]');
  return `kernel void ${name}(${ps.join(', ')}) {`;
}

/** How the MSL prelude spells the shared prelude text (prelude-text.ts): no double. */
const MSL_SPELLING: PreludeSpelling = {
  qual: 'inline',
  asFloat: (bits) => `as_type<float>(${bits})`,
  asBits: (f) => `as_type<uint32_t>(${f})`,
  rintf: 'metal::rint',
  wide: 'float',
  lib: 'metal::',
  cComments: false,
};

/** The MSL prelude: compiled before every kernel. */
export const MSL_PRELUDE = `#include <metal_stdlib>
using namespace metal;
#ifndef INFINITY
#define INFINITY as_type<float>(0x7f800000u)
#endif
/* A threadgroup array; the Linux checks define it first (address spaces, host threads). */
#ifndef MA_THREADGROUP
#define MA_THREADGROUP(T, name, n) threadgroup T name[n]
#endif

/* The argument blob: sizes, strides, offsets and constants as int64 words. */
template <int N> struct MaArgs { int64_t w[N]; };

/* x, read back through a volatile so no compiler can fold what uses it (msl.ts, PRECISE_WRAPPERS). */
inline float ma_opaque(float x) { volatile float ma_v = x; return ma_v; }
${PRECISE_WRAPPERS}

/* A double (its bits in an int64 arg word) rounded to the nearest float, ties to even. */
inline float ma_d2f(int64_t bits) {
  const uint64_t u = as_type<uint64_t>(bits);
  const uint32_t sign = (uint32_t)(u >> 32) & 0x80000000u;
  const int32_t e = (int32_t)((u >> 52) & 0x7ffu);
  const uint64_t m = u & 0xfffffffffffffull;
  if (e == 0x7ff) return as_type<float>(sign | 0x7f800000u | (m != 0 ? 0x400000u | (uint32_t)(m >> 29) : 0u));
  int32_t fe = e - 1023 + 127;
  if (fe >= 255) return as_type<float>(sign | 0x7f800000u);
  /* Significand with its implicit bit, 53 bits; a float keeps 24 (fewer if subnormal). */
  const uint64_t sig = e == 0 ? m : (m | 0x10000000000000ull);
  int32_t shift = 29 + (fe <= 0 ? 1 - fe : 0);
  if (e == 0 || shift > 60) return as_type<float>(sign);
  uint64_t kept = sig >> shift;
  const uint64_t rest = sig & ((1ull << shift) - 1ull);
  const uint64_t half = 1ull << (shift - 1);
  if (rest > half || (rest == half && (kept & 1ull) != 0)) kept += 1ull;
  /* kept carries into the exponent field on its own when the significand overflows. */
  const uint32_t bitsOut = fe <= 0 ? (uint32_t)kept : (((uint32_t)(fe - 1) << 23) + (uint32_t)kept);
  return as_type<float>(sign | bitsOut);
}

${halfConversions(MSL_SPELLING)}

/* log1p, expm1 and erf, which Metal's library lacks. */
inline float ma_log1p(float x) {
  const float u = 1.0f + x;
  if (u == 1.0f) return x; /* also keeps the sign of zero */
  if (metal::isinf(u)) return u;
  return ma_log(u) * (x / (u - 1.0f)); /* corrects the rounding of 1 + x */
}
inline float ma_expm1(float x) {
  if (metal::fabs(x) < 1e-5f) return x + 0.5f * x * x;
  const float u = ma_exp(x);
  if (u == 1.0f) return x;
  if (metal::isinf(u)) return u;
  const float um1 = u - 1.0f;
  if (um1 == -1.0f) return -1.0f;
  return um1 * (x / ma_log(u)); /* corrects the rounding of e^x */
}
/* cbrt and hypot, which Metal's library lacks (issue 22). cbrt: exp2/log2, then one
   Newton step, which leaves about an ulp; hypot: scaled by the larger magnitude, so
   neither squares overflow nor underflow; an infinity wins over NaN, as C's hypot. */
inline float ma_cbrt(float x) {
  if (x == 0.0f || x != x || metal::isinf(x)) return x;
  const float a = metal::fabs(x);
  float y = ma_exp2(ma_log2(a) * (1.0f / 3.0f));
  y = y - (y - a / (y * y)) * (1.0f / 3.0f);
  return metal::copysign(y, x);
}
inline float ma_hypot(float x, float y) {
  const float a = metal::fabs(x);
  const float b = metal::fabs(y);
  if (metal::isinf(a) || metal::isinf(b)) return INFINITY;
  if (a != a || b != b) return a + b;
  const float m = a > b ? a : b;
  const float n = a > b ? b : a;
  if (m == 0.0f) return 0.0f;
  const float r = n / m;
  return m * ma_sqrt(1.0f + r * r);
}
inline float ma_erf(float x) {
  const float a = metal::fabs(x);
  if (a < 0.5f) {
    /* Maclaurin series of erf to x^13: below 2^-25 relative error for |x| < 0.5. */
    const float z = x * x;
    float p = -1.0f / 75600.0f;
    p = p * z + 1.0f / 9360.0f;
    p = p * z - 1.0f / 1320.0f;
    p = p * z + 1.0f / 216.0f;
    p = p * z - 1.0f / 42.0f;
    p = p * z + 1.0f / 10.0f;
    p = p * z - 1.0f / 3.0f;
    p = p * z + 1.0f;
    return x * 1.1283791670955126f * p;
  }
  if (a >= 4.0f) return metal::copysign(1.0f, x);
  /* erfc by a Chebyshev-fitted exponent (relative error below 1.2e-7), then 1 - erfc. */
  const float t = 1.0f / (1.0f + 0.5f * a);
  float r = 0.17087277f;
  r = r * t - 0.82215223f;
  r = r * t + 1.48851587f;
  r = r * t - 1.13520398f;
  r = r * t + 0.27886807f;
  r = r * t - 0.18628806f;
  r = r * t + 0.09678418f;
  r = r * t + 0.37409196f;
  r = r * t + 1.00002368f;
  r = r * t - 1.26551223f;
  const float erfc = t * ma_exp(-a * a + r);
  return metal::copysign(1.0f - erfc, x);
}

/* sigmoid, silu and gelu in float (no double here). e^-|x| never overflows, so the tails
   below x = -88.7 (where e^-x would be Inf while silu(-89) = -2e-37 is a normal float) come
   out right; below -80 silu multiplies x by e^(x/2) twice so no factor is subnormal. The
   rounding of 1 + e is put back (1 + e = d + dl exactly) so the quotient rounds about once. */
inline float ma_sigmoid_f(float x) {
  const float e = ma_exp(-metal::fabs(x));
  const float d = 1.0f + e, dl = (1.0f - d) + e;
  const float q = (x >= 0.0f ? 1.0f : e) / d;
  return q - q * (dl / d);
}
inline float ma_silu_f(float x) {
  if (x < -80.0f) { const float h = ma_exp(0.5f * x); return (x * h) * h; }
  if (x > 20.0f || x == 0.0f) return x > 20.0f ? x : 0.5f * x; /* keeps +Inf and the sign of 0 */
  const float e = ma_exp(-metal::fabs(x));
  const float d = 1.0f + e, dl = (1.0f - d) + e;
  const float q = (x >= 0.0f ? x : x * e) / d;
  return q - q * (dl / d);
}
/* gelu(x) = x Phi(x) without 1 + erf(x/sqrt2), which cancels for x < 0. With a = |x|:
   |x| < 1/2: x (1/2 + x P(x^2)); else Phi(-a) = e^(-a^2/2) t S(t), t = 2/(2 + a), where
   a^2/2 is split into an exact high part and a small low part so e^(-a^2/2) keeps float
   accuracy, and the power of two is applied last so subnormal results round once. The
   fits are the C prelude's (src/codegen/c-math.ts), rounded to float and refitted. */
inline float ma_gelu_f(float x) {
  const float a = metal::fabs(x);
  if (metal::isnan(x)) return x;
  if (x == -INFINITY) return as_type<float>(0x7fc00000u);
  if (x > 8.0f) return x;
  if (a < 0.5f) {
    const float u = x * x;
    float p = 0.00046222596f;
    p = metal::fma(p, u, -0.0013630564f);
    p = metal::fma(p, u, 0.010001266f);
    p = metal::fma(p, u, -0.06649178f);
    p = metal::fma(p, u, 0.3989423f);
    return x * metal::fma(x, p, 0.5f);
  }
  const float ac = a < 14.4f ? a : 14.4f;
  const float ah = as_type<float>(as_type<uint32_t>(ac) & 0xfffff000u);
  const float al = ac - ah;
  const float hi = 0.5f * (ah * ah);
  const float lo = 0.5f * ((ah + ac) * al);
  const float kf = metal::rint(hi * -1.44269502f);
  const float r = (kf * -0.693145752f - hi) - kf * 1.42860677e-06f - lo;
  float e = 0.0013818302f;
  e = metal::fma(e, r, 0.008368532f);
  e = metal::fma(e, r, 0.041668292f);
  e = metal::fma(e, r, 0.16666523f);
  e = metal::fma(e, r, 0.49999994f);
  e = metal::fma(e, r, 1.0f);
  const float em1 = e * r; /* e^r - 1, kept apart so no rounding of 1 + em1 */
  /* t = 2/(2 + a) with its rounding error tl (2 + a as d + dl exactly, rem exact with fma). */
  const float d = 2.0f + ac, db = d - 2.0f, dl = (2.0f - (d - db)) + (ac - db);
  const float t = 2.0f / d;
  const float tl = (metal::fma(-t, d, 2.0f) - t * dl) * (0.5f * t);
  float s = 0.08633943f;
  s = metal::fma(s, t, -0.55839497f);
  s = metal::fma(s, t, 1.560464f);
  s = metal::fma(s, t, -2.4119573f);
  s = metal::fma(s, t, 2.1478915f);
  s = metal::fma(s, t, -0.9990059f);
  s = metal::fma(s, t, 0.19735518f);
  s = metal::fma(s, t, -0.13026719f);
  s = metal::fma(s, t, 0.059937682f);
  s = metal::fma(s, t, 0.1486406f);
  s = metal::fma(s, t, 0.1995246f);
  s = metal::fma(s, t, 0.19946983f);
  const float ts = metal::fma(t, s, tl * s);
  const float m = metal::fma(ts, em1, ts); /* Phi(-a) = m 2^k */
  /* 2^k in two normal factors (k >= -150 here), so only the last product rounds. */
  const int k = (int)kf, k1 = k / 2;
  const float f1 = as_type<float>((uint32_t)(k1 + 127) << 23), f2 = as_type<float>((uint32_t)(k - k1 + 127) << 23);
  if (x < 0.0f) return -((ac * m) * f1) * f2;
  return metal::fma(-x, (m * f1) * f2, x);
}

${floatFloorDivision(MSL_SPELLING)}
inline float ma_logaddexp(float x, float y) {
  /* ln2 as HI + LO + LO2: x + HI is exact near x = -ln2, where the sum cancels to about 0. */
  if (x == y) return ((x + 0.693145752f) + 1.42860677e-06f) + 5.497923e-14f;
  float t = x - y;
  if (t > 0) return x + ma_log1p(ma_exp(-t));
  if (t <= 0) return y + ma_log1p(ma_exp(t));
  return t;
}
${erfinvText({ qual: 'inline', F: 'float', nan: 'as_type<float>(0x7fc00000u)', log: 'ma_log', sqrt: 'ma_sqrt', exp: 'ma_exp', erf: 'ma_erf', steps: 2, cComments: false })}

/* SIMD-group shuffles for every accumulator type: narrow integers travel as 32-bit,
   64-bit values as two 32-bit halves. */
inline float ma_shfl_down(float v, int d) { return simd_shuffle_down(v, (ushort)d); }
inline int32_t ma_shfl_down(int32_t v, int d) { return simd_shuffle_down(v, (ushort)d); }
inline uint32_t ma_shfl_down(uint32_t v, int d) { return simd_shuffle_down(v, (ushort)d); }
inline int64_t ma_shfl_down(int64_t v, int d) { return as_type<int64_t>(simd_shuffle_down(as_type<uint2>(v), (ushort)d)); }
inline uint64_t ma_shfl_down(uint64_t v, int d) { return as_type<uint64_t>(simd_shuffle_down(as_type<uint2>(v), (ushort)d)); }
inline int8_t ma_shfl_down(int8_t v, int d) { return (int8_t)simd_shuffle_down((int32_t)v, (ushort)d); }
inline uint8_t ma_shfl_down(uint8_t v, int d) { return (uint8_t)simd_shuffle_down((uint32_t)v, (ushort)d); }
inline int16_t ma_shfl_down(int16_t v, int d) { return (int16_t)simd_shuffle_down((int32_t)v, (ushort)d); }
inline uint16_t ma_shfl_down(uint16_t v, int d) { return (uint16_t)simd_shuffle_down((uint32_t)v, (ushort)d); }

${intHelpers('inline', COMPUTE, 'float', false)}
`;

/**
 * Metal's SIMD-group matrices (MSL 2.3+, Apple7 / M1 and later GPUs): 8×8 float
 * fragments spread over the 32 lanes, loaded from and stored to threadgroup memory with
 * a row stride; `simdgroup_barrier` orders the lanes' threadgroup-memory accesses.
 */
const SIMDGROUP_MATRIX: SimdgroupMatrixOps = {
  zero: (name) => `simdgroup_float8x8 ${name} = make_filled_simdgroup_matrix<float, 8, 8>(0.0f);`,
  decl: (name) => `simdgroup_float8x8 ${name};`,
  load: (dst, src, stride) => `simdgroup_load(${dst}, ${src}, ${stride});`,
  mma: (acc, a, b) => `simdgroup_multiply_accumulate(${acc}, ${a}, ${b}, ${acc});`,
  store: (src, dst, stride) => `simdgroup_store(${src}, ${dst}, ${stride});`,
  barrier: 'simdgroup_barrier(mem_flags::mem_threadgroup);',
};

/** The Metal dialect table (with SIMD-group matrix products: see {@link mslDialect}). */
export const MSL_DIALECT: GpuDialect = {
  ...GPU_COMMON_SPELLINGS,
  name: 'metal',
  computeType: COMPUTE,
  storageType: STORAGE,
  wideAcc: 'float',
  int64: 'int64_t',
  uint64: 'uint64_t',
  kernelHead: mslKernelHead,
  threadX: 'ma_tid.x',
  threadY: 'ma_tid.y',
  blockX: 'ma_bid.x',
  blockY: 'ma_bid.y',
  blockZ: 'ma_bid.z',
  blockDimX: 'ma_bdim.x',
  gridDimX: 'ma_gdim.x',
  gridDimY: 'ma_gdim.y',
  // Never rendered: split reductions take two dispatches (splitTwoPass), scatters and
  // long sorts ordered passes, so no threadgroup hands values to another in one dispatch.
  fence: 'threadgroup_barrier(mem_flags::mem_device);',
  atomicIncrement: (ptr) => `atomic_fetch_add_explicit((device atomic_uint *)(${ptr}), 1u, memory_order_relaxed)`,
  readCoherent: (type, base, index) => `((volatile device ${type} *)(${base}))[${index}]`,
  barrier: 'threadgroup_barrier(mem_flags::mem_threadgroup);',
  barrierAll: 'threadgroup_barrier(mem_flags::mem_device | mem_flags::mem_threadgroup);',
  shared: (type, name, count) => `MA_THREADGROUP(${type}, ${name}, ${count});`,
  math: (fn) => mslMath(fn),
  argDouble: (expr) => `ma_d2f(${expr})`,
  ptr: (type) => `device ${type} *`,
  sharedPtr: (type) => `threadgroup ${type} *`,
  prelude: MSL_PRELUDE,
  simdReduce: (op: ReduceOp, accType: string) => MSL_SIMD_REDUCE[`${op} ${accType}`] ?? null,
  simdgroupMatrix: SIMDGROUP_MATRIX,
  // MSL 3.1 has no device-scope fence: partials reach the fold through a second dispatch.
  splitTwoPass: { foldPass: 'ma_gdim.z == 2u' },
  // Scatters (base, then updates) and sorts of lines longer than a tile (tiles, then
  // merges) hand values between threadgroups through dispatches in order.
  orderedPasses: { sortScratchBytes: SORT_SCRATCH_BUDGET },
};

/** The Metal dialect for a GPU without SIMD-group matrices: matmuls take the scalar kernel. */
const MSL_DIALECT_SCALAR_MATMUL: GpuDialect = { ...MSL_DIALECT, simdgroupMatrix: undefined };

/**
 * The Metal dialect for a device: with SIMD-group matrix products where the device has
 * them (deviceInfo().simdgroupMatrix: a probe kernel compiled; every Apple silicon GPU,
 * Apple7+), else the scalar matmul. The two render different sources, so their kernels
 * have different names and caches never mix them.
 */
export function mslDialect(simdgroupMatrix: boolean): GpuDialect {
  return simdgroupMatrix ? MSL_DIALECT : MSL_DIALECT_SCALAR_MATMUL;
}

/** The op of the first statement that computes in float64, for the error message. */
function float64Op(ir: KernelIR): string | undefined {
  const visit = (stmts: readonly Stmt[]): string | undefined => {
    for (const s of stmts) {
      if (s.k === 'alu' && (s.dtype === 'float64' || s.result === 'float64')) return s.op;
      if (s.k === 'cast' && (s.from === 'float64' || s.to === 'float64')) return `astype(${s.to})`;
      if (s.k === 'reduce') {
        if (s.dtype === 'float64' || s.result === 'float64') return s.op;
        const inner = visit(s.body);
        if (inner) return inner;
      }
      if ((s.k === 'load' || s.k === 'arg') && s.dtype === 'float64') return s.k === 'load' ? 'a float64 input' : 'a float64 constant';
      if (s.k === 'index' && s.dtype === 'float64') return 'a float64 index value (arange)';
    }
    return undefined;
  };
  if (ir.matmul?.dtype === 'float64') return 'matmul';
  return visit(ir.stmts) ?? (ir.buffers.includes('float64') ? 'a float64 buffer' : undefined);
}

/**
 * Renders one kernel as MSL (a `kernel void` function called `name`) in `dialect`
 * ({@link mslDialect}; by default with SIMD-group matrices). Throws DTypeError naming
 * the op for a kernel that needs float64, which Metal does not have.
 */
export function renderMslKernel(ir: KernelIR, name: string, dialect: GpuDialect = MSL_DIALECT): string {
  const op = float64Op(ir);
  if (op !== undefined) throw new DTypeError(`${op}: float64 is not supported by the metal backend (Metal has no double type); use float32`);
  return renderGpuKernel(dialect, ir, name);
}
