/**
 * What the default backend of this test run can do, for suites that run on every
 * backend (METALARRAY_BACKEND picks it; the macOS CI job runs the whole suite on Metal).
 *
 * float64: Metal has no double, so its renderer refuses any kernel that computes in
 * float64 with a DTypeError naming the op. Where the default backend refuses it, the
 * random generators and per-dtype tests use {@link BACKEND_DTYPES} (every dtype but
 * float64), their names carry {@link FLOAT64_NOTE} so a report shows what was left
 * out, and one test (test/property/elementwise.property.test.ts) asserts the typed
 * error for every kind of kernel instead of values. The answer is
 * probed, not assumed from the backend's name: it is whatever rendering a float64
 * kernel for the default backend does.
 */
import { afterAll, beforeAll } from 'vitest';
import * as ma from '../../src/index.js';
import type { DType } from '../../src/core/dtype.js';
import * as R from '../reference/index.js';
import { cpuPin } from './pin.js';

/** The backend new arrays go to in this run. */
export const TEST_BACKEND: string = ma.getBackend();

function probeFloat64(): boolean {
  const x = ma.zeros([2], 'float64');
  const y = x.add(1);
  try {
    ma.kernelSources(y, TEST_BACKEND); // renders, runs nothing
    return true;
  } catch (err) {
    if (err instanceof ma.DTypeError) return false;
    throw err;
  } finally {
    y.dispose();
    x.dispose();
  }
}

/** Whether the default backend computes in float64. */
export const HAS_FLOAT64: boolean = probeFloat64();

/** Every dtype the default backend computes in (R.ALL_DTYPES, less float64 where it has none). */
export const BACKEND_DTYPES: readonly DType[] = HAS_FLOAT64 ? R.ALL_DTYPES : R.ALL_DTYPES.filter((d) => d !== 'float64');

/** Appended to the names of tests whose draws leave float64 out on this backend. */
export const FLOAT64_NOTE: string = HAS_FLOAT64 ? '' : ` [float64 not drawn: the ${TEST_BACKEND} backend has none]`;

/** `dtypes` without float64 where the default backend has none. */
export function backendDtypes<T extends DType>(dtypes: readonly T[]): T[] {
  return dtypes.filter((d) => HAS_FLOAT64 || d !== 'float64');
}

/** Runs `fn` (which computes in float64) expecting the default backend's typed refusal. */
export function expectFloat64Refused(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (!(thrown instanceof ma.DTypeError)) throw new Error(`expected a DTypeError for float64 on ${TEST_BACKEND}, got ${String(thrown)}`);
  if (!/float64 is not supported by the \w+ backend/.test(thrown.message)) throw new Error(`unexpected DTypeError message: ${thrown.message}`);
}

/**
 * Runs the enclosing describe's tests on the cpu backend, whatever the run's default:
 * for tests of cpu-only machinery (the BLAS, C custom kernels). Call at describe level.
 */
export function pinCpuBackend(): void {
  const previous = ma.getBackend();
  beforeAll(() => {
    ma.setBackend('cpu');
    cpuPin.pinned = true;
  });
  afterAll(() => {
    cpuPin.pinned = false;
    ma.setBackend(previous);
  });
}

/** Runs `fn` on the cpu backend whatever the run's default (see {@link pinCpuBackend}). */
export function onCpuBackend<T>(fn: () => T): T {
  const previous = ma.getBackend();
  ma.setBackend('cpu');
  cpuPin.pinned = true;
  try {
    return fn();
  } finally {
    cpuPin.pinned = false;
    ma.setBackend(previous);
  }
}
