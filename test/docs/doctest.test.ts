/**
 * Doc tests: every ```ts block of README.md and docs/*.md runs, each in its own Node
 * process (tsx, against src/), and every printed result a block shows in a comment
 * (`console.log(x); // array([1, 2])`) is compared with what it prints. Blocks fenced
 * ```ts no-run <reason> are counted and listed, not run. Conventions: docs/README.md.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocks, instrument, markdownFiles, noRunReason } from './markdown.js';

const root = resolve(import.meta.dirname, '../..');
const entry = join(root, 'src/index.ts');
const runner = join(root, 'test/docs/run-block.mts');
// tsx's loader by path: blocks run in a scratch folder, where the package would not resolve.
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const workDir = mkdtempSync(join(tmpdir(), 'metalarray-doctest-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const run = promisify(execFile);
// A block may compile a few kernels cold (seconds each at -O3 on a loaded machine).
const BLOCK_TIMEOUT_MS = 180_000;

const files = markdownFiles(root);
const blocks: CodeBlock[] = files.flatMap((file) => codeBlocks(root, file));
const notRun = blocks.flatMap((b) => {
  const reason = noRunReason(b);
  return reason === undefined ? [] : [{ where: `${b.file}:${b.line}`, reason }];
});

describe('doc tests: ts blocks of README.md and docs/*.md', () => {
  it('finds the blocks, and every no-run block says why', () => {
    expect(blocks.length).toBeGreaterThan(10);
    // The count and list of blocks that do not run here, for the test log.
    console.info(
      `doc tests: ${blocks.length} ts blocks, ${blocks.length - notRun.length} run, ${notRun.length} not run:\n` +
        notRun.map((n) => `  ${n.where}: ${n.reason}`).join('\n'),
    );
  });

  let index = 0;
  for (const block of blocks) {
    if (noRunReason(block) !== undefined) continue;
    const name = `${block.file}:${block.line}`;
    const id = index++;
    it(`runs ${name} and prints what it shows`, { timeout: BLOCK_TIMEOUT_MS + 10_000 }, async () => {
      const { source, expectations } = instrument(block, entry);
      const blockPath = join(workDir, `block-${id}.mts`);
      const resultPath = join(workDir, `block-${id}.json`);
      writeFileSync(blockPath, source);
      try {
        await run(process.execPath, ['--import', tsxLoader, runner, blockPath, resultPath], {
          cwd: workDir,
          // The examples show the cpu backend's output (a plan says 'plan on cpu').
          env: { ...process.env, METALARRAY_BACKEND: 'cpu' },
          timeout: BLOCK_TIMEOUT_MS,
          maxBuffer: 16 * 2 ** 20,
        });
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string };
        throw new Error(`${name}: the block failed:\n${e.stderr || e.message}\n--- block as run ---\n${source}`);
      }
      const printed = JSON.parse(readFileSync(resultPath, 'utf8')) as (string | null)[];
      for (const [k, want] of expectations.entries()) {
        const where = `${block.file}:${want.line}`;
        expect(printed[k], `${where}: the console.log never ran`).not.toBeNull();
        expect(printed[k], `${where}: printed result differs from the comment`).toBe(want.expected);
      }
    });
  }
});
