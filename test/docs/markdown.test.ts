/**
 * The doc-test machinery itself: block extraction, the printed-result and throws
 * conventions, anchors, and that a wrong printed result or a snippet that throws is
 * reported (so a doc test can fail).
 */
import { describe, expect, it } from 'vitest';
import { codeBlocks, headingAnchors, instrument, noRunReason, relativeLinks } from './markdown.js';
import { runSnippets, runsFresh } from './run-snippet.js';

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

  it('marks ```ts fresh <reason> blocks to run in a process of their own', () => {
    expect(runsFresh(block('', 'ts fresh sets the backend'))).toBe(true);
    expect(runsFresh(block('', 'ts'))).toBe(false);
    expect(runsFresh(block('', 'ts no-run refreshes nothing'))).toBe(false);
  });

  it('reports a wrong printed result, a wrong `// throws`, a throwing snippet and a hang, each against its own snippet', { timeout: 600_000 }, async () => {
    const blocks = [
      block(
        [
          "console.log(ma.array([1, 2], 'int32').toString()); // array([1, 3])",
          'ma.ones([2]).reshape(3); // throws ShapeError',
          'ma.ones([2]).reshape(3); // throws DTypeError',
          'ma.ones([2]); // throws ShapeError',
        ].join('\n'),
      ),
      { ...block('console.log(1); // 1\nundefinedName.call();'), line: 20 },
      { ...block("console.log('still runs'); // still runs"), line: 30 },
      { ...block('setInterval(() => {}, 1000);\nawait new Promise(() => {});'), line: 40 },
      { ...block("console.log('after the hang'); // after the hang"), line: 50 },
      { ...block("console.log('alone'); // alone", 'ts fresh runs alone'), line: 60 },
    ];
    const [wrong, broken, next, hang, afterHang, fresh] = await runSnippets(blocks, { snippetTimeoutMs: 10_000 });
    expect(wrong.failure).toBeUndefined();
    expect(wrong.printed).toEqual(['array([1, 2])', 'throws ShapeError', 'throws ShapeError', 'did not throw']);
    expect(wrong.expectations.map((e) => e.expected)).toEqual(['array([1, 3])', 'throws ShapeError', 'throws DTypeError', 'throws ShapeError']);
    expect(broken.where).toBe('x.md:20');
    expect(broken.failure).toMatch(/undefinedName is not defined/);
    expect(broken.printed).toEqual(['1']);
    expect(next.failure).toBeUndefined();
    expect(next.printed).toEqual(['still runs']);
    expect(hang.where).toBe('x.md:40');
    expect(hang.failure).toMatch(/timed out after 10000 ms/);
    expect(afterHang.failure).toBeUndefined();
    expect(afterHang.printed).toEqual(['after the hang']);
    expect(fresh.failure).toBeUndefined();
    expect(fresh.printed).toEqual(['alone']);
  });
});
