/**
 * docs/numpy-coverage.md is the rendering of the code (test/numpy/coverage.ts): every
 * listed function is a public function of `ma`, and every function of the issue-22
 * modules is listed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { COVERAGE_FILE, coverageRows, renderCoverage } from './coverage.js';

describe('NumPy coverage table', () => {
  it('lists only public functions of ma', () => {
    const exported = ma as unknown as Record<string, unknown>;
    const missing = coverageRows()
      .map((r) => r.fn)
      .filter((fn) => {
        const [head, tail] = fn.split('.');
        const owner = tail === undefined ? exported : (exported[head] as Record<string, unknown>);
        return typeof owner[tail ?? head] !== 'function';
      });
    expect(missing).toEqual([]);
  });
  it('docs/numpy-coverage.md matches the code (regenerate: npx tsx test/numpy/coverage.ts --write)', () => {
    expect(readFileSync(COVERAGE_FILE, 'utf8')).toBe(renderCoverage());
  });
});
