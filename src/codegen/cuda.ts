/**
 * The CUDA dialect: what CUDA C differs in from the shared GPU walker (gpu.ts), and the
 * CUDA prelude (fixed-width integers, half/bfloat conversions with the C renderer's
 * rounding, integer helpers, shuffles). Kernels are compiled by NVRTC with FMA
 * contraction off, so `a * b + c` rounds twice as on the CPU; only the matrix product
 * asks for fused multiply-adds explicitly.
 */
import { C_COMPUTE_TYPE, C_STORAGE_TYPE } from './ctypes.js';
import { renderGpuKernel } from './gpu.js';
import { GPU_COMMON_SPELLINGS, type GpuDialect, type GpuParam } from './gpu-dialect.js';
import type { KernelIR } from './ir.js';
import { CUDA_APPROX_MATH, CUDA_EXACT_MATH } from './op-expressions.js';
import { f64ActivationHelpers, floatFloorDivision, halfConversions, intHelpers, type PreludeSpelling } from './prelude-text.js';

const COMPUTE = C_COMPUTE_TYPE;

const STORAGE = C_STORAGE_TYPE;

/**
 * CUDA's libm names (float versions end in `f`); approximate ones go through the
 * prelude's `ma_` wrappers, which hide constant arguments from NVRTC.
 */
function cudaMath(fn: string, cls: 'f' | 'd'): string {
  const name = cls === 'f' ? `${fn}f` : fn;
  if (CUDA_EXACT_MATH.has(fn)) return name;
  if (fn in CUDA_APPROX_MATH) return `ma_${name}`;
  throw new Error(`cuda: math function ${fn} is not classified as exact or approximate`);
}

const QUAL = 'static __device__ __forceinline__';

/**
 * NVRTC and ptxas fold a math function of constant arguments at compile time (ptxas
 * folds the hardware's approximate steps exactly), while the device computes it with
 * them; a fused kernel can see a constant where the unfused one reads a buffer. The
 * wrappers select each argument against a condition neither compiler can decide (the
 * device's SM count is never 2^32 - 1), so both kernels compute the device's bits. The
 * SM count is read once per kernel.
 */
function approxMathWrappers(): string {
  const lines = [
    `${QUAL} bool ma_never() { uint32_t n; asm("mov.u32 %0, %%nsmid;" : "=r"(n)); return n == 0xffffffffu; }`,
    `${QUAL} float ma_opaque(float x) { return ma_never() ? 0.0f : x; }`,
    `${QUAL} double ma_opaque(double x) { return ma_never() ? 0.0 : x; }`,
  ];
  for (const [fn, arity] of Object.entries(CUDA_APPROX_MATH)) {
    for (const [T, name] of [
      ['float', `${fn}f`],
      ['double', fn],
    ]) {
      const params = arity === 1 ? `${T} x` : `${T} x, ${T} y`;
      const args = arity === 1 ? 'ma_opaque(x)' : 'ma_opaque(x), ma_opaque(y)';
      lines.push(`${QUAL} ${T} ma_${name}(${params}) { return ${name}(${args}); }`);
    }
  }
  return lines.join('\n');
}

/** The 128 accumulator operands of a m64n256 warpgroup product, as asm placeholders and bindings. */
const WGMMA_ACC = Array.from({ length: 128 }, (_, i) => `%${i}`).join(', ');
const WGMMA_OUT = Array.from({ length: 128 }, (_, i) => `"+f"(d[${i}])`).join(', ');

/** How the CUDA prelude spells the shared prelude text (prelude-text.ts). */
const CUDA_SPELLING: PreludeSpelling = {
  qual: QUAL,
  asFloat: (bits) => `__uint_as_float(${bits})`,
  asBits: (f) => `__float_as_uint(${f})`,
  rintf: 'rintf',
  wide: 'double',
  lib: '',
  cComments: false,
};

