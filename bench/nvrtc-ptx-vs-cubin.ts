/**
 * NVRTC's CPU time for the same batches of collected CUDA kernels compiled to PTX (a virtual
 * arch, no ptxas) and to a cubin (ptxas too), interleaved so a loaded machine weighs on both
 * alike. What the collected NVRTC check (test/support/nvrtc-plan.ts) saves per PTX job.
 *
 * Usage: `npx tsx bench/nvrtc-ptx-vs-cubin.ts <dir collected with MA_COLLECT_CUDA> [batches]`
 * (NVRTC from .cache/nvrtc, as .ci/run installs it, or METALARRAY_NVRTC_LIBRARY).
 */
import { loadNative } from '../src/runtime/native.js';
import { nvrtcUnavailableReason } from '../test/support/nvrtc.js';
import { batchProgramText } from '../test/support/nvrtc-batch.js';
import { readCollected } from '../test/support/nvrtc-plan.js';

const [dir, batchesArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: npx tsx bench/nvrtc-ptx-vs-cubin.ts <collected dir> [batches]');
const why = nvrtcUnavailableReason();
if (why) throw new Error(why);
const addon = loadNative();
if (!addon) throw new Error('the native addon failed to load');
const kernels = readCollected(dir, ['sm_80']);
const batches = Number(batchesArg ?? '6');
const stride = 97;
let ptx = 0;
let cubin = 0;
let count = 0;
for (let b = 0; b < batches; b++) {
  // Every 97th kernel from an offset per batch: a spread of sizes and kinds.
  const sources = kernels
    .filter((_, i) => i % stride === (b * 7) % stride)
    .slice(0, 64)
    .map((k) => k.source);
  count += sources.length;
  for (const arch of b % 2 ? ['sm_80', 'compute_80'] : ['compute_80', 'sm_80']) {
    const before = process.cpuUsage();
    const r = addon.cudaCheckCompile(`batch${b}`, batchProgramText(sources), arch);
    const used = process.cpuUsage(before);
    const seconds = (used.user + used.system) / 1e6;
    if (!r.ok) throw new Error(`batch ${b} failed for ${arch}: ${r.log}`);
    if (arch === 'sm_80') cubin += seconds;
    else ptx += seconds;
    console.log(`batch ${b} ${arch}: ${seconds.toFixed(2)} s CPU`);
  }
}
console.log(`${count} kernels: PTX ${ptx.toFixed(1)} s CPU, cubin ${cubin.toFixed(1)} s CPU, ratio ${(ptx / cubin).toFixed(2)}`);
