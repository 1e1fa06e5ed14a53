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
  /** cpu: kernels switched from their fast first build to -O3 code built in the background. */
  kernelsUpgraded: number;
  /** Pending graphs evaluated early because they crossed the auto-evaluation bounds (see setAutoEval). */
  autoEvals: number;
  /** Device graph launches (CUDA): one per compiled replay recorded as a CUDA graph. */
  graphLaunches: number;
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
  kernelsUpgraded: 0,
  autoEvals: 0,
  graphLaunches: 0,
};

/** Zeroes every counter. */
export function resetCounters(): void {
  for (const k of Object.keys(counters) as (keyof Metrics)[]) counters[k] = 0;
}

const debugSetting = (process.env.METALARRAY_DEBUG ?? '').split(',').map((s) => s.trim());

/** Debug level from METALARRAY_DEBUG (0, 1 or 2; a comma list like `1,memory` also works). */
export const debugLevel: number = Math.max(0, ...debugSetting.map((s) => Number(s) || 0));

/**
 * METALARRAY_DEBUG=memory: log every evaluated or uploaded array of at least
 * METALARRAY_DEBUG_MEMORY_BYTES bytes (default 1 MiB) with the op that made it;
 * null when off.
 */
export const debugMemoryBytes: number | null = debugSetting.includes('memory') ? Number(process.env.METALARRAY_DEBUG_MEMORY_BYTES ?? 2 ** 20) || 0 : null;

/** Writes a debug line to stderr. */
export function debugLog(msg: string): void {
  process.stderr.write(`[metalarray] ${msg}\n`);
}
