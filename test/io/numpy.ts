/**
 * Helpers for the NumPy round-trip tests: is Debian's python3-numpy here, run the
 * case script, and describe an array the way the script does (dtype, shape, values as
 * exact strings; floats normalised through Number so '1.0' and '1' agree).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type * as ma from '../../src/index.js';

export const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'numpy-cases.py');

/** Why NumPy cannot be used here, or null when it can. */
export function numpyMissingReason(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import numpy (install python3-numpy)`;
  return null;
}

/** What the script reports per array. */
export interface Described {
  dtype: string;
  shape: number[];
  values: string[];
}

const FLOAT = new Set(['float16', 'float32', 'float64', 'bfloat16']);

/** Normalises float value strings so Python's and JS's spellings of one number agree. */
export function normalise(d: Described): Described {
  return { ...d, values: FLOAT.has(d.dtype) ? d.values.map((v) => String(Number(v))) : d.values };
}

/** Describes a MetalArray as the script describes a NumPy array. */
export function describeArray(a: ma.MetalArray): Described {
  const flat = Array.from(a.toTypedArray() as ArrayLike<number | bigint>, (v) => String(v));
  return normalise({ dtype: a.dtype, shape: a.shape, values: flat });
}

/** Runs the script: `write DIR` → manifest, `read DIR names...` → what NumPy read. */
export function runNumpy<T>(args: string[]): T {
  return JSON.parse(execFileSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })) as T;
}
