/**
 * Which collected CUDA kernels the NVRTC check compiles, for which architecture, and how
 * far: to PTX (a virtual arch, compute_80: NVRTC's front end and optimizer, no ptxas) or to
 * a cubin (a real arch, sm_80: ptxas too, the runtime's exact path).
 *
 * ptxas takes about 43% of a kernel's NVRTC CPU time (bench/README), and on generated kernels it rejects
 * almost nothing the front end accepts. What only ptxas checks, and where this plan sends
 * it to ptxas:
 * - inline PTX (`asm`) and tensor-core instructions (mma, wgmma, ldmatrix, cp.async):
 *   NVRTC copies the asm text into the PTX unread, so every such kernel builds a cubin;
 * - static shared memory over the 48 KiB a kernel may declare: the shard sums the PTX's
 *   `.shared` declarations (nvrtc-shard.ts) and builds a cubin where it cannot show the
 *   sum fits;
 * - register allocation, spills and everything else of the back end: a deterministic
 *   sample of every kernel family (its constructs, kernelFamily) builds a cubin: the
 *   first few of each family in hash order, then one kernel in `cubinEvery` by hash.
 *
 * A kernel is compiled once per distinct text: the same text rendered for two targets
 * (the sm_80-class dialect and Hopper's agree on all but the wgmma products) compiles for
 * the first target only, unless `allArchs`; a few of each family build a cubin for the
 * later target as well (its own ptxas).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NvrtcJob } from './nvrtc.js';

/** The most static shared memory one kernel may declare (ptxas: "too much shared data", 0xc000 max). */
export const STATIC_SHARED_LIMIT = 48 * 1024;

/** NVRTC's virtual architecture for a real one: sm_80 → compute_80, sm_90a → compute_90a. */
export function virtualArch(arch: string): string {
  if (!/^sm_\d+a?$/.test(arch)) throw new Error(`virtualArch: '${arch}' is not a real CUDA architecture (sm_XX)`);
  return arch.replace(/^sm_/, 'compute_');
}

/** The real architecture of a job's arch (compute_80 → sm_80; sm_80 stays). */
export function realArch(arch: string): string {
  return arch.replace(/^compute_/, 'sm_');
}

/** Constructs that only ptxas reads: inline PTX and the tensor-core instructions written with it. */
const PTXAS_ONLY = /\basm\b|\bw?gmma\b|\bmma\.sync\b|\bldmatrix\b|\bcp\.async\b/;

/** True if the kernel must build a cubin: the front end does not check what it contains. */
export function needsPtxas(source: string): boolean {
  return PTXAS_ONLY.test(source);
}

