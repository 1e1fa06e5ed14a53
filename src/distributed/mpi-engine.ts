/**
 * The MPI engine: Open MPI's libmpi.so.40 through the addon (native/cpu/mpi_api.cc), on
 * host buffers of the cpu backend. Arrays of another backend are copied to the host and
 * the result back.
 *
 * dtype mapping: bool → MPI_UINT8_T (sum and max are logical or, min logical and); int8..
 * uint64 → MPI_INT8_T..MPI_UINT64_T; float32 → MPI_FLOAT; float64 → MPI_DOUBLE; float16
 * and bfloat16 → MPI_UINT16_T with user ops (MPI_Op_create) that widen to float, reduce
 * and round back to nearest even.
 */
import { leafFor, MetalArray } from '../array/array.js';
import { DTYPES } from '../core/dtype.js';
import type { BufferRef } from '../core/node.js';
import { ArgumentError, BackendUnavailableError, CollectiveTimeoutError, DistributedError } from '../errors.js';
import { loadNative, nativeLoadError } from '../runtime/native.js';
import { backendFor } from '../runtime/registry.js';
import { DTYPE_CODE, type Engine, type EngineCall, mismatchError, OPERATION, REDUCE_OP, writeHeader } from './engine.js';

/** The addon's MPI entry points (native/cpu/mpi_api.cc). */
interface MpiAddon {
  mpiOpen(path: string): { rank: number; size: number; version: string };
  mpiSplit(comm: number, color: number, key: number): { comm: number; rank: number; size: number };
  mpiRun(
    operation: number,
    comm: number,
    header: BigInt64Array,
    seen: BigInt64Array,
    sendId: number,
    recvId: number,
    count: number,
    dtype: number,
    reduceOp: number,
    peer: number,
    timeoutMs: number,
  ): number;
  mpiFinalize(): void;
}

const DONE = 0;
const TIMED_OUT = 1;
const MISMATCH = 2;
const INT32_MAX = 0x7fffffff;

/** Where libmpi is looked for when METALARRAY_MPI_LIBRARY is unset. */
export const DEFAULT_MPI_LIBRARY = 'libmpi.so.40';

// Header arrays of timed-out operations: the library may still write into them.
const abandoned: BigInt64Array[] = [];
let addon: MpiAddon | null = null;
let broken: string | null = null;
let finalizeHooked = false;

function mpiAddon(): MpiAddon {
  if (addon !== null) return addon;
  const native = loadNative() as unknown as Partial<MpiAddon> | undefined;
  if (native === undefined || typeof native.mpiOpen !== 'function') {
    const why = nativeLoadError()?.message ?? 'the addon was built without MPI support (rebuild with `npx node-gyp rebuild`)';
    throw new BackendUnavailableError(`distributed.init: the MPI engine needs the native addon: ${why}`);
  }
  addon = native as MpiAddon;
  return addon;
}

