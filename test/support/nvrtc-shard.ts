/**
 * A child process of compileAll (nvrtc.ts): reads a JSON list of {file, arch} jobs on
 * stdin, compiles the kernels as the CUDA backend would (its prelude, then the kernel;
 * the runtime's NVRTC options) and prints the results as one JSON array.
 *
 * A job for a virtual arch (compute_80) stops at PTX (nvrtc-plan.ts says which). ptxas
 * would reject a kernel that declares more than 48 KiB of static shared memory; the PTX
 * shows what it declares, so where the sum is over (or not readable) the kernel builds a
 * cubin for the real arch alone and ptxas judges it.
 *
 * Kernels are compiled many to one NVRTC program (planBatches, nvrtc-batch.ts): the
 * prelude and NVRTC's start-up are paid once per batch instead of once per kernel. A
 * batch that fails is compiled again one kernel per program, exactly as the runtime
 * compiles, so a failure names its kernel and a kernel is only ever judged on its own.
 */
import { readFileSync } from 'node:fs';
import { cudaProgramText } from '../../src/runtime/cuda/backend.js';
import { loadNative, nativeLoadError } from '../../src/runtime/native.js';
import type { NvrtcJob, NvrtcJobResult } from './nvrtc.js';
import { batchProgramText, planBatches } from './nvrtc-batch.js';
import { ptxStaticSharedBytes, realArch, STATIC_SHARED_LIMIT } from './nvrtc-plan.js';

const addon = loadNative();
if (!addon) throw new Error(`the native addon failed to load: ${nativeLoadError()?.message}`);
const jobs = JSON.parse(readFileSync(0, 'utf8')) as NvrtcJob[];
const batchSize = Number(process.env.MA_NVRTC_BATCH ?? '64');

const kernelName = (job: NvrtcJob): string => (job.file.split('/').pop() ?? job.file).replace(/\.cu$/, '');

/** True if PTX (of one kernel or a batch) declares static shared memory that ptxas would surely accept. */
function sharedFits(ptx: string): boolean {
  const bytes = ptxStaticSharedBytes(ptx);
  return bytes !== undefined && bytes <= STATIC_SHARED_LIMIT;
}

/** One kernel in its own program, as the runtime compiles it. A compiled kernel's warnings are not failures. */
function compileAlone(job: NvrtcJob, source: string): NvrtcJobResult {
  const r = addon?.cudaCheckCompile(kernelName(job), cudaProgramText(source), job.arch);
  if (!r) throw new Error('the native addon is gone');
  if (r.ok && r.ptx !== '' && !sharedFits(r.ptx)) return compileAlone({ ...job, arch: realArch(job.arch) }, source);
  return { ...job, ok: r.ok, error: r.error, log: r.ok ? '' : r.log };
}

const sources = jobs.map((job) => readFileSync(job.file, 'utf8'));
const results: NvrtcJobResult[] = new Array(jobs.length);
for (const batch of planBatches(jobs, sources, batchSize)) {
  if (batch.length > 1) {
    const first = jobs[batch[0]];
    const r = addon.cudaCheckCompile(`${kernelName(first)}-batch`, batchProgramText(batch.map((i) => sources[i])), first.arch);
    if (r.ok && (r.ptx === '' || sharedFits(r.ptx))) {
      for (const i of batch) results[i] = { ...jobs[i], ok: true, error: '', log: '' };
      continue;
    }
  }
  for (const i of batch) results[i] = compileAlone(jobs[i], sources[i]);
}
process.stdout.write(JSON.stringify(results));
