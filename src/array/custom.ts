/**
 * Custom kernels, Iris/Enigma style: user source with explicit launch geometry, run on
 * the active backend over the library's buffers.
 *
 * The C contract (cpu backend): the source defines
 *
 *   void NAME(void *const *bufs, const int64_t *args, int64_t start, int64_t end)
 *
 * `bufs` holds the inputs' then the outputs' storage (row-major, contiguous; float16 and
 * bfloat16 as uint16_t bits, bool as uint8_t). `args[0]` is the number of work items
 * (the product of `grid`), `args[1]` the `threads` value, `args[2..]` the grid dims. The
 * runtime calls NAME for disjoint chunks [start, end) of [0, args[0]) on its thread pool,
 * each at least `threads` items long, and returns when all are done. The source is
 * compiled with the same compiler and flags as generated kernels (the library's C
 * helpers such as ma_expf are in scope) and cached by its hash.
 *
 * The GPU contract (cuda, metal): the source is the kernel's body, MLX style; the
 * signature, the buffers by name and the thread indices are generated around it (see
 * src/codegen/custom.ts). `grid` counts threads per dimension (up to 3), `threads` is the
 * threadgroup (block) shape; groups = ceil(grid / threads) per dimension.
 */
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { createHash } from 'node:crypto';
import { CUSTOM_RESERVED_NAMES, type CustomGpuLanguage, type CustomParam, renderCustomGpuKernel } from '../codegen/custom.js';
import { ArgumentError, BackendUnavailableError, CompileError, formatValue } from '../errors.js';
import { leafNode } from '../core/build.js';
import { type DType, DTYPES, checkDType } from '../core/dtype.js';
import type { BufferRef, Node } from '../core/node.js';
import type { Backend } from '../runtime/backend.js';
import { GPU_LAUNCH_WORDS } from '../runtime/native.js';
import { backendFor } from '../runtime/registry.js';
import { MetalArray } from './array.js';
import { defaultBackend } from './context.js';

/** One output of a custom kernel. */
export interface CustomOutput {
  shape: readonly number[];
  dtype: DType;
  /** The output's name in GPU sources (`out0`, `out1`, ... by default). */
  name?: string;
}

/** What `customKernel` takes. */
export interface CustomKernelSpec {
  /** The kernel's name (a C identifier); it appears in errors. */
  name: string;
  /**
   * Source per backend language; the active backend's must be present: `c` a whole
   * function (cpu), `cuda` and `msl` a kernel body (see the README's Custom kernels).
   */
  source: { c?: string; cuda?: string; msl?: string };
  /** Input names, in order (their count is checked at dispatch; GPU sources use them; `in0`, ... by default). */
  inputs?: readonly string[];
  outputs: readonly CustomOutput[];
  /** Work items (cpu) or threads (GPU): a count or up to 3 dims (cpu: any number) whose product is the total. */
  grid: number | readonly number[];
  /** cpu: work items per thread-pool chunk at least; GPU: the threadgroup (block) shape, up to 3 dims. 1 by default. */
  threads?: number | readonly number[];
}

/** The language each backend runs custom kernels in. */
const LANGUAGE: Record<string, 'c' | CustomGpuLanguage> = { cpu: 'c', cuda: 'cuda', metal: 'msl' };

/** Most threads in one GPU group (CUDA's block limit and Apple GPUs' threadgroup limit). */
const MAX_GROUP_THREADS = 1024;
/** Largest group count in the y and z dimensions (CUDA's limit). */
const MAX_GROUPS_YZ = 65535;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function dims(what: string, v: unknown, name: string): number[] {
  const list = typeof v === 'number' ? [v] : Array.isArray(v) ? [...v] : null;
  if (list === null || list.length === 0 || !list.every((x) => Number.isSafeInteger(x) && x >= 0)) {
    throw new ArgumentError(`customKernel ${JSON.stringify(name)}: ${what} must be a non-negative integer or a non-empty list of them, got ${formatValue(v)}`);
  }
  return list as number[];
}

/** A dispatch bound to its inputs, with outputs allocated once and reused by every run. */
export class PreparedDispatch {
  constructor(
    private readonly kernel: CustomKernel,
    private readonly commands: Int32Array,
    private readonly args: BigInt64Array,
    /** The outputs: every dispatch overwrites them in place. */
    readonly outputs: MetalArray[],
    private readonly keep: { release(): void }[],
  ) {}

