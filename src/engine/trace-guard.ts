/**
 * The guard `compile` (src/transforms/compile.ts) puts on value reads while it traces:
 * the traced function runs on placeholder leaves with no memory behind them, so a read
 * of anything that depends on one (`item`, `toTypedArray`, `eval`...) cannot work.
 * `guardRead` turns such a read into a `CompileTraceError` naming the compiled function
 * and the call; the placeholders' buffers also throw if something reaches them another
 * way (auto-evaluation, a custom kernel, a host-computed op). Outside a trace the guard
 * is one comparison.
 */
import type { BufferRef, Node } from '../core/node.js';
import { CompileTraceError } from '../errors.js';

interface OpenTrace {
  readonly name: string;
  readonly placeholders: ReadonlySet<BufferRef>;
}

const open: OpenTrace[] = [];

/** Whether some `compile` trace is running (a compiled function called inside it inlines). */
export function compileTracing(): boolean {
  return open.length > 0;
}

/** Enters a trace of `name` over `placeholders`; `endCompileTrace` must follow. */
export function beginCompileTrace(name: string, placeholders: ReadonlySet<BufferRef>): void {
  open.push({ name, placeholders });
}

/** Leaves the innermost trace. */
export function endCompileTrace(): void {
  open.pop();
}

/** The error for a read (`call`) of a value that depends on a placeholder of trace `name`. */
export function traceReadError(name: string, call: string): CompileTraceError {
  return new CompileTraceError(
    `${name}: ${call} read a value that depends on the compiled function's inputs while compile was tracing it. ` +
      'A compiled function must stay lazy: return arrays instead of reading them (item, toTypedArray, tolist, toString, eval), ' +
      'split random keys outside and pass them in, or leave this function uncompiled',
  );
}

/** Throws `CompileTraceError` when `node` depends on an open trace's placeholders. */
export function guardRead(node: Node, call: string): void {
  if (open.length === 0) return;
  // A trace is open (cold path): walk the graph under the node for a placeholder leaf.
  const seen = new Set<Node>();
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.kind === 'leaf') {
      const buffer = n.buffer;
      if (buffer === null) continue;
      for (let t = open.length - 1; t >= 0; t--) if (open[t].placeholders.has(buffer)) throw traceReadError(open[t].name, call);
      continue;
    }
    for (const x of n.inputs) stack.push(x);
  }
}
