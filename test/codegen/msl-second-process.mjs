// The macOS job's disk-cache check (.github/workflows/ci.yml): run twice on one
// METALARRAY_CACHE_DIR, PASS=first then PASS=second; the second process must compile no
// kernel (metallibs from the offline compiler, pipelines from the binary archive). It
// also checks on the GPU a sort of 2^17 keys (ordered passes: tiles, then merges over
// many threadgroups) and a scatter-add with a repeated index (two passes).
// Usage: METALARRAY_CACHE_DIR=$(mktemp -d) PASS=first node test/codegen/msl-second-process.mjs
const ma = await import(process.env.MA_ENTRY ?? '../../dist/index.js');
// A sort of 2^17 keys (ordered passes: tiles, then merges over many threadgroups), a scatter, an exp sum.
const x = ma.arange(131072).astype('float32').multiply(0.75).sin();
const sorted = ma.sort(x);
const scattered = x.at(ma.array([5, 2, 5], 'int32')).add(ma.array([1, 2, 3], 'float32'));
const total = ma.sum(x.exp());
ma.eval(sorted, scattered, total);
const s = sorted.toTypedArray();
for (let i = 1; i < s.length; i++) if (!(s[i - 1] <= s[i])) throw new Error(`sort out of order at ${i}`);
const xs = x.toTypedArray();
const sc = scattered.toTypedArray();
if (sc[5] !== Math.fround(Math.fround(xs[5] + 1) + 3) || sc[2] !== Math.fround(xs[2] + 2)) throw new Error('scatter-add wrong');
const m = ma.metrics();
console.log(process.env.PASS, 'kernels compiled:', m.kernelsCompiled, 'cache hits:', m.kernelCacheHits);
if (process.env.PASS === 'second' && m.kernelsCompiled !== 0) throw new Error(`the second process compiled ${m.kernelsCompiled} kernel(s)`);