/** The world communicator over MPI; throws BackendUnavailableError saying what to install. */
export function openMpi(timeoutMs: number): Engine {
  const mpi = mpiAddon();
  const path = process.env.METALARRAY_MPI_LIBRARY || DEFAULT_MPI_LIBRARY;
  let world: { rank: number; size: number };
  try {
    world = mpi.mpiOpen(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new BackendUnavailableError(
      `distributed.init: cannot load Open MPI (${why}). Install it (Debian/Ubuntu: \`apt-get install openmpi-bin libopenmpi3\`) ` +
        'or name the library in METALARRAY_MPI_LIBRARY, and start the processes with `mpirun -np N node script.js`.',
    );
  }
  if (!finalizeHooked) {
    finalizeHooked = true;
    // A clean exit finalizes MPI; a failing one (non-zero code) or a broken group does
    // not, so mpirun sees the failure and ends the other ranks instead of them waiting.
    process.on('exit', (code) => {
      if (code === 0 && broken === null) mpi.mpiFinalize();
    });
  }
  return new MpiEngine(mpi, 0, world.rank, world.size, timeoutMs);
}

class MpiEngine implements Engine {
  readonly name = 'mpi';
  readonly #header = new BigInt64Array(4);
  readonly #seen: BigInt64Array;
  readonly #peerSeen = new BigInt64Array(4);

  constructor(
    private readonly mpi: MpiAddon,
    private readonly comm: number,
    readonly rank: number,
    readonly size: number,
    private readonly timeoutMs: number,
  ) {
    this.#seen = new BigInt64Array(size * 4);
  }

  split(color: number, key: number): Engine {
    this.#checkUsable('split');
    const sub = this.mpi.mpiSplit(this.comm, color, key);
    return new MpiEngine(this.mpi, sub.comm, sub.rank, sub.size, this.timeoutMs);
  }

  run(call: EngineCall): MetalArray | null {
    this.#checkUsable(call.name);
    const cpu = backendFor('cpu');
    const bytes = DTYPES[call.dtype].bytes;
    let input: { node: { buffer: BufferRef | null; size: number }; release(): void } | null = null;
    let hostInput: MetalArray | null = null;
    if (call.input !== null && (call.operation !== 'broadcast' || call.peer === this.rank)) {
      hostInput = call.input.backend === 'cpu' ? call.input : call.input.to('cpu');
      input = hostInput.denseLeaf(call.name);
    }
    const count = call.input?.size ?? call.shape.reduce((a, d) => a * d, 1);
    if (count > INT32_MAX) throw new ArgumentError(`${call.name}: ${count} elements exceed MPI's count limit (2^31 - 1); split the array`);
    const outShape = resultShape(call, this.size);
    const out = call.operation === 'send' || call.operation === 'barrier' ? null : cpu.alloc(outShape.reduce((a, d) => a * d, 1) * bytes);
    const pointToPoint = call.operation === 'send' || call.operation === 'recv';
    const seen = pointToPoint ? this.#peerSeen : this.#seen;
    writeHeader(this.#header, call);
    let status: number;
    try {
      status = this.mpi.mpiRun(
        OPERATION[call.operation],
        this.comm,
        this.#header,
        seen,
        input === null ? -1 : (input.node.buffer as BufferRef).id,
        out === null ? -1 : out.id,
        call.operation === 'recv' || call.operation === 'broadcast' ? outShape.reduce((a, d) => a * d, 1) : count,
        DTYPE_CODE[call.dtype],
        REDUCE_OP[call.reduce],
        call.operation === 'broadcast' || pointToPoint ? call.peer : 0,
        this.timeoutMs,
      );
    } catch (err) {
      input?.release();
      if (hostInput !== null && hostInput !== call.input) hostInput.dispose();
      out?.release();
      throw new DistributedError(`${call.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (status === TIMED_OUT) {
      // The library may still complete into these buffers: keep them forever.
      abandoned.push(this.#header, seen);
      broken = `${call.name} timed out after ${this.timeoutMs} ms`;
      throw new CollectiveTimeoutError(
        `${call.name}: no completion within ${this.timeoutMs} ms on rank ${this.rank} of ${this.size}: a peer died, hangs, or never made this call. ` +
          'The group cannot be used any more; exit the process (timeout: init({ timeoutMs }) or METALARRAY_DISTRIBUTED_TIMEOUT_MS).',
      );
    }
    input?.release();
    if (hostInput !== null && hostInput !== call.input) hostInput.dispose();
    if (status === MISMATCH) {
      out?.release();
      throw mismatchError(call, this.rank, this.#header, seen, pointToPoint ? call.peer : null);
    }
    if (status !== DONE) throw new DistributedError(`${call.name}: internal: unknown status ${status} from the MPI engine`);
    if (out === null) return null;
    return onBackend(MetalArray.fromNode(leafFor(out, outShape, call.dtype)), call.backend);
  }

  #checkUsable(name: string): void {
    if (broken !== null) throw new DistributedError(`${name}: the MPI engine is unusable after an earlier failure (${broken}); exit the process`);
  }
}

/** `result` moved to `backend` (the copy it was made from freed at once). */
export function onBackend(result: MetalArray, backend: string): MetalArray {
  if (result.backend === backend) return result;
  const moved = result.to(backend);
  result.dispose();
  return moved;
}

/** The shape of a call's result. */
export function resultShape(call: EngineCall, size: number): number[] {
  const shape = call.input?.shape ?? [...call.shape];
  if (call.operation === 'allGather') return [shape[0] * size, ...shape.slice(1)];
  if (call.operation === 'reduceScatter') return [shape[0] / size, ...shape.slice(1)];
  return shape;
}
