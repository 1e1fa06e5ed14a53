// The doc-snippet runner: one Node process (started by run-snippet.ts with tsx's loader and
// an IPC channel) that imports many instrumented snippets one after another, so src/ is
// loaded and transpiled once instead of once per snippet. For each snippet it sends
// `{ kind: 'start', index }`, then `{ kind: 'done', index, printed, output, error }`:
// what its checked `console.log(...) // shown` lines printed, all console output it wrote
// (kept per snippet), and the error it threw, if any. A snippet that throws is reported and
// the runner goes on with the next; a hang or a crash is handled by the parent, which
// knows from the last 'start' which snippet was in progress.
import { format } from 'node:util';
import { pathToFileURL } from 'node:url';

type Printed = (string | null)[];
type Message = { kind: 'start'; index: number } | { kind: 'done'; index: number; printed: Printed; output: string; error: string | undefined };

const send = (message: Message): Promise<void> =>
  new Promise((resolve, reject) => {
    if (!process.send) throw new Error('run-snippets.mts needs an IPC channel (start it with child_process.fork)');
    process.send(message, (err: Error | null) => (err ? reject(err) : resolve()));
  });

const describeError = (e: unknown): string => (e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : format(e));

let output: string[] = [];
// Errors raised outside the snippet's import (a rejected promise nobody awaited, a throw in
// a timer) are charged to the snippet that is running when they surface.
let stray: string[] = [];
process.on('unhandledRejection', (e) => stray.push(`unhandled rejection: ${describeError(e)}`));
process.on('uncaughtException', (e) => stray.push(`uncaught exception: ${describeError(e)}`));

// Capture console output per snippet instead of interleaving it on the runner's stdout.
for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  console[method] = (...args: unknown[]): void => {
    output.push(format(...args));
  };
}

const paths = process.argv.slice(2);
const first = Number(process.env.DOC_SNIPPET_FIRST ?? '0');
// Load the library before the first snippet, so a snippet's timeout covers the snippet only.
const preload = process.env.DOC_SNIPPET_PRELOAD;
if (preload) await import(pathToFileURL(preload).href);
for (let index = first; index < paths.length; index++) {
  await send({ kind: 'start', index });
  output = [];
  stray = [];
  const printed: Printed = [];
  // The instrumented prelude records into this array (`globalThis.__docPrinted ??= []`).
  (globalThis as { __docPrinted?: Printed }).__docPrinted = printed;
  let error: string | undefined;
  try {
    await import(pathToFileURL(paths[index]).href);
    // Let a snippet's stray timers and promise callbacks run before its result is taken.
    await new Promise((resolve) => setImmediate(resolve));
  } catch (e) {
    error = describeError(e);
  }
  if (stray.length > 0) error = [error, ...stray].filter((s) => s !== undefined).join('\n');
  await send({ kind: 'done', index, printed: Array.from(printed, (p) => p ?? null), output: output.join('\n'), error });
}
process.disconnect();