/** The CUDA prelude: compiled before every kernel. */
export const CUDA_PRELUDE = `typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif

/* The by-value argument blob: sizes, strides, offsets and constants as int64 words. */
template <int N> struct MaArgs { long long w[N]; };

${approxMathWrappers()}

${halfConversions(CUDA_SPELLING)}

${floatFloorDivision(CUDA_SPELLING)}
${f64ActivationHelpers(QUAL, { exp: 'ma_exp', erfc: 'ma_erfc', fma: 'fma' })}
/* float32 sigmoid, silu and gelu round once from double (CUDA's erfc: 4 double ulps). */
${QUAL} float ma_sigmoid_f(float x) { return (float)ma_sigmoid_d((double)x); }
${QUAL} float ma_silu_f(float x) { return (float)ma_silu_d((double)x); }
${QUAL} float ma_gelu_f(float x) { return (float)(0.5 * (double)x * ma_erfc(-(double)x * 0.70710678118654752440)); }
${QUAL} double ma_logaddexp(double x, double y) {
  /* ln2 as HI + LO: x + HI is exact near x = -ln2, where the sum cancels to about 0. */
  if (x == y) return (x + 0x1.62e42fefa3800p-1) + 0x1.ef35793c7673p-45;
  double t = x - y;
  if (t > 0) return x + ma_log1p(ma_exp(-t));
  if (t <= 0) return y + ma_log1p(ma_exp(t));
  return t;
}
${QUAL} double ma_erfinv(double y) {
  if (!(y > -1.0 && y < 1.0)) return y == 1.0 ? (double)INFINITY : y == -1.0 ? -(double)INFINITY : __longlong_as_double(0x7ff8000000000000LL);
  if (y == 0) return y;
  return erfinv(ma_opaque(y));
}

/* Asynchronous copies to shared memory (sm_80+): bytes is the full size or 0 (zero fill). */
${QUAL} void ma_cp16(float *dst, const float *src, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"((uint32_t)__cvta_generic_to_shared(dst)), "l"(src), "r"(bytes) : "memory");
}
${QUAL} void ma_cp4(float *dst, const float *src, int bytes) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"((uint32_t)__cvta_generic_to_shared(dst)), "l"(src), "r"(bytes) : "memory");
}
${QUAL} void ma_cp_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N> ${QUAL} void ma_cp_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }
/* TensorFloat-32: round to nearest (ties away) to 10 mantissa bits; one warp-wide
   m16n8k8 product D = A B + C with float32 accumulation (PTX fragment layout). */
${QUAL} uint32_t ma_tf32(float x) { uint32_t r; asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x)); return r; }
${QUAL} void ma_mma_tf32(float c[4], const uint32_t a[4], const uint32_t b[2]) {
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
/* Hopper warpgroup products (sm_90a): D (64x256, float32) += A (TF32 fragments in
   registers) * B (shared memory, K-major, 128-byte swizzle, through a descriptor). */
${QUAL} uint32_t ma_shared_addr(const void *p) { return (uint32_t)__cvta_generic_to_shared(p); }
${QUAL} uint64_t ma_wg_desc(uint32_t addr) {
  /* start address / 16, leading offset 1 (unused when swizzled), 1024 bytes between 8-row groups, 128-byte swizzle */
  return ((uint64_t)(addr & 0x3FFFFu) >> 4) | (1ull << 16) | ((uint64_t)(1024 >> 4) << 32) | (1ull << 62);
}
${QUAL} void ma_wgmma_tf32(float *d, const uint32_t a[4], uint64_t desc) {
  asm volatile("{ .reg .pred p; setp.ne.b32 p, %133, 0; "
               "wgmma.mma_async.sync.aligned.m64n256k8.f32.tf32.tf32 {${WGMMA_ACC}}, {%128, %129, %130, %131}, %132, p, 1, 1; }"
               : ${WGMMA_OUT}
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc), "r"(1));
}
${QUAL} void ma_wg_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
${QUAL} void ma_wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
${QUAL} void ma_wg_wait0() { asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory"); }
${QUAL} void ma_fence_async_shared() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }
/* Asynchronous copies to a shared address; the thread's copies all landed. */
${QUAL} void ma_cp16s(uint32_t dst, const float *src, int bytes) { asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(bytes) : "memory"); }
${QUAL} void ma_cp4s(uint32_t dst, const float *src, int bytes) { asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(dst), "l"(src), "r"(bytes) : "memory"); }
${QUAL} void ma_cp_wait_all() { asm volatile("cp.async.wait_all;" ::: "memory"); }
/* mbarriers in shared memory: init with an arrival count; arrive now; arrive when the
   thread's asynchronous copies so far have landed; wait for the phase of parity. */
${QUAL} void ma_mb_init(uint32_t bar, uint32_t count) { asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count) : "memory"); }
${QUAL} void ma_mb_arrive(uint32_t bar) { asm volatile("{ .reg .b64 st; mbarrier.arrive.shared::cta.b64 st, [%0]; }" ::"r"(bar) : "memory"); }
${QUAL} void ma_mb_arrive_copies(uint32_t bar) { asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];" ::"r"(bar) : "memory"); }
${QUAL} void ma_mb_wait(uint32_t bar, uint32_t parity) {
  asm volatile("{ .reg .pred done; WAIT: mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1; @!done bra WAIT; }" ::"r"(bar), "r"(parity) : "memory");
}
/* A block of three warpgroups (168 registers each at launch) moves registers from the
   copying warpgroup (72) to the two multiplying ones (216): 128 * 72 + 256 * 216 = 384 * 168. */
${QUAL} void ma_wg_shrink() { asm volatile("setmaxnreg.dec.sync.aligned.u32 72;"); }
${QUAL} void ma_wg_grow() { asm volatile("setmaxnreg.inc.sync.aligned.u32 216;"); }
#endif

${QUAL} void ma_mma_f16(float c[4], const uint32_t a[4], const uint32_t b[2]) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
${QUAL} void ma_mma_bf16(float c[4], const uint32_t a[4], const uint32_t b[2]) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
               : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* Warp shuffles for every accumulator type (narrow integers travel as int). */
${QUAL} float ma_shfl_down(float v, int d) { return __shfl_down_sync(0xffffffffu, v, d); }
${QUAL} double ma_shfl_down(double v, int d) { return __shfl_down_sync(0xffffffffu, v, d); }
${QUAL} int32_t ma_shfl_down(int32_t v, int d) { return __shfl_down_sync(0xffffffffu, v, d); }
${QUAL} uint32_t ma_shfl_down(uint32_t v, int d) { return __shfl_down_sync(0xffffffffu, v, d); }
${QUAL} int64_t ma_shfl_down(int64_t v, int d) { return __shfl_down_sync(0xffffffffu, v, d); }
${QUAL} uint64_t ma_shfl_down(uint64_t v, int d) { return __shfl_down_sync(0xffffffffu, v, d); }
${QUAL} int8_t ma_shfl_down(int8_t v, int d) { return (int8_t)__shfl_down_sync(0xffffffffu, (int)v, d); }
${QUAL} uint8_t ma_shfl_down(uint8_t v, int d) { return (uint8_t)__shfl_down_sync(0xffffffffu, (int)v, d); }
${QUAL} int16_t ma_shfl_down(int16_t v, int d) { return (int16_t)__shfl_down_sync(0xffffffffu, (int)v, d); }
${QUAL} uint16_t ma_shfl_down(uint16_t v, int d) { return (uint16_t)__shfl_down_sync(0xffffffffu, (int)v, d); }

${intHelpers(QUAL, COMPUTE, 'double', false)}
`;