  /**
   * Runs the kernel again over the same inputs and outputs; returns the outputs.
   *
   * @example
   * ```ts
   * const x = ma.arange(1024).astype('float32');
   * const y = ma.ones([1024]);
   * const saxpy = ma.customKernel({
   *   name: 'saxpy',
   *   source: {
   *     c: `void saxpy(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
   *           const float *x = bufs[0], *y = bufs[1]; float *out = bufs[2];
   *           for (int64_t i = start; i < end; i++) out[i] = 2.0f * x[i] + y[i];
   *         }`,
   *   },
   *   inputs: ['x', 'y'],
   *   outputs: [{ shape: [1024], dtype: 'float32' }],
   *   grid: 1024,
   *   threads: 256,
   * });
   * const run = saxpy.prepare(x, y);
   * const [z] = run.dispatch(); // the same output array every time, overwritten
   * console.log(run.dispatch()[0] === z, z.slice('0:3').tolist()); // true [ 1, 3, 5 ]
   * run.release();
   * ```
   */
  dispatch(): MetalArray[] {
    this.kernel.run(this.commands, this.args, false);
    return this.outputs;
  }

  /**
   * Runs the kernel and returns its time in milliseconds: device time on a GPU (CUDA
   * events; Metal's command-buffer GPU time), wall time of the run on the cpu backend.
   *
   * @example
   * ```ts
   * const x = ma.arange(1024).astype('float32');
   * const y = ma.ones([1024]);
   * const saxpy = ma.customKernel({
   *   name: 'saxpy',
   *   source: {
   *     c: `void saxpy(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
   *           const float *x = bufs[0], *y = bufs[1]; float *out = bufs[2];
   *           for (int64_t i = start; i < end; i++) out[i] = 2.0f * x[i] + y[i];
   *         }`,
   *   },
   *   inputs: ['x', 'y'],
   *   outputs: [{ shape: [1024], dtype: 'float32' }],
   *   grid: 1024,
   *   threads: 256,
   * });
   * const run = saxpy.prepare(x, y);
   * const ms = run.dispatchTimed(); // wall time on the cpu backend, device time on a GPU
   * console.log(typeof ms, run.outputs[0].slice('0:3').tolist()); // number [ 1, 3, 5 ]
   * run.release();
   * ```
   */
  dispatchTimed(): number {
    return this.kernel.run(this.commands, this.args, true);
  }

  /**
   * Lets go of the inputs this dispatch holds (the outputs stay usable).
   *
   * @example
   * ```ts
   * const x = ma.arange(1024).astype('float32');
   * const y = ma.ones([1024]);
   * const saxpy = ma.customKernel({
   *   name: 'saxpy',
   *   source: {
   *     c: `void saxpy(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
   *           const float *x = bufs[0], *y = bufs[1]; float *out = bufs[2];
   *           for (int64_t i = start; i < end; i++) out[i] = 2.0f * x[i] + y[i];
   *         }`,
   *   },
   *   inputs: ['x', 'y'],
   *   outputs: [{ shape: [1024], dtype: 'float32' }],
   *   grid: 1024,
   *   threads: 256,
   * });
   * const run = saxpy.prepare(x, y);
   * run.dispatch();
   * run.release(); // the inputs may be freed now; the outputs stay readable
   * console.log(run.outputs[0].slice('0:3').tolist()); // [ 1, 3, 5 ]
   * ```
   */
  release(): void {
    for (const k of this.keep.splice(0)) k.release();
  }
}

/** A compiled custom kernel; see `customKernel`. */
export class CustomKernel {
  readonly name: string;
  private readonly spec: CustomKernelSpec;
  private readonly backendName: string;
  private readonly language: 'c' | CustomGpuLanguage;
  private readonly grid: number[];
  private readonly threads: number[];
  private readonly inputNames: string[];
  private readonly outputNames: string[];
  /** Kernel ids by buffer dtypes (GPU sources are typed by their inputs; C has one). */
  private readonly kernelIds = new Map<string, number>();

