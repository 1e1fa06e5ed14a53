/**
 * Doc tests: every ```ts block of README.md and docs/*.md runs (tsx, against src/; all in one
 * runner process, each checked on its own, see run-snippet.ts; ```ts fresh <reason> blocks
 * in a process of their own), and every printed result a block shows in a comment
 * (`console.log(x); // array([1, 2])`) is compared with what it prints. Blocks fenced
 * ```ts no-run <reason> are counted and listed, not run. Conventions: docs/README.md.
 */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocks, markdownFiles, noRunReason } from './markdown.js';
import { runSnippets, type SnippetResult } from './run-snippet.js';

const root = resolve(import.meta.dirname, '../..');

const files = markdownFiles(root);
const blocks: CodeBlock[] = files.flatMap((file) => codeBlocks(root, file));
const notRun = blocks.flatMap((b) => {
  const reason = noRunReason(b);
  return reason === undefined ? [] : [{ where: `${b.file}:${b.line}`, reason }];
});

const runnable = blocks.filter((b) => noRunReason(b) === undefined);

describe('doc tests: ts blocks of README.md and docs/*.md', () => {
  const results = new Map<CodeBlock, SnippetResult>();
  beforeAll(async () => {
    // Every block in one runner process: cold kernel compiles can take minutes in all.
    const all = await runSnippets(runnable);
    for (const [k, block] of runnable.entries()) results.set(block, all[k]);
  }, 1_800_000);

  it('finds the blocks, and every no-run block says why', () => {
    expect(blocks.length).toBeGreaterThan(10);
    // The count and list of blocks that do not run here, for the test log.
    console.info(
      `doc tests: ${blocks.length} ts blocks, ${blocks.length - notRun.length} run, ${notRun.length} not run:\n` +
        notRun.map((n) => `  ${n.where}: ${n.reason}`).join('\n'),
    );
  });

  for (const block of runnable) {
    const name = `${block.file}:${block.line}`;
    it(`runs ${name} and prints what it shows`, () => {
      const result = results.get(block);
      if (result === undefined) throw new Error(`${name}: no result from the snippet runner`);
      const { failure, printed, expectations } = result;
      if (failure !== undefined) throw new Error(`${name}: the block failed:\n${failure}`);
      for (const [k, want] of expectations.entries()) {
        const where = `${block.file}:${want.line}`;
        expect(printed[k], `${where}: the console.log never ran`).not.toBeNull();
        expect(printed[k], `${where}: printed result differs from the comment`).toBe(want.expected);
      }
    });
  }
});
