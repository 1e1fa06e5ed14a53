/**
 * Library-wide state the array layer reads: the fusion switch and the stack of
 * `tidy` scopes (kept per async context, so concurrent async tidies don't mix).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { getBackendName } from '../runtime/registry.js';

/** The backend new arrays are created on (the ops layer asks here, not the runtime). */
export function defaultBackend(): string {
  return getBackendName();
}

/** Anything a tidy scope can dispose. */
export interface Disposable {
  dispose(): void;
}

let fusion = true;

/** True unless fusion was turned off with setFusion(false). */
export function fusionEnabled(): boolean {
  return fusion;
}

/**
 * Turns kernel fusion on (the default) or off. Off, every elementwise op runs as its own
 * kernel; tests use it to check fused results against unfused ones, the demo to time both.
 */
export function setFusion(enabled: boolean): void {
  fusion = enabled;
}

/** One tidy scope: what was created inside it. */
export class Scope {
  readonly tracked: Disposable[] = [];
}

const scopes = new AsyncLocalStorage<Scope>();

/** The innermost tidy scope of the current (async) context, if any. */
export function currentScope(): Scope | undefined {
  return scopes.getStore();
}

/** Runs `fn` inside a new scope. */
export function runInScope<T>(scope: Scope, fn: () => T): T {
  return scopes.run(scope, fn);
}
