/**
 * The contract between a `Group` and the engine that moves its data (MPI, NCCL, or the
 * size-1 local engine), and what every engine shares: the operation codes, the dtype
 * codes and the 4-word header the ranks compare before each operation.
 */
import type { MetalArray } from '../array/array.js';
import type { DType } from '../core/dtype.js';
import { ArgumentError, CollectiveMismatchError } from '../errors.js';

/** What an engine runs; the codes match native/cpu/mpi_api.cc and native/cuda/nccl_api.cc. */
export const OPERATION = { allReduce: 0, allGather: 1, reduceScatter: 2, broadcast: 3, send: 4, recv: 5, barrier: 6 } as const;
export type Operation = keyof typeof OPERATION;

/** The reduction of an all-reduce or reduce-scatter (codes as in the native engines). */
export const REDUCE_OP = { sum: 0, max: 1, min: 2 } as const;
export type ReduceOp = keyof typeof REDUCE_OP;

/** Dtype codes of the native engines. */
export const DTYPE_CODE: Readonly<Record<DType, number>> = {
  bool: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  uint8: 5,
  uint16: 6,
  uint32: 7,
  uint64: 8,
  float16: 9,
  bfloat16: 10,
  float32: 11,
  float64: 12,
};
const DTYPE_OF_CODE = Object.keys(DTYPE_CODE) as DType[];
const OPERATION_OF_CODE = Object.keys(OPERATION) as Operation[];

/** One call an engine runs: the public op's name (errors), the operation and its operands. */
export interface EngineCall {
  /** The public function, for error messages (`allSum`, `recvLike`...). */
  readonly name: string;
  readonly operation: Operation;
  readonly reduce: ReduceOp;
  /** The input (absent for recv and barrier). */
  readonly input: MetalArray | null;
  /** recv: the shape and dtype to receive. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** broadcast: the root; send/recv: the peer. */
  readonly peer: number;
  /** The backend the result lives on. */
  readonly backend: string;
}

/** Moves data between the processes of one group. */
export interface Engine {
  readonly name: 'mpi' | 'nccl' | 'local';
  readonly rank: number;
  readonly size: number;
  /** Runs `call`; returns the result (null for send and barrier). */
  run(call: EngineCall): MetalArray | null;
  /** A sub-group of the ranks passing the same color, ordered by key then rank (collective). */
  split(color: number, key: number): Engine;
}

/**
 * The header word of a call: operation and dtype, element count, shape hash, root. Point-
 * to-point calls use the send code on both sides, so a matching send and recv compare equal.
 */
export function writeHeader(header: BigInt64Array, call: EngineCall): void {
  const op = call.operation === 'recv' ? OPERATION.send : OPERATION[call.operation];
  const shape = call.input?.shape ?? call.shape;
  let hash = shape.length | 0;
  let count = 1;
  for (const d of shape) {
    hash = Math.imul(hash ^ d, 0x9e3779b1) ^ (hash >>> 15);
    count *= d;
  }
  header[0] = BigInt(op * 16 + DTYPE_CODE[call.dtype]);
  header[1] = call.operation === 'barrier' ? 0n : BigInt(count);
  header[2] = call.operation === 'barrier' ? 0n : BigInt(hash);
  header[3] = call.operation === 'broadcast' ? BigInt(call.peer) : 0n;
}

function describeHeader(words: BigInt64Array, at: number): string {
  const code = Number(words[at]);
  const op = OPERATION_OF_CODE[code >> 4] ?? `operation ${code >> 4}`;
  if (op === 'barrier') return 'barrier';
  const root = op === 'broadcast' ? ` root ${words[at + 3]}` : '';
  return `${op === 'send' ? 'send/recv' : op} of ${words[at + 1]} ${DTYPE_OF_CODE[code & 15] ?? '?'} element(s)${root} (shape hash ${words[at + 2]})`;
}

/** The mismatch error after a header exchange: what each rank (or the peer) called. */
export function mismatchError(call: EngineCall, rank: number, header: BigInt64Array, seen: BigInt64Array, peer: number | null): CollectiveMismatchError {
  const lines: string[] = [];
  if (peer !== null) {
    lines.push(`  rank ${rank} (this process): ${describeHeader(header, 0)}`, `  rank ${peer}: ${describeHeader(seen, 0)}`);
  } else {
    for (let r = 0; r * 4 < seen.length; r++) lines.push(`  rank ${r}${r === rank ? ' (this process)' : ''}: ${describeHeader(seen, r * 4)}`);
  }
  return new CollectiveMismatchError(
    `${call.name}: the ranks made different collective calls at the same point (every rank must call the same collective with the same dtype and shape, in the same order):\n${lines.join('\n')}`,
  );
}

/** Checks a peer or root rank argument. */
export function checkRank(name: string, what: string, value: number, size: number, self: number | null): void {
  if (!Number.isInteger(value) || value < 0 || value >= size) {
    throw new ArgumentError(`${name}: ${what} must be a rank in [0, ${size}), got ${value}`);
  }
  if (self !== null && value === self) throw new ArgumentError(`${name}: ${what} ${value} is this process's own rank; a process cannot send to itself`);
}
