/**
 * Compile-only CUDA checks with NVRTC, on machines without a GPU: finding NVRTC (the
 * pip wheel .ci/run installs under .cache/nvrtc, or METALARRAY_NVRTC_LIBRARY), and
 * compiling many kernels in parallel child processes through the addon's
 * cudaCheckCompile, which uses the CUDA runtime's own loader and compile options.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative, nativeLoadError } from '../../src/runtime/native.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** True when a missing NVRTC must fail the run (set by .ci/run), like REQUIRE_MSL_CHECK. */
export const requireNvrtcCheck = process.env.REQUIRE_NVRTC_CHECK === '1';

/** libnvrtc.so.N of the wheel .ci/run installs into .cache/nvrtc, if it is there. */
function wheelLibrary(): string | undefined {
  const base = join(repoRoot, '.cache', 'nvrtc', 'nvidia');
  if (!existsSync(base)) return undefined;
  for (const cu of readdirSync(base).sort().reverse()) {
    const lib = join(base, cu, 'lib');
    if (!existsSync(lib)) continue;
    const name = readdirSync(lib).find((f) => /^libnvrtc\.so\.\d+$/.test(f));
    if (name) return join(lib, name);
  }
  return undefined;
}

// The addon reads METALARRAY_NVRTC_LIBRARY when it first loads NVRTC, so it is set here,
// before any check runs; child processes inherit it.
if (!process.env.METALARRAY_NVRTC_LIBRARY) {
  const lib = wheelLibrary();
  if (lib) process.env.METALARRAY_NVRTC_LIBRARY = lib;
}

/** Why kernels cannot be compiled with NVRTC here, or ''. */
export function nvrtcUnavailableReason(): string {
  const addon = loadNative();
  if (!addon) return `the native addon failed to load: ${nativeLoadError()?.message}`;
  const why = addon.cudaNvrtcProbe();
  return why ? `${why} (.ci/run installs it from the nvidia-cuda-nvrtc wheel into .cache/nvrtc)` : '';
}

/** One kernel to compile: a file holding a rendered kernel (no prelude), and the arch. */
export interface NvrtcJob {
  file: string;
  arch: string;
}

/** What NVRTC said about one job. */
export interface NvrtcJobResult extends NvrtcJob {
  ok: boolean;
  error: string;
  log: string;
}

const SHARD = join(repoRoot, 'test', 'support', 'nvrtc-shard.ts');

/** Compiles one shard of jobs in a child process (NVRTC is loaded once there). */
function runShard(jobs: readonly NvrtcJob[]): Promise<NvrtcJobResult[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SHARD], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`the NVRTC shard exited with ${code}:\n${err}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(out) as NvrtcJobResult[]);
      } catch (e) {
        reject(new Error(`the NVRTC shard printed no results (${(e as Error).message}):\n${out.slice(0, 2000)}\n${err}`));
      }
    });
    child.stdin.end(JSON.stringify(jobs));
  });
}

/** Compiles every job, spread over one child process per core. */
export async function compileAll(jobs: readonly NvrtcJob[], processes = cpus().length): Promise<NvrtcJobResult[]> {
  const n = Math.max(1, Math.min(processes, jobs.length));
  const shards: NvrtcJob[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < jobs.length; i++) shards[i % n].push(jobs[i]);
  const results = await Promise.all(shards.map(runShard));
  return results.flat();
}
