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
 */
import { createHash } from 'node:crypto';
import { ArgumentError, BackendUnavailableError, CompileError, formatValue } from '../errors.js';
import { leafNode } from '../graph/build.js';
import { type DType, DTYPES, checkDType } from '../graph/dtype.js';
import type { BufferRef, Node } from '../graph/node.js';
import { backendFor } from '../runtime/registry.js';
import { MetalArray } from './array.js';
import { defaultBackend } from './context.js';

/** One output of a custom kernel. */
export interface CustomOutput {
  shape: readonly number[];
  dtype: DType;
}

/** What `customKernel` takes. */
export interface CustomKernelSpec {
  /** The function the source defines (a C identifier). */
  name: string;
  /** Source per backend language; the active backend's must be present. */
  source: { c?: string; cuda?: string; msl?: string };
  /** Input names, in order (their count is checked at dispatch; the names appear in errors). */
  inputs?: readonly string[];
  outputs: readonly CustomOutput[];
  /** Work items: a count or dims whose product is the count. */
  grid: number | readonly number[];
  /** Work items per thread-pool chunk at least (cpu); 1 by default. */
  threads?: number | readonly number[];
}

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

  /** Runs the kernel again over the same inputs and outputs; returns the outputs. */
  dispatch(): MetalArray[] {
    this.kernel.run(this.commands, this.args);
    return this.outputs;
  }

  /** Runs the kernel and returns its time in milliseconds (the cpu backend's wall time of the run). */
  dispatchTimed(): number {
    const t0 = performance.now();
    this.kernel.run(this.commands, this.args);
    return performance.now() - t0;
  }

  /** Lets go of the inputs this dispatch holds (the outputs stay usable). */
  release(): void {
    for (const k of this.keep.splice(0)) k.release();
  }
}

/** A compiled custom kernel; see `customKernel`. */
export class CustomKernel {
  readonly name: string;
  private readonly spec: CustomKernelSpec;
  private readonly backendName: string;
  private readonly grid: number[];
  private readonly threads: number;
  private kernelId = -1;

  constructor(spec: CustomKernelSpec) {
    if (spec === null || typeof spec !== 'object') throw new ArgumentError(`customKernel: expected a spec object, got ${formatValue(spec)}`);
    if (typeof spec.name !== 'string' || !IDENT.test(spec.name))
      throw new ArgumentError(`customKernel: name must be a C identifier, got ${formatValue(spec.name)}`);
    this.name = spec.name;
    this.spec = spec;
    this.grid = dims('grid', spec.grid, spec.name);
    this.threads = dims('threads', spec.threads ?? 1, spec.name).reduce((p, x) => p * x, 1);
    if (!Array.isArray(spec.outputs) || spec.outputs.length === 0)
      throw new ArgumentError(`customKernel ${JSON.stringify(spec.name)}: outputs must be a non-empty list of {shape, dtype}`);
    for (const o of spec.outputs) {
      checkDType(o?.dtype, `customKernel ${spec.name}`);
      if (!Array.isArray(o.shape))
        throw new ArgumentError(`customKernel ${JSON.stringify(spec.name)}: an output shape must be a list of sizes, got ${formatValue(o.shape)}`);
      if (o.shape.length > 0) dims('an output shape', o.shape, spec.name);
    }
    this.backendName = defaultBackend();
    if (this.backendName !== 'cpu') {
      throw new BackendUnavailableError(
        `customKernel ${JSON.stringify(spec.name)}: custom kernels run on the cpu backend only so far (the active backend is ${this.backendName})`,
      );
    }
    if (typeof spec.source?.c !== 'string') throw new ArgumentError(`customKernel ${JSON.stringify(spec.name)}: the cpu backend needs source.c`);
  }

  private where(): string {
    return `kernel ${JSON.stringify(this.name)} (grid [${this.grid.join(', ')}], threads ${this.threads})`;
  }

  /** Compiles (once) and returns the kernel id. */
  private compiled(): number {
    if (this.kernelId >= 0) return this.kernelId;
    const source = this.spec.source.c as string;
    // The user's function becomes a symbol unique to its source, so two kernels of one
    // name never collide in the kernel caches.
    const symbol = `custom_${this.name}_${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
    const text = `#define ${this.name} ${symbol}\n${source}\n#undef ${this.name}\n`;
    try {
      [this.kernelId] = backendFor(this.backendName).kernels([{ name: symbol, source: text }]);
    } catch (err) {
      if (err instanceof CompileError) throw new CompileError(`${this.where()}: the C source does not compile`, err.source, err.log);
      throw err;
    }
    return this.kernelId;
  }

  /** Binds inputs, allocates outputs and returns a reusable dispatch (not yet run). */
  prepare(...inputs: MetalArray[]): PreparedDispatch {
    const want = this.spec.inputs?.length;
    if (want !== undefined && inputs.length !== want) {
      throw new ArgumentError(`${this.where()}: expects ${want} inputs (${(this.spec.inputs ?? []).join(', ')}), got ${inputs.length}`);
    }
    const backend = backendFor(this.backendName);
    const id = this.compiled();
    const held: { node: Node; release(): void }[] = [];
    try {
      inputs.forEach((x, i) => {
        if (!(x instanceof MetalArray)) throw new ArgumentError(`${this.where()}: input ${this.spec.inputs?.[i] ?? i} is not a MetalArray: ${formatValue(x)}`);
        held.push(x.denseLeaf(`customKernel ${this.name}`));
      });
      const outputs = this.spec.outputs.map((o) => {
        const size = o.shape.reduce((p, d) => p * d, 1);
        const buffer: BufferRef = backend.alloc(size * DTYPES[o.dtype].bytes);
        return MetalArray.fromNode(leafNode(buffer, o.shape, o.dtype));
      });
      const bufIds = [...held.map((h) => (h.node.buffer as BufferRef).id), ...outputs.map((o) => (o.liveNode('customKernel').buffer as BufferRef).id)];
      const commands = Int32Array.from([id, 0, bufIds.length, ...bufIds]);
      const work = this.grid.reduce((p, d) => p * d, 1);
      const args = BigInt64Array.from([work, Math.max(1, this.threads), ...this.grid].map((v) => BigInt(v)));
      return new PreparedDispatch(this, commands, args, outputs, held);
    } catch (err) {
      for (const h of held) h.release();
      throw err;
    }
  }

  /** Runs the kernel on `inputs` and returns new output arrays. */
  dispatch(...inputs: MetalArray[]): MetalArray[] {
    const prepared = this.prepare(...inputs);
    try {
      return prepared.dispatch();
    } finally {
      prepared.release();
    }
  }

  /** @internal Runs bound commands, naming the kernel in any error. */
  run(commands: Int32Array, args: BigInt64Array): void {
    try {
      backendFor(this.backendName).run(commands, args);
    } catch (err) {
      const e = err as Error;
      e.message = `${this.where()}: ${e.message}`;
      throw e;
    }
  }
}

/**
 * A kernel from user source with explicit launch geometry (see the module comment for
 * the C contract). `dispatch(...inputs)` runs it and returns new outputs; `prepare`
 * returns a reusable dispatch whose `dispatchTimed()` gives the run's milliseconds.
 */
export function customKernel(spec: CustomKernelSpec): CustomKernel {
  return new CustomKernel(spec);
}