  constructor(spec: CustomKernelSpec) {
    if (spec === null || typeof spec !== 'object') throw new ArgumentError(`customKernel: expected a spec object, got ${formatValue(spec)}`);
    if (typeof spec.name !== 'string' || !IDENT.test(spec.name))
      throw new ArgumentError(`customKernel: name must be a C identifier, got ${formatValue(spec.name)}`);
    this.name = spec.name;
    this.spec = spec;
    this.grid = dims('grid', spec.grid, spec.name);
    this.threads = dims('threads', spec.threads ?? 1, spec.name);
    if (!Array.isArray(spec.outputs) || spec.outputs.length === 0)
      throw new ArgumentError(`customKernel ${JSON.stringify(spec.name)}: outputs must be a non-empty list of {shape, dtype}`);
    for (const o of spec.outputs) {
      checkDType(o?.dtype, `customKernel ${spec.name}`);
      if (!Array.isArray(o.shape))
        throw new ArgumentError(`customKernel ${JSON.stringify(spec.name)}: an output shape must be a list of sizes, got ${formatValue(o.shape)}`);
      if (o.shape.length > 0) dims('an output shape', o.shape, spec.name);
    }
    if (spec.inputs !== undefined && !Array.isArray(spec.inputs))
      throw new ArgumentError(`customKernel ${JSON.stringify(spec.name)}: inputs must be a list of names, got ${formatValue(spec.inputs)}`);
    this.inputNames = (spec.inputs ?? []).map((n) => n);
    this.outputNames = spec.outputs.map((o, i) => o.name ?? `out${i}`);
    this.backendName = defaultBackend();
    this.language = LANGUAGE[this.backendName];
    const source = spec.source?.[this.language];
    if (typeof source !== 'string') {
      const given = Object.keys(spec.source ?? {}).join(', ') || 'none';
      throw new ArgumentError(`customKernel ${JSON.stringify(spec.name)}: the ${this.backendName} backend needs source.${this.language} (given: ${given})`);
    }
    if (this.language !== 'c') this.checkGpu();
  }

  /** GPU sources name their buffers, and their geometry has GPU limits. */
  private checkGpu(): void {
    const names = [...this.inputNames, ...this.outputNames];
    for (const n of names) {
      if (typeof n !== 'string' || !IDENT.test(n) || n.startsWith('ma_') || CUSTOM_RESERVED_NAMES.has(n) || n === this.name)
        throw new ArgumentError(`${this.where()}: buffer name ${formatValue(n)} must be a C identifier, not start with ma_, and not be a built-in name`);
    }
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new ArgumentError(`${this.where()}: buffer name ${JSON.stringify(dup)} is used twice`);
    if (this.grid.length > 3 || this.threads.length > 3) throw new ArgumentError(`${this.where()}: a GPU grid and threadgroup have at most 3 dimensions`);
    const group = this.threads.reduce((p, t) => p * t, 1);
    if (group < 1 || group > MAX_GROUP_THREADS) throw new ArgumentError(`${this.where()}: a threadgroup holds 1 to ${MAX_GROUP_THREADS} threads, got ${group}`);
    const groups = this.groups();
    if (groups[0] > 2 ** 31 - 1 || groups[1] > MAX_GROUPS_YZ || groups[2] > MAX_GROUPS_YZ)
      throw new ArgumentError(`${this.where()}: ${groups.join(' x ')} threadgroups exceed the GPU's grid limits`);
  }

  private dim3(v: readonly number[]): [number, number, number] {
    return [v[0] ?? 1, v[1] ?? 1, v[2] ?? 1];
  }

  /** Threadgroups per dimension (GPU). */
  private groups(): [number, number, number] {
    const g = this.dim3(this.grid);
    const t = this.dim3(this.threads);
    return [0, 1, 2].map((i) => Math.ceil(g[i] / t[i])) as [number, number, number];
  }

  private where(): string {
    const t = this.threads.length === 1 ? `${this.threads[0]}` : `[${this.threads.join(', ')}]`;
    return `kernel ${JSON.stringify(this.name)} (grid [${this.grid.join(', ')}], threads ${t})`;
  }

  private params(inputs: readonly MetalArray[]): CustomParam[] {
    return [
      ...inputs.map((x, i) => ({ name: this.inputNames[i] ?? `in${i}`, dtype: x.dtype, output: false })),
      ...this.spec.outputs.map((o, i) => ({ name: this.outputNames[i], dtype: o.dtype, output: true })),
    ];
  }

