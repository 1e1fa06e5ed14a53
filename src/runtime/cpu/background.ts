/**
 * Detached background processes of the cpu backend's compile (the -O3 rebuilds, the
 * precompiled prelude), started soon rather than at once.
 *
 * Starting a process costs its caller 30-60 ms on a loaded machine (Node forks the whole
 * process, then waits for the child's exec), and a compile's background build would pay
 * it on the first evaluation's critical path. So a start is queued and happens at the
 * next turn of the event loop, at the first run at least START_DELAY_MS later (a
 * synchronous loop never turns the loop; CpuBackend.pollFullBuilds calls
 * startQueuedProcesses), or at process exit, whichever comes first.
 */
import { type SpawnOptions, spawn } from 'node:child_process';

/** How long a queued start waits for the event loop before a run starts it. */
export const START_DELAY_MS = 50;

/** What to start: made when the start comes, so costly preparation is off the critical path too. */
export interface ProcessRequest {
  command: string;
  args: readonly string[];
  options: SpawnOptions;
}

interface QueuedStart {
  /** The process to start, or null if it is no longer wanted (then onFailure runs). */
  prepare: () => ProcessRequest | null;
  /** Killed at exit with its process group (it writes into a private cache directory). */
  private: boolean;
  /** Called if the process could not start. */
  onFailure: () => void;
  queuedAt: number;
}

const queue: QueuedStart[] = [];
/** Started processes that write into a private directory (killed at exit). */
const privateChildren = new Set<number>();
let immediateScheduled = false;
let exitHookInstalled = false;

/** Kills the private children's process groups (the compiler each started too). */
export function stopPrivateChildren(): void {
  queue.length = 0; // their output directory is going away: nothing left to start
  for (const pid of privateChildren) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function start(job: QueuedStart): void {
  try {
    const request = job.prepare();
    if (request === null) {
      job.onFailure();
      return;
    }
    const child = spawn(request.command, request.args, { ...request.options, detached: true, stdio: 'ignore' });
    child.on('error', job.onFailure);
    child.unref();
    if (job.private && child.pid !== undefined) {
      const pid = child.pid;
      privateChildren.add(pid);
      child.once('exit', () => privateChildren.delete(pid));
    }
  } catch {
    job.onFailure();
  }
}

/** Starts the queued processes: all of them, or (`dueOnly`) those queued START_DELAY_MS ago. */
export function startQueuedProcesses(dueOnly: boolean): void {
  if (queue.length === 0) return;
  const now = performance.now();
  while (queue.length > 0 && (!dueOnly || now - queue[0].queuedAt >= START_DELAY_MS)) start(queue.shift() as QueuedStart);
}

/** Whether processes are queued (CpuBackend keeps polling while they are). */
export function processesQueued(): boolean {
  return queue.length > 0;
}

/**
 * Queues a detached process (stdio ignored), started as the module comment says.
 * `onFailure` runs if it cannot start or `prepare` gives null (the caller keeps its
 * first-tier result).
 */
export function startSoon(prepare: () => ProcessRequest | null, isPrivate: boolean, onFailure: () => void): void {
  queue.push({ prepare, private: isPrivate, onFailure, queuedAt: performance.now() });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A process that ends before its builds started still leaves them to complete the
    // cache (not for a private directory: its children die with it).
    process.once('exit', () => {
      for (const job of queue.splice(0)) if (!job.private) start(job);
    });
  }
  if (!immediateScheduled) {
    immediateScheduled = true;
    setImmediate(() => {
      immediateScheduled = false;
      startQueuedProcesses(false);
    }).unref();
  }
}
