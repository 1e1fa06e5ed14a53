/**
 * A child process of compileAll (nvrtc.ts): reads a JSON list of {file, arch} jobs on
 * stdin, compiles each kernel file as the CUDA backend would (its prelude, then the
 * kernel; the runtime's NVRTC options) and prints the results as one JSON array.
 */
import { readFileSync } from 'node:fs';
import { cudaProgramText } from '../../src/runtime/cuda/backend.js';
import { loadNative, nativeLoadError } from '../../src/runtime/native.js';
import type { NvrtcJob, NvrtcJobResult } from './nvrtc.js';

const addon = loadNative();
if (!addon) throw new Error(`the native addon failed to load: ${nativeLoadError()?.message}`);
const jobs = JSON.parse(readFileSync(0, 'utf8')) as NvrtcJob[];
const results: NvrtcJobResult[] = jobs.map((job) => {
  const name = (job.file.split('/').pop() ?? job.file).replace(/\.cu$/, '');
  const r = addon.cudaCheckCompile(name, cudaProgramText(readFileSync(job.file, 'utf8')), job.arch);
  // A compiled kernel's warnings are not failures; keep the output small.
  return { ...job, ok: r.ok, error: r.error, log: r.ok ? '' : r.log };
});
process.stdout.write(JSON.stringify(results));
