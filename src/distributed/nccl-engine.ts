/**
 * The NCCL engine: libnccl.so.2 through the addon (native/cuda/nccl_api.cc), on the cuda
 * backend's stream and device buffers. Arrays of another backend are copied to the GPU
 * and the result back.
 *
 * Rendezvous: the 128-byte NCCL unique id reaches every rank through
 * `METALARRAY_NCCL_ID` (hex; metalarray-launch sets it), or through the file named by
 * `METALARRAY_RENDEZVOUS_FILE` (rank 0 writes it, the others poll it: a shared directory
 * for several hosts). dtypes: NCCL's own for int8/uint8/int32/uint32/int64/uint64/float16/
 * bfloat16/float32/float64; bool as uint8 (sum is logical or); int16/uint16 move as bytes
 * (gather, broadcast, send) but cannot be reduced (DTypeError).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { leafFor, MetalArray } from '../array/array.js';
import { DTYPES } from '../core/dtype.js';
import type { BufferRef } from '../core/node.js';
import { ArgumentError, BackendUnavailableError, CollectiveTimeoutError, DistributedError, DTypeError } from '../errors.js';
import { loadNative } from '../runtime/native.js';
import { backendFor, isAvailable, unavailableReason } from '../runtime/registry.js';
import { DTYPE_CODE, type Engine, type EngineCall, mismatchError, OPERATION, REDUCE_OP, writeHeader } from './engine.js';
import { onBackend, resultShape } from './mpi-engine.js';

interface NcclAddon {
  ncclOpen(path: string): number;
  ncclUniqueId(): Uint8Array;
  ncclInit(id: Uint8Array, size: number, rank: number): number;
  ncclSplit(comm: number, color: number, key: number): { comm: number; rank: number; size: number };
  ncclRun(
    operation: number,
    comm: number,
    header: BigInt64Array,
    seen: BigInt64Array,
    headerBufId: number,
    sendId: number,
    recvId: number,
    count: number,
    dtype: number,
    reduceOp: number,
    peer: number,
    timeoutMs: number,
  ): number;
}

const DONE = 0;
const TIMED_OUT = 1;
const MISMATCH = 2;
const UNSUPPORTED = 3;
const INT32_MAX = 0x7fffffff;

/** Where libnccl is looked for when METALARRAY_NCCL_LIBRARY is unset. */
export const DEFAULT_NCCL_LIBRARY = 'libnccl.so.2';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** The unique id of the world communicator: from the launcher, a rendezvous file, or made here (size 1). */
function uniqueId(nccl: NcclAddon, rank: number, size: number, timeoutMs: number): Uint8Array {
  const fromEnv = process.env.METALARRAY_NCCL_ID;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^[0-9a-f]{256}$/i.test(fromEnv)) throw new ArgumentError('distributed.init: METALARRAY_NCCL_ID must be 256 hex digits (128 bytes)');
    return new Uint8Array(Buffer.from(fromEnv, 'hex'));
  }
  const file = process.env.METALARRAY_RENDEZVOUS_FILE;
  if (size === 1 || file === undefined || file === '') {
    if (size > 1)
      throw new BackendUnavailableError(
        'distributed.init: NCCL needs a rendezvous: start the processes with metalarray-launch, or set METALARRAY_NCCL_ID or METALARRAY_RENDEZVOUS_FILE',
      );
    return nccl.ncclUniqueId();
  }
  if (rank === 0) {
    const id = nccl.ncclUniqueId();
    writeFileSync(`${file}.tmp`, hex(id));
    renameSync(`${file}.tmp`, file); // atomic: readers never see half an id
    return id;
  }
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new CollectiveTimeoutError(`distributed.init: rank 0 wrote no NCCL id to ${file} within ${timeoutMs} ms`);
    Atomics.wait(pause, 0, 0, 20);
  }
  return new Uint8Array(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'));
}

