/**
 * Runs one documentation snippet (a markdown block or a TSDoc `@example`) in its own Node
 * process, through tsx against src/, on the cpu backend, and returns what its checked
 * `console.log(...) // shown` lines printed (see markdown.ts `instrument`).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type CodeBlock, type Expectation, instrument } from './markdown.js';

const root = resolve(import.meta.dirname, '../..');
const entry = join(root, 'src/index.ts');
const runner = join(root, 'test/docs/run-block.mts');
// tsx's loader by path, whatever folder the snippet runs in.
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const run = promisify(execFile);

/** A snippet may compile a few kernels cold (seconds each at -O3 on a loaded machine). */
export const SNIPPET_TIMEOUT_MS = 180_000;

export interface SnippetResult {
  /** Undefined when the snippet ran to the end; otherwise its stderr and the source as run. */
  failure?: string;
  /** What each checked `console.log` printed (null: it never ran), in order. */
  printed: (string | null)[];
  expectations: Expectation[];
}

/** Runs `block` in a fresh process; never throws for a failing snippet (see `failure`). */
export async function runSnippet(block: CodeBlock): Promise<SnippetResult> {
  const { source, expectations } = instrument(block, entry);
  // A scratch folder under node_modules/.cache, so a snippet's own imports ('ndarray',
  // 'node:fs') resolve as they would in a project that depends on metalarray.
  const scratch = join(root, 'node_modules/.cache');
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'metalarray-doc-'));
  try {
    const blockPath = join(dir, 'block.mts');
    const resultPath = join(dir, 'printed.json');
    writeFileSync(blockPath, source);
    let failure: string | undefined;
    try {
      await run(process.execPath, ['--import', tsxLoader, runner, blockPath, resultPath], {
        cwd: dir,
        // The examples show the cpu backend's output (a plan says 'plan on cpu').
        env: { ...process.env, METALARRAY_BACKEND: 'cpu' },
        timeout: SNIPPET_TIMEOUT_MS,
        maxBuffer: 16 * 2 ** 20,
      });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      failure = `${e.stderr || e.message}\n--- as run ---\n${source}`;
    }
    let printed: (string | null)[] = [];
    try {
      printed = JSON.parse(readFileSync(resultPath, 'utf8')) as (string | null)[];
    } catch {
      // The process died before the runner could write what was printed.
    }
    return { failure, printed, expectations };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