  /** Compiles (once per source and, on a GPU, per buffer dtypes) and returns the kernel id. */
  private compiled(backend: Backend, params: readonly CustomParam[]): number {
    const key = this.language === 'c' ? '' : params.map((p) => p.dtype).join(',');
    const known = this.kernelIds.get(key);
    if (known !== undefined) return known;
    const source = this.spec.source[this.language] as string;
    let text: string;
    let symbol: string;
    if (this.language === 'c') {
      // The user's function becomes a symbol unique to its source, so two kernels of one
      // name never collide in the kernel caches.
      symbol = `custom_${this.name}_${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
      text = `#define ${this.name} ${symbol}\n${source}\n#undef ${this.name}\n`;
    } else {
      const group = this.threads.reduce((p, t) => p * t, 1);
      symbol = `custom_${this.name}_${createHash('sha256')
        .update(JSON.stringify([params, group, source]))
        .digest('hex')
        .slice(0, 16)}`;
      try {
        text = renderCustomGpuKernel(this.language, symbol, params, source, group);
      } catch (err) {
        throw new BackendUnavailableError(`${this.where()}: ${(err as Error).message}`);
      }
    }
    try {
      const [id] = backend.kernels([{ name: symbol, source: text }]);
      this.kernelIds.set(key, id);
      return id;
    } catch (err) {
      if (err instanceof CompileError)
        throw new CompileError(`${this.where()}: the ${this.language.toUpperCase()} source does not compile`, err.source, err.log);
      throw err;
    }
  }

  /**
   * Binds inputs, allocates outputs and returns a reusable dispatch (not yet run).
   *
   * @example
   * ```ts
   * const x = ma.arange(1024).astype('float32');
   * const y = ma.ones([1024]);
   * const saxpy = ma.customKernel({
   *   name: 'saxpy',
   *   source: {
   *     c: `void saxpy(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
   *           const float *x = bufs[0], *y = bufs[1]; float *out = bufs[2];
   *           for (int64_t i = start; i < end; i++) out[i] = 2.0f * x[i] + y[i];
   *         }`,
   *   },
   *   inputs: ['x', 'y'],
   *   outputs: [{ shape: [1024], dtype: 'float32' }],
   *   grid: 1024,
   *   threads: 256,
   * });
   * const run = saxpy.prepare(x, y); // checks and binds once
   * const [z] = run.dispatch();
   * console.log(z.slice('0:3').tolist()); // [ 1, 3, 5 ]
   * run.release();
   * ```
   */
  prepare(...inputs: MetalArray[]): PreparedDispatch {
    const want = this.spec.inputs?.length;
    if (want !== undefined && inputs.length !== want) {
      throw new ArgumentError(`${this.where()}: expects ${want} inputs (${(this.spec.inputs ?? []).join(', ')}), got ${inputs.length}`);
    }
    inputs.forEach((x, i) => {
      if (!(x instanceof MetalArray)) throw new ArgumentError(`${this.where()}: input ${this.inputNames[i] ?? i} is not a MetalArray: ${formatValue(x)}`);
      if (x.backend !== this.backendName)
        throw new ArgumentError(
          `${this.where()}: input ${this.inputNames[i] ?? i} lives on the ${x.backend} backend, the kernel on ${this.backendName} (move it with .to())`,
        );
    });
    const backend = backendFor(this.backendName);
    const params = this.params(inputs);
    const id = this.compiled(backend, params);
    const held: { node: Node; release(): void }[] = [];
    try {
      for (const x of inputs) held.push(x.denseLeaf(`customKernel ${this.name}`));
      const outputs = this.spec.outputs.map((o) => {
        const size = o.shape.reduce((p, d) => p * d, 1);
        const buffer: BufferRef = backend.alloc(size * DTYPES[o.dtype].bytes);
        return MetalArray.fromNode(leafNode(buffer, o.shape, o.dtype));
      });
      const bufIds = [...held.map((h) => (h.node.buffer as BufferRef).id), ...outputs.map((o) => (o.liveNode('customKernel').buffer as BufferRef).id)];
      const work = this.grid.reduce((p, d) => p * d, 1);
      const group = this.threads.reduce((p, t) => p * t, 1);
      let commands: Int32Array;
      let words: number[];
      if (this.language === 'c') {
        commands = Int32Array.from([id, 0, bufIds.length, ...bufIds]);
        words = [work, Math.max(1, group), ...this.grid];
      } else {
        const sizes = [...inputs.map((x) => x.size), ...this.spec.outputs.map((o) => o.shape.reduce((p, d) => p * d, 1))];
        words = [work, group, ...this.dim3(this.grid), ...sizes];
        const launch = [...(work === 0 ? [0, 0, 0] : this.groups()), ...this.dim3(this.threads), 0, words.length * 8, 0];
        if (launch.length !== GPU_LAUNCH_WORDS) throw new Error('internal: GPU launch words out of step with the runtime');
        commands = Int32Array.from([id, 0, bufIds.length, ...bufIds, ...launch]);
      }
      const args = BigInt64Array.from(words.map((v) => BigInt(v)));
      return new PreparedDispatch(this, commands, args, outputs, held);
    } catch (err) {
      for (const h of held) h.release();
      throw err;
    }
  }