/** The world communicator over NCCL; throws BackendUnavailableError saying what to install. */
export function openNccl(timeoutMs: number): Engine {
  if (!isAvailable('cuda')) throw new BackendUnavailableError(`distributed.init: NCCL needs the cuda backend: ${unavailableReason('cuda')}`);
  const native = loadNative() as unknown as Partial<NcclAddon> | undefined;
  if (native === undefined || typeof native.ncclOpen !== 'function')
    throw new BackendUnavailableError('distributed.init: the addon was built without NCCL support (rebuild it on Linux)');
  const nccl = native as NcclAddon;
  const path = process.env.METALARRAY_NCCL_LIBRARY || DEFAULT_NCCL_LIBRARY;
  try {
    nccl.ncclOpen(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new BackendUnavailableError(
      `distributed.init: cannot load NCCL (${why}). Install it (\`pip install nvidia-nccl-cu13\`, then set METALARRAY_NCCL_LIBRARY to its nvidia/nccl/lib/libnccl.so.2) or a system libnccl2.`,
    );
  }
  const rank = Number(process.env.METALARRAY_RANK ?? '0');
  const size = Number(process.env.METALARRAY_WORLD_SIZE ?? '1');
  if (!Number.isInteger(rank) || !Number.isInteger(size) || rank < 0 || rank >= size) {
    throw new ArgumentError(
      `distributed.init: METALARRAY_RANK=${process.env.METALARRAY_RANK} and METALARRAY_WORLD_SIZE=${process.env.METALARRAY_WORLD_SIZE} are not a valid rank and size`,
    );
  }
  const comm = nccl.ncclInit(uniqueId(nccl, rank, size, timeoutMs), size, rank);
  return new NcclEngine(nccl, comm, rank, size, timeoutMs);
}

class NcclEngine implements Engine {
  readonly name = 'nccl';
  readonly #header = new BigInt64Array(4);
  readonly #seen: BigInt64Array;
  readonly #peerSeen = new BigInt64Array(4);
  readonly #scratch: BufferRef;
  #broken: string | null = null;

  constructor(
    private readonly nccl: NcclAddon,
    private readonly comm: number,
    readonly rank: number,
    readonly size: number,
    private readonly timeoutMs: number,
  ) {
    this.#seen = new BigInt64Array(size * 4);
    this.#scratch = backendFor('cuda').alloc(32 * (size + 1));
  }

  split(color: number, key: number): Engine {
    this.#checkUsable('split');
    const sub = this.nccl.ncclSplit(this.comm, color, key);
    return new NcclEngine(this.nccl, sub.comm, sub.rank, sub.size, this.timeoutMs);
  }

  run(call: EngineCall): MetalArray | null {
    this.#checkUsable(call.name);
    const cuda = backendFor('cuda');
    let input: { node: { buffer: BufferRef | null }; release(): void } | null = null;
    let deviceInput: MetalArray | null = null;
    if (call.input !== null && (call.operation !== 'broadcast' || call.peer === this.rank)) {
      deviceInput = call.input.backend === 'cuda' ? call.input : call.input.to('cuda');
      input = deviceInput.denseLeaf(call.name);
    }
    const releaseInput = (): void => {
      input?.release();
      if (deviceInput !== null && deviceInput !== call.input) deviceInput.dispose();
    };
    const count = call.input?.size ?? call.shape.reduce((a, d) => a * d, 1);
    if (count > INT32_MAX) throw new ArgumentError(`${call.name}: ${count} elements exceed the engine's count limit (2^31 - 1); split the array`);
    const outShape = resultShape(call, this.size);
    const out = call.operation === 'send' || call.operation === 'barrier' ? null : cuda.alloc(outShape.reduce((a, d) => a * d, 1) * DTYPES[call.dtype].bytes);
    const pointToPoint = call.operation === 'send' || call.operation === 'recv';
    const seen = pointToPoint ? this.#peerSeen : this.#seen;
    writeHeader(this.#header, call);
    let status: number;
    try {
      status = this.nccl.ncclRun(
        OPERATION[call.operation],
        this.comm,
        this.#header,
        seen,
        this.#scratch.id,
        input === null ? -1 : (input.node.buffer as BufferRef).id,
        out === null ? -1 : out.id,
        count,
        DTYPE_CODE[call.dtype],
        REDUCE_OP[call.reduce],
        call.operation === 'broadcast' || pointToPoint ? call.peer : 0,
        this.timeoutMs,
      );
    } catch (err) {
      releaseInput();
      out?.release();
      throw new DistributedError(`${call.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    releaseInput();
    if (status !== DONE) out?.release();
    if (status === TIMED_OUT) {
      this.#broken = `${call.name} timed out after ${this.timeoutMs} ms`;
      throw new CollectiveTimeoutError(
        `${call.name}: no completion within ${this.timeoutMs} ms on rank ${this.rank} of ${this.size}: a peer died, hangs, or never made this call. ` +
          'The communicator was aborted; exit the process (timeout: init({ timeoutMs }) or METALARRAY_DISTRIBUTED_TIMEOUT_MS).',
      );
    }
    if (status === MISMATCH) throw mismatchError(call, this.rank, this.#header, seen, pointToPoint ? call.peer : null);
    if (status === UNSUPPORTED) throw new DTypeError(`${call.name}: NCCL cannot reduce ${call.dtype}; cast to int32 or float32 first, or use the MPI engine`);
    if (status !== DONE) throw new DistributedError(`${call.name}: internal: unknown status ${status} from the NCCL engine`);
    if (out === null) return null;
    return onBackend(MetalArray.fromNode(leafFor(out, outShape, call.dtype)), call.backend);
  }

  #checkUsable(name: string): void {
    if (this.#broken !== null)
      throw new DistributedError(`${name}: the NCCL communicator is unusable after an earlier failure (${this.#broken}); exit the process`);
  }
}
