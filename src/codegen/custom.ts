/**
 * Custom GPU kernels (`ma.customKernel`): the user writes a kernel *body*, MLX style;
 * this module wraps it in a kernel of the GPU launch contract (src/runtime/native.ts):
 * the buffers in order (inputs, then outputs), the runtime's scratch buffer, then the
 * args blob, whose words are
 *
 *   [0] work items (threads in the grid)   [1] threads per group
 *   [2..4] grid x, y, z (threads)          [5 + i] element count of buffer i
 *
 * Before the body the wrapper defines, in both languages: each buffer by its name
 * (a pointer to the dtype's storage type, `const` for inputs), `<name>_size` (its
 * element count, int64), and the uint3s `thread_position_in_grid`,
 * `thread_position_in_threadgroup`, `threadgroup_position_in_grid`,
 * `threads_per_threadgroup` and `threads_per_grid` (the requested grid, in threads),
 * plus `thread_index_in_threadgroup`, `thread_index_in_simdgroup` and
 * `simdgroup_index_in_threadgroup` (SIMD groups and warps are 32 wide on every GPU
 * the library targets). Threads past the requested grid return before the body runs
 * (the last group of a dimension may be partial, as Metal's dispatchThreads makes it).
 */
import type { DType } from '../core/dtype.js';
import { CUDA_DIALECT } from './cuda.js';
import { MSL_DIALECT } from './msl.js';

/** One buffer of a custom kernel. */
export interface CustomParam {
  readonly name: string;
  readonly dtype: DType;
  readonly output: boolean;
}

/** The GPU languages a custom kernel can be written in. */
export type CustomGpuLanguage = 'cuda' | 'msl';

/** Arg word of buffer i's element count. */
export const CUSTOM_SIZE_WORD = 5;

/** Names the wrapper defines; a buffer may not take one. */
export const CUSTOM_RESERVED_NAMES: ReadonlySet<string> = new Set([
  'thread_position_in_grid',
  'thread_position_in_threadgroup',
  'threadgroup_position_in_grid',
  'threads_per_threadgroup',
  'threads_per_grid',
  'thread_index_in_threadgroup',
  'thread_index_in_simdgroup',
  'simdgroup_index_in_threadgroup',
]);

/** What differs between the languages, as a table. */
const LANG: Record<
  CustomGpuLanguage,
  {
    storage: Readonly<Record<DType, string | null>>;
    head(symbol: string, params: readonly string[], argWords: number, threads: number): string;
    param(type: string, name: string, readonly: boolean, index: number): string;
    groupIds: readonly [tid: string, bid: string, bdim: string];
  }
> = {
  cuda: {
    storage: CUDA_DIALECT.storageType,
    head: (symbol, params, argWords, threads) =>
      `extern "C" __global__ void __launch_bounds__(${threads}) ${symbol}(${[...params, 'uint8_t *ma_scratch', `const MaArgs<${argWords}> ma_args`].join(', ')}) {`,
    param: (type, name, readonly) => `${readonly ? 'const ' : ''}${type} *__restrict__ ${name}`,
    groupIds: ['threadIdx', 'blockIdx', 'blockDim'],
  },
  msl: {
    storage: MSL_DIALECT.storageType,
    head: (symbol, params, argWords) =>
      `kernel void ${symbol}(${[
        ...params,
        `device uint8_t *ma_scratch [[buffer(${params.length})]]`,
        `constant MaArgs<${argWords}> &ma_args [[buffer(${params.length + 1})]]`,
        'uint3 ma_tid [[thread_position_in_threadgroup]]',
        'uint3 ma_bid [[threadgroup_position_in_grid]]',
        'uint3 ma_bdim [[threads_per_threadgroup]]',
      ].join(', ')}) {`,
    param: (type, name, readonly, index) => `device ${readonly ? 'const ' : ''}${type} *${name} [[buffer(${index})]]`,
    groupIds: ['ma_tid', 'ma_bid', 'ma_bdim'],
  },
};

/** The arg words of a custom kernel with `nBuffers` buffers. */
export function customArgWords(nBuffers: number): number {
  return CUSTOM_SIZE_WORD + nBuffers;
}

/**
 * The full kernel `symbol` in `lang` around the user's `body` (without the prelude, which
 * the backend adds as it does for generated kernels). Throws an `Error` naming a dtype the
 * language lacks.
 */
export function renderCustomGpuKernel(lang: CustomGpuLanguage, symbol: string, params: readonly CustomParam[], body: string, threads: number): string {
  const L = LANG[lang];
  const [tid, bid, bdim] = L.groupIds;
  const decls = params.map((p, i) => {
    const type = L.storage[p.dtype];
    if (type === null) throw new Error(`dtype ${p.dtype} (buffer ${p.name}) is not supported in ${lang === 'msl' ? 'Metal' : 'CUDA'}`);
    return L.param(type, p.name, !p.output, i);
  });
  // A braced list: CUDA's uint3 struct, Metal's vector type and the Linux shim's ext vector all take it.
  const u = (f: (c: 'x' | 'y' | 'z') => string) => `{${f('x')}, ${f('y')}, ${f('z')}}`;
  const w = (i: number) => `ma_args.w[${i}]`;
  const lines = [
    L.head(symbol, decls, customArgWords(params.length), threads),
    `  const uint3 thread_position_in_threadgroup = ${u((c) => `${tid}.${c}`)};`,
    `  const uint3 threadgroup_position_in_grid = ${u((c) => `${bid}.${c}`)};`,
    `  const uint3 threads_per_threadgroup = ${u((c) => `${bdim}.${c}`)};`,
    `  const uint3 thread_position_in_grid = ${u((c) => `${bid}.${c} * ${bdim}.${c} + ${tid}.${c}`)};`,
    `  const uint3 threads_per_grid = ${u((c) => `(uint32_t)${w(2 + 'xyz'.indexOf(c))}`)};`,
    '  if (thread_position_in_grid.x >= threads_per_grid.x || thread_position_in_grid.y >= threads_per_grid.y ||',
    '      thread_position_in_grid.z >= threads_per_grid.z) return;',
    `  const uint32_t thread_index_in_threadgroup = (${tid}.z * ${bdim}.y + ${tid}.y) * ${bdim}.x + ${tid}.x;`,
    '  const uint32_t thread_index_in_simdgroup = thread_index_in_threadgroup % 32u;',
    '  const uint32_t simdgroup_index_in_threadgroup = thread_index_in_threadgroup / 32u;',
    ...params.map((p, i) => `  const int64_t ${p.name}_size = ${w(CUSTOM_SIZE_WORD + i)};`),
    // Every name is defined whether or not the body reads it: no unused-variable warnings.
    `  (void)ma_scratch; (void)thread_position_in_threadgroup; (void)threadgroup_position_in_grid; (void)threads_per_threadgroup;`,
    '  (void)thread_index_in_simdgroup; (void)simdgroup_index_in_threadgroup;',
    ...params.map((p) => `  (void)${p.name}_size;`),
    '  {',
    body,
    '  }',
    '}',
  ];
  return lines.join('\n');
}
