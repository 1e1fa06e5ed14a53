/**
 * Every relative link in README.md and docs/*.md points at a file that exists, and its
 * `#anchor` (when the target is markdown) at a heading of that file, so moving a section
 * cannot leave a dead link behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingAnchors, markdownFiles, relativeLinks } from './markdown.js';

const root = resolve(import.meta.dirname, '../..');

describe('links in README.md and docs/*.md', () => {
  for (const file of markdownFiles(root)) {
    it(`${file}: every relative link and anchor resolves`, () => {
      const text = readFileSync(join(root, file), 'utf8');
      const broken: string[] = [];
      for (const link of relativeLinks(text)) {
        const targetPath = link.target === '' ? join(root, file) : resolve(dirname(join(root, file)), link.target);
        const shown = `${file}:${link.line}: ${link.target}${link.anchor === undefined ? '' : `#${link.anchor}`}`;
        if (!existsSync(targetPath)) {
          broken.push(`${shown} (no file ${relative(root, targetPath)})`);
          continue;
        }
        if (link.anchor !== undefined && targetPath.endsWith('.md') && !headingAnchors(readFileSync(targetPath, 'utf8')).has(link.anchor)) {
          broken.push(`${shown} (no heading with that anchor)`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});

describe('the README and the package', () => {
  it('README.md stays an introduction: at most 500 lines (detail goes in docs/)', () => {
    const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThanOrEqual(500);
  });

  it('docs/ ships in the package (package.json files), the generated docs/api/ does not', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[]; scripts: Record<string, string> };
    expect(pkg.files).toContain('docs/*.md');
    expect(pkg.files.some((f) => f === 'docs' || f.startsWith('docs/api'))).toBe(false);
    expect(pkg.scripts.docs).toBe('typedoc');
  });
});
