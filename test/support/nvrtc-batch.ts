/**
 * Grouping rendered CUDA kernels many to one NVRTC program for the compile-only check
 * (nvrtc-shard.ts). NVRTC's start-up and the prelude cost about as much as a small
 * kernel, so one program per kernel (the runtime's way) doubles the check's time.
 *
 * Batching must never let a kernel pass that would fail alone. So only a kernel that is
 * exactly one `extern "C" __global__` definition (nothing else at file scope, no
 * preprocessor line that could leak into the next kernel) joins a batch; kernels whose
 * dynamic shared arrays (`extern __shared__`, one symbol per program) differ never share
 * one; names are unique within a batch. Everything else compiles alone.
 */
import { cudaProgramText } from '../../src/runtime/cuda/backend.js';
import type { NvrtcJob } from './nvrtc.js';

const HEAD = /^extern "C" __global__ void (?:__launch_bounds__\([^)]*\) )?(\w+)\(/;

/**
 * Where the first top-level brace block of `text` closes (the index after its `}`),
 * skipping string and character literals and comments; -1 if it never closes.
 */
function endOfFirstBlock(text: string): number {
  let depth = 0;
  let opened = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === '{') {
      depth++;
      opened = true;
    } else if (c === '}') {
      depth--;
      if (opened && depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * The kernel's name if `source` is one self-contained `extern "C" __global__` definition
 * that may share a program with others, else undefined.
 */
export function batchableKernelName(source: string): string | undefined {
  const text = source.trim();
  const head = HEAD.exec(text);
  if (!head) return undefined;
  if (/^\s*#/m.test(text)) return undefined;
  const end = endOfFirstBlock(text);
  if (end !== text.length) return undefined;
  return head[1];
}

/** The kernel's dynamic shared arrays (`extern __shared__` declarations), as one key. */
function dynamicSharedKey(source: string): string {
  const decls = source.match(/extern\s+__shared__[^;]*;/g) ?? [];
  return [...new Set(decls.map((d) => d.replace(/\s+/g, ' ')))].sort().join('\n');
}

/**
 * Splits jobs (with their sources, by index) into batches of at most `size` indices:
 * one NVRTC program each. Kernels that cannot share a program get a batch of one.
 */
export function planBatches(jobs: readonly NvrtcJob[], sources: readonly string[], size: number): number[][] {
  const batches: number[][] = [];
  const open = new Map<string, { indices: number[]; names: Set<string> }>();
  for (let i = 0; i < jobs.length; i++) {
    const name = batchableKernelName(sources[i]);
    if (name === undefined || size <= 1) {
      batches.push([i]);
      continue;
    }
    const key = `${jobs[i].arch}\n${dynamicSharedKey(sources[i])}`;
    let group = open.get(key);
    if (group?.names.has(name)) {
      batches.push([i]);
      continue;
    }
    if (!group) {
      group = { indices: [], names: new Set() };
      open.set(key, group);
    }
    group.indices.push(i);
    group.names.add(name);
    if (group.indices.length >= size) {
      batches.push(group.indices);
      open.delete(key);
    }
  }
  for (const group of open.values()) batches.push(group.indices);
  return batches;
}

/** The NVRTC program of a batch: the prelude once, then every kernel. */
export function batchProgramText(kernelSources: readonly string[]): string {
  return cudaProgramText(kernelSources.join('\n'));
}
