/**
 * Runs documentation snippets (markdown blocks and TSDoc `@example`s) through tsx against
 * src/, on the cpu backend, and returns what each one's checked `console.log(...) // shown`
 * lines printed (see markdown.ts `instrument`).
 *
 * Many snippets share ONE runner process (run-snippets.mts), imported one after another:
 * starting Node, tsx and src/ once instead of once per snippet is most of the doc tests'
 * time. Each snippet is still checked on its own: its printed results, console output and
 * error are kept separately; one that throws is reported and the next still runs; one that
 * hangs past `snippetTimeoutMs` or crashes the process is reported by its file:line, and a
 * new runner goes on with the snippets after it. A block fenced ```ts fresh <reason> (one
 * that changes process-wide state: the backend, the environment) runs in a process of its own.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CodeBlock, type Expectation, instrument } from './markdown.js';

const root = resolve(import.meta.dirname, '../..');
const entry = join(root, 'src/index.ts');
const runner = join(root, 'test/docs/run-snippets.mts');
// tsx's loader by path, whatever folder the snippets run in.
const tsxLoader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;

/** A snippet may compile a few kernels cold (seconds each at -O3 on a loaded machine). */
export const SNIPPET_TIMEOUT_MS = 180_000;

export interface SnippetResult {
  /** Where the snippet comes from (`file:line`), as failures name it. */
  where: string;
  /** Undefined when the snippet ran to the end; otherwise what went wrong and the source as run. */
  failure?: string;
  /** What each checked `console.log` printed (null: it never ran), in order. */
  printed: (string | null)[];
  expectations: Expectation[];
  /** Everything the snippet wrote to the console. */
  output: string;
}

/** Whether a block is fenced ```ts fresh <reason>: it runs in a process of its own. */
export function runsFresh(block: CodeBlock): boolean {
  return /^\S+\s+fresh\b/.test(block.info);
}

type RunnerMessage = { kind: 'start'; index: number } | { kind: 'done'; index: number; printed: (string | null)[]; output: string; error: string | undefined };

/**
 * Runs every block and returns one result per block, in order: the ```ts fresh blocks each in
 * a process of its own, all others in one shared runner process. Never throws for a failing
 * snippet (see `failure`).
 */
export async function runSnippets(blocks: readonly CodeBlock[], options: { snippetTimeoutMs?: number } = {}): Promise<SnippetResult[]> {
  const results: SnippetResult[] = new Array(blocks.length);
  const shared = blocks.flatMap((b, i) => (runsFresh(b) ? [] : [i]));
  const sharedResults = await runInOneProcess(
    shared.map((i) => blocks[i]),
    options,
  );
  for (const [k, i] of shared.entries()) results[i] = sharedResults[k];
  for (const [i, b] of blocks.entries()) if (runsFresh(b)) [results[i]] = await runInOneProcess([b], options);
  return results;
}

/** Runs `block` in a process of its own. */
export async function runSnippet(block: CodeBlock, options: { snippetTimeoutMs?: number } = {}): Promise<SnippetResult> {
  const [result] = await runInOneProcess([block], options);
  return result;
}

async function runInOneProcess(blocks: readonly CodeBlock[], options: { snippetTimeoutMs?: number }): Promise<SnippetResult[]> {
  const timeoutMs = options.snippetTimeoutMs ?? SNIPPET_TIMEOUT_MS;
  // A scratch folder under node_modules/.cache, so a snippet's own imports ('ndarray',
  // 'node:fs') resolve as they would in a project that depends on metalarray.
  const scratch = join(root, 'node_modules/.cache');
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'metalarray-doc-'));
  try {
    const instrumented = blocks.map((block) => instrument(block, entry));
    const paths = instrumented.map(({ source }, k) => {
      const path = join(dir, `snippet-${k}.mts`);
      writeFileSync(path, source);
      return path;
    });
    const results: SnippetResult[] = blocks.map((block, k) => ({
      where: `${block.file}:${block.line}`,
      failure: 'never ran',
      printed: [],
      expectations: instrumented[k].expectations,
      output: '',
    }));
    const asRun = (k: number): string => `\n--- as run ---\n${instrumented[k].source}`;
    let first = 0;
    while (first < blocks.length) {
      const outcome = await runFrom(first, paths, dir, timeoutMs, (m) => {
        const r = results[m.index];
        r.printed = m.printed;
        r.output = m.output;
        r.failure = m.error === undefined ? undefined : `${m.error}${m.output ? `\n--- console ---\n${m.output}` : ''}${asRun(m.index)}`;
      });
      if (outcome.inProgress === undefined) {
        // The runner ended between snippets: a crash at start-up (every remaining snippet
        // fails with its stderr), or the normal end (every snippet reported).
        for (let k = outcome.next; k < blocks.length; k++) results[k].failure = `the snippet runner exited before running it:\n${outcome.why}`;
        break;
      }
      const k = outcome.inProgress;
      results[k].failure = `${outcome.why}${asRun(k)}`;
      first = k + 1;
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One runner process over `paths[first..]`. Resolves when it exits: `inProgress` is the snippet
 * that was running when it died or hung (killed after `timeoutMs`), `next` the first not started.
 */
function runFrom(
  first: number,
  paths: readonly string[],
  cwd: string,
  timeoutMs: number,
  onDone: (message: Extract<RunnerMessage, { kind: 'done' }>) => void,
): Promise<{ inProgress: number | undefined; next: number; why: string }> {
  return new Promise((resolvePromise) => {
    const child: ChildProcess = fork(runner, paths, {
      cwd,
      execArgv: ['--import', tsxLoader],
      // The examples show the cpu backend's output (a plan says 'plan on cpu').
      env: { ...process.env, METALARRAY_BACKEND: 'cpu', DOC_SNIPPET_FIRST: String(first), DOC_SNIPPET_PRELOAD: entry },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stderr = '';
    const keepTail = (chunk: Buffer): void => {
      stderr = (stderr + chunk.toString()).slice(-16_384);
    };
    child.stdout?.on('data', keepTail);
    child.stderr?.on('data', keepTail);
    let inProgress: number | undefined;
    let next = first;
    let timedOut = false;
    const kill = (): void => {
      timedOut = true;
      child.kill('SIGKILL');
    };
    // Start-up (Node, tsx, loading src/) has the default snippet time or more.
    let timer: NodeJS.Timeout | undefined = setTimeout(kill, Math.max(timeoutMs, SNIPPET_TIMEOUT_MS));
    child.on('message', (message: RunnerMessage) => {
      clearTimeout(timer);
      if (message.kind === 'start') {
        inProgress = message.index;
        next = message.index + 1;
        timer = setTimeout(kill, timeoutMs);
      } else {
        inProgress = undefined;
        onDone(message);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const how = timedOut ? `timed out after ${timeoutMs} ms (the runner was killed)` : `the runner process exited (code ${code}, signal ${signal})`;
      const why = inProgress === undefined && next === paths.length && code === 0 ? 'finished' : `${how}${stderr ? `\n--- runner stderr ---\n${stderr}` : ''}`;
      resolvePromise({ inProgress, next, why });
    });
  });
}