  /**
   * Runs the kernel on `inputs` and returns new output arrays.
   *
   * @example
   * ```ts
   * const x = ma.arange(1024).astype('float32');
   * const y = ma.ones([1024]);
   * const saxpy = ma.customKernel({
   *   name: 'saxpy',
   *   source: {
   *     c: `void saxpy(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
   *           const float *x = bufs[0], *y = bufs[1]; float *out = bufs[2];
   *           for (int64_t i = start; i < end; i++) out[i] = 2.0f * x[i] + y[i];
   *         }`,
   *   },
   *   inputs: ['x', 'y'],
   *   outputs: [{ shape: [1024], dtype: 'float32' }],
   *   grid: 1024,
   *   threads: 256,
   * });
   * const [z] = saxpy.dispatch(x, y); // new outputs on every call
   * console.log(z.slice('0:3').tolist()); // [ 1, 3, 5 ]
   * ```
   */
  dispatch(...inputs: MetalArray[]): MetalArray[] {
    const prepared = this.prepare(...inputs);
    try {
      return prepared.dispatch();
    } finally {
      prepared.release();
    }
  }

  /** @internal Runs bound commands, naming the kernel in any error; returns milliseconds when timed. */
  run(commands: Int32Array, args: BigInt64Array, timed: boolean): number {
    const backend = backendFor(this.backendName);
    try {
      if (timed && backend.timeRun) return backend.timeRun(commands, args);
      const t0 = performance.now();
      backend.run(commands, args);
      return performance.now() - t0;
    } catch (err) {
      const e = err as Error;
      e.message = `${this.where()}: ${e.message}`;
      throw e;
    }
  }
}

/**
 * A kernel from user source with explicit launch geometry (see the module comment and
 * the README for each backend's contract). `dispatch(...inputs)` runs it and returns new
 * outputs; `prepare` returns a reusable dispatch whose `dispatchTimed()` gives the run's
 * milliseconds (device time on a GPU).
 *
 * @example
 * ```ts
 * const x = ma.arange(1024).astype('float32');
 * const y = ma.ones([1024]);
 * const saxpy = ma.customKernel({
 *   name: 'saxpy',
 *   source: {
 *     c: `void saxpy(void *const *bufs, const int64_t *args, int64_t start, int64_t end) {
 *           const float *x = bufs[0], *y = bufs[1]; float *out = bufs[2];
 *           for (int64_t i = start; i < end; i++) out[i] = 2.0f * x[i] + y[i];
 *         }`,
 *   },
 *   inputs: ['x', 'y'],
 *   outputs: [{ shape: [1024], dtype: 'float32' }],
 *   grid: 1024,
 *   threads: 256,
 * });
 * const [z] = saxpy.dispatch(x, y);
 * console.log(z.slice('0:4').toString()); // array([1., 3., 5., 7.])
 * ```
 */
export function customKernel(spec: CustomKernelSpec): CustomKernel {
  checkArgCount('customKernel', arguments.length, 1, 'customKernel(spec)');
  checkOptions('customKernel', spec, ['name', 'source', 'inputs', 'outputs', 'grid', 'threads']);
  return new CustomKernel(spec);
}
