/**
 * The doc-test machinery itself: block extraction, the printed-result and throws
 * conventions, anchors, and that a wrong printed result or a snippet that throws is
 * reported (so a doc test can fail).
 */
import { describe, expect, it } from 'vitest';
import { codeBlocks, headingAnchors, instrument, noRunReason, relativeLinks } from './markdown.js';
import { SNIPPET_TIMEOUT_MS, runSnippet } from './run-snippet.js';

const block = (code: string, info = 'ts') => ({ file: 'x.md', line: 10, info, code });

describe('doc-test machinery', () => {
  it('reads the expected output of a console.log line, continued in the same column', () => {
    const { source, expectations } = instrument(
      block(['const a = 1;', 'console.log(a); // one', '                //   two', '// not a continuation', 'a; // prose, not compared'].join('\n')),
      '/entry.ts',
    );
    expect(expectations).toEqual([{ line: 12, expected: 'one\n  two' }]);
    expect(source).toContain('__docPrint(0, a);');
    expect(source).toContain('import * as ma from "/entry.ts";');
    expect(source).toContain('a; // prose, not compared');
  });

  it('rewrites the metalarray import and keeps a block without one runnable', () => {
    const { source } = instrument(block("import * as np from 'metalarray';\nnp.ones([2]);"), '/entry.ts');
    expect(source).toContain('import * as np from "/entry.ts";');
    expect(source).not.toContain("'metalarray'");
    expect(source).not.toContain('import * as ma');
  });

  it('turns `// throws Name` into a check of the thrown class', () => {
    const { source, expectations } = instrument(block("ma.full([2], 300, 'uint8'); // throws OverflowError: too big"), '/entry.ts');
    expect(expectations).toEqual([{ line: 11, expected: 'throws OverflowError' }]);
    expect(source).toContain("__docThrows(0, () => { ma.full([2], 300, 'uint8'); });");
  });

  it('requires a reason for no-run', () => {
    expect(noRunReason(block('', 'ts no-run needs a GPU'))).toBe('needs a GPU');
    expect(noRunReason(block('', 'ts'))).toBeUndefined();
    expect(() => noRunReason(block('', 'ts no-run'))).toThrow(/must say why/);
  });

  it('finds ts blocks (indented ones too) and anchors as GitHub makes them', () => {
    const blocks = codeBlocks('.', 'docs/README.md');
    expect(blocks.some((b) => b.code.startsWith('console.log(ma.arange(6)'))).toBe(true);
    expect(headingAnchors('# A b\n## What `toTypedArray()` returns\n# A b\n```\n# not a heading\n```')).toEqual(
      new Set(['a-b', 'what-totypedarray-returns', 'a-b-1']),
    );
    expect(relativeLinks('[x](a.md#b) [y](https://e.org) `[z](c.md)`')).toEqual([{ line: 1, target: 'a.md', anchor: 'b' }]);
  });

  it('reports a wrong printed result and a snippet that throws', { timeout: 2 * SNIPPET_TIMEOUT_MS }, async () => {
    const wrong = await runSnippet(block("console.log(ma.array([1, 2], 'int32').toString()); // array([1, 3])\nma.ones([2]).reshape(3); // throws ShapeError"));
    expect(wrong.failure).toBeUndefined();
    expect(wrong.printed).toEqual(['array([1, 2])', 'throws ShapeError']);
    expect(wrong.expectations.map((e) => e.expected)).toEqual(['array([1, 3])', 'throws ShapeError']);
    const broken = await runSnippet(block('console.log(1); // 1\nundefinedName.call();'));
    expect(broken.failure).toMatch(/undefinedName is not defined/);
    expect(broken.printed).toEqual(['1']);
  });
});
