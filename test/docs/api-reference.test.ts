/**
 * The API reference (typedoc over src/index.ts, options in typedoc.json) builds without a
 * validation warning: no undocumented export, no broken `{@link}`, nothing referenced but
 * not exported. And every public function and method has an `@example`, except those in
 * docs/undocumented-allowlist.txt, a list that may only shrink: a new callable without an
 * example fails, and so does a listed one that has gained an example (remove it, and lower
 * ALLOWLIST_MAX to the new length). Every `@example` runs, as the markdown doc tests do
 * (all in one runner process, each checked on its own: run-snippet.ts). typedoc converts
 * and validates once for the whole file, writing nothing.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BINARY_OPS, UNARY_OPS } from '../../src/core/vocabulary.js';
import * as ma from '../../src/index.js';
import { type ApiReferenceReport, checkApiReference } from './api-reference.js';

const ELEMENTWISE_NAMES = [...UNARY_OPS, ...BINARY_OPS];
import { runSnippets } from './run-snippet.js';

const root = resolve(import.meta.dirname, '../..');
const ALLOWLIST = 'docs/undocumented-allowlist.txt';
/** The allow-list's length when the check landed, lowered as examples are written. */
const ALLOWLIST_MAX = 0;

function readAllowlist(): string[] {
  return readFileSync(join(root, ALLOWLIST), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

describe('API reference (typedoc)', () => {
  let report: ApiReferenceReport;
  beforeAll(async () => {
    // typedoc type-checks the whole of src/ first: tens of seconds on a loaded machine.
    process.chdir(root);
    report = await checkApiReference();
  }, 600_000);

  it('builds with no validation warning (undocumented export, broken link, unexported type)', () => {
    // The elementwise methods are one mapped type over the op vocabulary (src/ops/methods.ts):
    // `a.tanh()` is documented as the function `ma.tanh`, which must exist and is checked
    // like every export. Any other undocumented member still fails.
    const documentedAsFunction = (m: string): boolean => {
      const name = /^MetalArray\.(\w+) \(Property\), defined in .* does not have any documentation$/.exec(m)?.[1];
      return name !== undefined && (ELEMENTWISE_NAMES as readonly string[]).includes(name) && typeof (ma as Record<string, unknown>)[name] === 'function';
    };
    expect(report.messages.filter((m) => !documentedAsFunction(m))).toEqual([]);
    expect(report.callables).toBeGreaterThan(100);
  });

  it(`every public function and method has an @example, or is in ${ALLOWLIST} (which only shrinks)`, () => {
    const allowed = readAllowlist();
    expect(new Set(allowed).size, `${ALLOWLIST} lists a name twice`).toBe(allowed.length);
    const missing = report.withoutExample.filter((name) => !allowed.includes(name));
    expect(missing, 'public callables without an @example: add a summary and an @example to their TSDoc').toEqual([]);
    const stale = allowed.filter((name) => !report.withoutExample.includes(name));
    expect(stale, `these have an @example now (or are gone): remove them from ${ALLOWLIST}`).toEqual([]);
    expect(allowed.length, `${ALLOWLIST} may only shrink: lower ALLOWLIST_MAX in this test with it`).toBeLessThanOrEqual(ALLOWLIST_MAX);
  });

  it('every @example in the reference runs (in one runner process, each checked on its own)', { timeout: 1_800_000 }, async () => {
    expect(report.examples.length).toBeGreaterThan(5);
    const blocks = report.examples.map((example, k) => ({ file: `@example of ${example.name}`, line: k, info: example.info, code: example.code }));
    const failures: string[] = [];
    for (const [k, { failure, printed, expectations }] of (await runSnippets(blocks)).entries()) {
      const name = blocks[k].file;
      if (failure !== undefined) failures.push(`${name}: ${failure}`);
      for (const [i, want] of expectations.entries()) {
        if (printed[i] !== want.expected) failures.push(`${name}: printed ${JSON.stringify(printed[i])}, the comment shows ${JSON.stringify(want.expected)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