/** The constructs that decide what the back end does with a kernel, and so its family. */
const FAMILY_FEATURES: readonly [string, RegExp][] = [
  ['static-shared', /(?<!extern\s+)__shared__/],
  ['dynamic-shared', /extern\s+__shared__/],
  ['atomic', /\batomic[A-Z]\w*\(/],
  ['shuffle', /shfl/],
  ['barrier', /__syncthreads\(/],
  ['fence', /__threadfence\(/],
  ['double', /\bdouble\b/],
  ['half', /\b__half\b|\bhalf\b/],
  ['bfloat16', /__nv_bfloat16/],
  ['int64', /\bu?int64_t\b/],
];

/** A kernel's family: its launch bound and the constructs of FAMILY_FEATURES it uses. */
export function kernelFamily(source: string): string {
  const bound = /__launch_bounds__\((\d+)/.exec(source)?.[1] ?? 'unbounded';
  const features = FAMILY_FEATURES.filter(([, pattern]) => pattern.test(source)).map(([name]) => name);
  return [`bounds-${bound}`, ...features].join('+');
}

/** A stable 32-bit hash of a kernel's text, for the sample. */
function sampleHash(source: string): number {
  return createHash('sha256').update(source).digest().readUInt32BE(0);
}

/** One collected kernel: its file and text, and the real arch it was rendered for. */
export interface CollectedKernel {
  file: string;
  source: string;
  arch: string;
}

/**
 * The kernels collect-cuda.ts wrote under `dir` (`<dir>/<arch>/<name>.cu`), for the given
 * real archs in that order, each arch's files by name.
 */
export function readCollected(dir: string, archs: readonly string[]): CollectedKernel[] {
  const kernels: CollectedKernel[] = [];
  for (const arch of archs) {
    const archDir = join(dir, arch);
    if (!existsSync(archDir)) continue;
    for (const name of readdirSync(archDir)
      .filter((f) => f.endsWith('.cu'))
      .sort()) {
      const file = join(archDir, name);
      kernels.push({ file, source: readFileSync(file, 'utf8'), arch });
    }
  }
  return kernels;
}

/** How the collected kernels are checked. */
export interface NvrtcPlanOptions {
  /** Every kernel of a family builds a cubin until this many have (default 8). */
  cubinPerFamily?: number;
  /** Past those, one kernel in this many (by hash) builds a cubin; 1: every kernel does (default 16). */
  cubinEvery?: number;
  /** Compile a text again for every target that rendered it (default false: once, for the first). */
  allArchs?: boolean;
  /**
   * Of the texts a later target rendered exactly as an earlier one, the first this many of
   * each family build a cubin for the later target too: ptxas allocates registers and
   * schedules per arch (default 4).
   */
  otherArchCubinsPerFamily?: number;
}

/** What planNvrtcCheck decided, for the log. */
export interface NvrtcPlan {
  jobs: NvrtcJob[];
  /** Distinct texts (one per kernel after deduplication across targets). */
  distinct: number;
  /** Jobs that build a cubin, by reason. */
  cubin: { ptxasOnly: number; family: number; sampled: number; otherArch: number };
  /** Jobs that stop at PTX. */
  ptx: number;
  families: number;
}

/**
 * Plans the NVRTC check of `kernels` (in collection order: the first target's first):
 * one job per distinct text and target kept, real arch (cubin) or virtual (PTX).
 */
export function planNvrtcCheck(kernels: readonly CollectedKernel[], options: NvrtcPlanOptions = {}): NvrtcPlan {
  const perFamily = options.cubinPerFamily ?? 8;
  const every = options.cubinEvery ?? 16;
  if (!Number.isInteger(every) || every < 1) throw new Error(`planNvrtcCheck: cubinEvery must be an integer ≥ 1, got ${every}`);
  const otherArchPerFamily = options.otherArchCubinsPerFamily ?? 4;
  // The archs each text was collected for; a text's first arch keeps it, the later ones repeat it.
  const archsOf = new Map<string, Set<string>>();
  const kept: { kernel: CollectedKernel; hash: number }[] = [];
  const repeated: { kernel: CollectedKernel; hash: number }[] = [];
  for (const kernel of kernels) {
    const archs = archsOf.get(kernel.source) ?? new Set<string>();
    archsOf.set(kernel.source, archs);
    if (archs.has(kernel.arch)) continue;
    const entry = { kernel, hash: sampleHash(kernel.source) };
    if (archs.size === 0 || options.allArchs) kept.push(entry);
    else repeated.push(entry);
    archs.add(kernel.arch);
  }
  // Hash order, so "the first of a family" does not depend on which test ran first.
  const byHash = (a: { kernel: CollectedKernel; hash: number }, b: { kernel: CollectedKernel; hash: number }) =>
    a.hash - b.hash || (a.kernel.file < b.kernel.file ? -1 : 1);
  const ordered = [...kept].sort(byHash);
  const takenInFamily = new Map<string, number>();
  const plan: NvrtcPlan = {
    jobs: [],
    distinct: new Set(kept.map((k) => k.kernel.source)).size,
    cubin: { ptxasOnly: 0, family: 0, sampled: 0, otherArch: 0 },
    ptx: 0,
    families: 0,
  };
  for (const { kernel, hash } of ordered) {
    const family = `${kernel.arch}/${kernelFamily(kernel.source)}`;
    const taken = takenInFamily.get(family) ?? 0;
    takenInFamily.set(family, taken + 1);
    let cubin = true;
    if (needsPtxas(kernel.source)) plan.cubin.ptxasOnly++;
    else if (taken < perFamily) plan.cubin.family++;
    else if (hash % every === 0) plan.cubin.sampled++;
    else cubin = false;
    if (!cubin) plan.ptx++;
    plan.jobs.push({ file: kernel.file, arch: cubin ? kernel.arch : virtualArch(kernel.arch) });
  }
  plan.families = takenInFamily.size;
  const takenOtherArch = new Map<string, number>();
  for (const { kernel } of repeated.sort(byHash)) {
    const family = `${kernel.arch}/${kernelFamily(kernel.source)}`;
    const taken = takenOtherArch.get(family) ?? 0;
    if (taken >= otherArchPerFamily) continue;
    takenOtherArch.set(family, taken + 1);
    plan.cubin.otherArch++;
    plan.jobs.push({ file: kernel.file, arch: kernel.arch });
  }
  return plan;
}

/**
 * The static shared memory a PTX module declares, in bytes (every `.shared` variable,
 * not the dynamic `.extern .shared` arrays), or undefined if a declaration is not in a
 * form read here. For a module of several kernels it bounds each kernel's own.
 */
export function ptxStaticSharedBytes(ptx: string): number | undefined {
  let total = 0;
  for (const line of ptx.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('.shared')) continue;
    const m = /^\.shared\s+(?:\.align\s+\d+\s+)?\.[bsuf](8|16|32|64)\s+[\w$.]+(?:\[(\d+)\])?\s*(?:=[^;]*)?;/.exec(text);
    if (!m) return undefined;
    total += (Number(m[1]) / 8) * (m[2] === undefined ? 1 : Number(m[2]));
  }
  return total;
}
