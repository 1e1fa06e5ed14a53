/**
 * Library-wide state the array layer reads: the fusion switch and the stack of
 * `tidy` scopes (kept per async context, so concurrent async tidies don't mix).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PlanOptions } from '../engine/executor.js';
import { getBackendName } from '../runtime/registry.js';
import { checkArgCount } from '../core/arguments.js';
import { ArgumentError, formatValue } from '../errors.js';

/** The backend new arrays are created on (the ops layer asks here, not the runtime). */
export function defaultBackend(): string {
  return getBackendName();
}

/** Anything a tidy scope can dispose. */
export interface Disposable {
  dispose(): void;
}

/** The options every eval plans with; replaced (not mutated) when a setting changes. */
let options: PlanOptions = { fusion: true, cpuMatmul: 'auto' };

/** The current planning options (one shared object: evals allocate nothing for them). */
export function planOptions(): PlanOptions {
  return options;
}

/**
 * True unless fusion was turned off with setFusion(false).
 *
 * @example
 * ```ts
 * console.log(ma.fusionEnabled()); // true
 * ```
 */
export function fusionEnabled(): boolean {
  checkArgCount('fusionEnabled', arguments.length, 0, 'fusionEnabled()');
  return options.fusion;
}

/**
 * Turns kernel fusion on (the default) or off. Off, every elementwise op runs as its own
 * kernel; tests use it to check fused results against unfused ones, the demo to time both.
 *
 * @example
 * ```ts
 * ma.setFusion(false);
 * console.log(ma.explain(ma.ones([4]).exp().add(1)).split('\n')[0]); // plan on cpu: 2 kernels
 * ma.setFusion(true);
 * ```
 */
export function setFusion(enabled: boolean): void {
  checkArgCount('setFusion', arguments.length, 1, 'setFusion(enabled)');
  if (typeof enabled !== 'boolean') throw new ArgumentError(`setFusion: enabled must be a boolean, got ${formatValue(enabled)}`);
  options = { ...options, fusion: enabled };
}

/** Sets how CPU float32/float64 matrix products run (validated by the caller). */
export function setCpuMatmulMode(mode: PlanOptions['cpuMatmul']): void {
  options = { ...options, cpuMatmul: mode };
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
