/**
 * Process-wide counters the executor and runtimes update; `metrics()` reads them.
 */

/** Counters of compilation, launches and cache behaviour. */
export interface Metrics {
  kernelsCompiled: number;
  kernelLaunches: number;
  planCacheHits: number;
  planCacheMisses: number;
  kernelCacheHits: number;
  kernelCacheMisses: number;
  compileMs: number;
  /** Pending graphs evaluated early because they crossed the auto-evaluation bounds (see setAutoEval). */
  autoEvals: number;
}

/** The live counters (mutated in place on hot paths; copy before handing out). */
export const counters: Metrics = {
  kernelsCompiled: 0,
  kernelLaunches: 0,
  planCacheHits: 0,
  planCacheMisses: 0,
  kernelCacheHits: 0,
  kernelCacheMisses: 0,
  compileMs: 0,
  autoEvals: 0,
};

/** Zeroes every counter. */
export function resetCounters(): void {
  for (const k of Object.keys(counters) as (keyof Metrics)[]) counters[k] = 0;
}

/** Debug level from METALARRAY_DEBUG (0, 1 or 2). */
export const debugLevel: number = Number(process.env.METALARRAY_DEBUG ?? 0) || 0;

/** Writes a debug line to stderr. */
export function debugLog(msg: string): void {
  process.stderr.write(`[metalarray] ${msg}\n`);
}
