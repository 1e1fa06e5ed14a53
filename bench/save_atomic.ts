/**
 * The cost of atomic saves: writing 64 MB in place (`writeFileSync`, what saves did
 * before) against `writeFileAtomic` (temporary file, fsync, rename, directory fsync),
 * the same bytes, alternating, median of 5 each. Run: `npx tsx bench/save_atomic.ts [dir]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/io/atomic.js';

const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'ma-bench-save-'));
const bytes = new Uint8Array(64 * 1024 * 1024).fill(7);
const file = join(dir, 'x.npy');
const plain: number[] = [];
const atomic: number[] = [];
for (let i = 0; i < 5; i++) {
  let t = performance.now();
  writeFileSync(file, bytes);
  plain.push(performance.now() - t);
  t = performance.now();
  writeFileAtomic(file, bytes);
  atomic.push(performance.now() - t);
}
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`64 MB in place (writeFileSync): median ${median(plain).toFixed(0)} ms [${plain.map((x) => x.toFixed(0)).join(', ')}]`);
console.log(`64 MB atomic (temporary + fsync + rename): median ${median(atomic).toFixed(0)} ms [${atomic.map((x) => x.toFixed(0)).join(', ')}]`);
