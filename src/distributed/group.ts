/**
 * `init` and `Group`: which engine a process uses and the group of processes it talks to.
 * Without a launcher (no mpirun, no metalarray-launch) the group has size 1 and every
 * collective is the identity, so the same script runs alone.
 */
import { checkArgCount, checkOptions } from '../core/arguments.js';
import { ArgumentError, BackendUnavailableError } from '../errors.js';
import type { Engine, EngineCall } from './engine.js';
import { openMpi } from './mpi-engine.js';
import { openNccl } from './nccl-engine.js';

/** The engines `init` can pick. */
export type DistributedBackend = 'mpi' | 'nccl' | 'auto';

/** Options of {@link init}. */
export interface InitOptions {
  /**
   * `'mpi'` (Open MPI, host buffers), `'nccl'` (NVIDIA GPUs, the cuda backend) or `'auto'`
   * (default): NCCL under `metalarray-launch` with the cuda backend, MPI under `mpirun`,
   * else a group of size 1.
   */
  backend?: DistributedBackend;
  /**
   * Throw `BackendUnavailableError` when no engine can start, instead of returning a
   * group of size 1 (default false). Under a launcher of more than one process the
   * error is thrown either way: two size-1 groups would silently compute different things.
   */
  strict?: boolean;
  /**
   * How long a collective waits for its peers before `CollectiveTimeoutError`, in ms
   * (default: `METALARRAY_DISTRIBUTED_TIMEOUT_MS`, else 300000).
   */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 300_000;

/** The size-1 engine: every collective is the identity. */
const localEngine: Engine = {
  name: 'local',
  rank: 0,
  size: 1,
  run(call: EngineCall) {
    // Collectives on one process return their input; send and recv have no peer (the
    // rank checks reject them before they get here).
    return call.input;
  },
  split() {
    return localEngine;
  },
};

/**
 * A set of processes that run collectives together: this process's `rank` in it and its
 * `size`. Make one with {@link init}; `split` makes sub-groups.
 */
export class Group {
  /** @internal The engine that moves this group's data. */
  readonly engine: Engine;

  /** @internal */
  constructor(engine: Engine) {
    this.engine = engine;
  }

  /** This process's rank in the group, 0..size-1. */
  get rank(): number {
    return this.engine.rank;
  }

  /** The number of processes in the group. */
  get size(): number {
    return this.engine.size;
  }

  /** The engine: `'mpi'`, `'nccl'` or `'local'` (size 1, no engine). */
  get backend(): 'mpi' | 'nccl' | 'local' {
    return this.engine.name;
  }

  /**
   * Splits the group: processes passing the same `color` (an integer ≥ 0) form a new
   * group, ranked by `key` (default: their rank here), ties by rank. Every process of the
   * group must call it (it is a collective).
   *
   * @example
   * ```ts
   * import * as ma from 'metalarray';
   * const world = ma.distributed.init();
   * const pairs = world.split(Math.floor(world.rank / 2)); // ranks {0,1}, {2,3}, ...
   * console.log(pairs.size <= 2); // true
   * ```
   */
  split(color: number, key?: number): Group {
    checkArgCount('Group.split', arguments.length, 2, 'group.split(color, key?)');
    if (!Number.isInteger(color) || color < 0 || color > 0x7fffffff)
      throw new ArgumentError(`Group.split: color must be an integer in [0, 2^31), got ${color}`);
    const k = key ?? this.rank;
    if (!Number.isInteger(k) || Math.abs(k) > 0x7fffffff) throw new ArgumentError(`Group.split: key must be a 32-bit integer, got ${key}`);
    return new Group(this.engine.split(color, k));
  }
}

let world: Group | null = null;

/** The number of processes the launcher started (1 when none). */
function launchedSize(): number {
  const size = Number(process.env.OMPI_COMM_WORLD_SIZE ?? process.env.PMIX_SIZE ?? process.env.METALARRAY_WORLD_SIZE ?? '1');
  return Number.isInteger(size) && size > 0 ? size : 1;
}

function underMpirun(): boolean {
  return process.env.OMPI_COMM_WORLD_SIZE !== undefined || process.env.PMIX_RANK !== undefined;
}

function timeoutFrom(options: InitOptions): number {
  const env = process.env.METALARRAY_DISTRIBUTED_TIMEOUT_MS;
  const t = options.timeoutMs ?? (env !== undefined && env !== '' ? Number(env) : DEFAULT_TIMEOUT_MS);
  if (!(t > 0)) throw new ArgumentError(`distributed.init: timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs ?? env}`);
  return t;
}

/**
 * Starts (once per process) the engine the launcher set up and returns the group of all
 * processes. Later calls return the same group. Without a launcher it returns a group of
 * size 1 whose collectives are identities.
 *
 * @example
 * ```ts
 * import * as ma from 'metalarray';
 * const group = ma.distributed.init(); // run alone: size 1
 * console.log(group.rank, group.size); // 0 1
 * ```
 */
export function init(options: InitOptions = {}): Group {
  checkArgCount('distributed.init', arguments.length, 1, "distributed.init({ backend: 'auto' })");
  const opts = checkOptions('distributed.init', options, ['backend', 'strict', 'timeoutMs']);
  const backend = opts.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'mpi' && backend !== 'nccl') {
    throw new ArgumentError(`distributed.init: backend must be 'mpi', 'nccl' or 'auto', got ${String(backend)}`);
  }
  const timeoutMs = timeoutFrom(opts);
  if (world !== null) {
    if (backend !== 'auto' && world.backend !== backend && world.backend !== 'local') {
      throw new ArgumentError(`distributed.init: already initialized with ${world.backend}; a process uses one engine`);
    }
    return world;
  }
  const launched = launchedSize();
  const want = backend === 'auto' ? (process.env.METALARRAY_WORLD_SIZE !== undefined && !underMpirun() ? 'nccl' : underMpirun() ? 'mpi' : null) : backend;
  if (want === null) {
    world = new Group(localEngine);
    return world;
  }
  try {
    world = new Group(want === 'mpi' ? openMpi(timeoutMs) : openNccl(timeoutMs));
  } catch (err) {
    if (!(err instanceof BackendUnavailableError) || opts.strict === true || launched > 1) throw err;
    world = new Group(localEngine);
  }
  return world;
}

/** The group collectives use when none is passed: init()'s (initializing if needed). */
export function defaultGroup(): Group {
  return world ?? init();
}