/** The CUDA dialect table. */
export const CUDA_DIALECT: GpuDialect = {
  ...GPU_COMMON_SPELLINGS,
  name: 'cuda',
  computeType: COMPUTE,
  storageType: STORAGE,
  wideAcc: 'double',
  int64: 'int64_t',
  uint64: 'uint64_t',
  kernelHead(name: string, params: readonly GpuParam[], argWords: number, threads: number, argsInline: boolean): string {
    const ps = params.map((p) => `${p.readonly ? 'const ' : ''}${p.type} *__restrict__ ${p.name}`);
    ps.push(argsInline ? `const MaArgs<${argWords}> a` : `const MaArgs<${argWords}> *__restrict__ ap`);
    const head = `extern "C" __global__ void __launch_bounds__(${threads}) ${name}(${ps.join(', ')}) {`;
    return argsInline ? head : `${head}\n  const MaArgs<${argWords}> &a = *ap;`;
  },
  threadX: 'threadIdx.x',
  threadY: 'threadIdx.y',
  blockX: 'blockIdx.x',
  blockY: 'blockIdx.y',
  blockZ: 'blockIdx.z',
  blockDimX: 'blockDim.x',
  gridDimX: 'gridDim.x',
  gridDimY: 'gridDim.y',
  barrier: '__syncthreads();',
  barrierAll: '__syncthreads();',
  fence: '__threadfence();',
  atomicIncrement: (ptr) => `atomicAdd(${ptr}, 1u)`,
  readCoherent: (type, base, index) => `((volatile ${type} *)${base})[${index}]`,
  shared: (type, name, count) => `__shared__ __align__(16) ${type} ${name}[${count}];`,
  math: cudaMath,
  argDouble: (expr) => `__longlong_as_double(${expr})`,
  ptr: (type) => `${type} *`,
  sharedPtr: (type) => `${type} *`,
  prelude: CUDA_PRELUDE,
  tensorCoresTf32: true,
  tensorCores16: true,
  asyncCopy: { dynamicShared: (type, name) => `extern __shared__ __align__(16) ${type} ${name}[];` },
};

/**
 * The dialect for Hopper (compute capability 9.0, compiled for sm_90a): TF32 products on
 * warpgroup instructions instead of mma.sync.
 */
export const CUDA_SM90_DIALECT: GpuDialect = { ...CUDA_DIALECT, warpgroupTf32: true };

/** The CUDA dialect for a device of compute capability `major`.`minor`, and the architecture NVRTC compiles it for. */
export function cudaDialectFor(major: number, minor: number): { dialect: GpuDialect; arch: string } {
  if (major === 9 && minor === 0) return { dialect: CUDA_SM90_DIALECT, arch: 'sm_90a' };
  return { dialect: CUDA_DIALECT, arch: `sm_${major}${minor}` };
}

/** Renders one kernel as CUDA C (an `extern "C" __global__` function called `name`) in `dialect`. */
export function renderCudaKernel(ir: KernelIR, name: string, dialect: GpuDialect = CUDA_DIALECT): string {
  return renderGpuKernel(dialect, ir, name);
}
