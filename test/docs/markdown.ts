/**
 * Reads the fenced code blocks of the project's markdown (README.md and docs/*.md) for the
 * doc tests, and turns a runnable block into a module that checks its printed results.
 *
 * Conventions (docs/README.md states them for writers):
 * - ```ts blocks run; ```ts no-run <reason> blocks are listed with their reason and counted,
 *   never run (GPU-only or Mac-only code). A no-run block without a reason is an error.
 * - `import * as ma from 'metalarray'` is rewritten to the source entry; a block without
 *   that import gets it added, so a snippet may use `ma` directly.
 * - A line `console.log(...); // <text>` shows what it prints: the doc test compares. A
 *   printed result of several lines continues on the next lines as comments that start in
 *   the same column (`//` under `//`).
 * - A line `statement; // throws SomeError: ...` must throw an error of that name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CodeBlock {
  /** Path relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string, e.g. `ts` or `ts no-run needs a CUDA GPU`. */
  info: string;
  code: string;
}

/** Languages whose blocks are TypeScript or JavaScript that the doc tests run. */
const CODE_LANGUAGES = new Set(['ts', 'typescript', 'js', 'javascript']);

/** README.md and every docs/*.md (not the generated docs/api/), relative to `root`. */
export function markdownFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** Every fenced block of one markdown file whose language is ts/js. */
export function codeBlocks(root: string, file: string): CodeBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j])) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
      j++;
    }
    const language = info.trim().split(/\s+/)[0];
    if (CODE_LANGUAGES.has(language)) blocks.push({ file, line: i + 1, info: info.trim(), code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** The reason of a `no-run` block, or undefined for a block that runs. Throws on a bare `no-run`. */
export function noRunReason(block: CodeBlock): string | undefined {
  const m = /^\S+\s+no-run\b(.*)$/.exec(block.info);
  if (!m) return undefined;
  const reason = m[1].trim();
  if (!reason) throw new Error(`${block.file}:${block.line}: a no-run block must say why (\`\`\`ts no-run <reason>)`);
  return reason;
}

/** A printed result the block shows, and where. */
export interface Expectation {
  /** 1-based line within the markdown file. */
  line: number;
  expected: string;
}

/**
 * Rewrites a block into an ES module: the metalarray import points at `entry`, and each
 * `console.log(...) // shown` line records what it prints (util.format, as console.log
 * formats) into `globalThis.__docPrinted[index]` besides printing it.
 */
export function instrument(block: CodeBlock, entry: string): { source: string; expectations: Expectation[] } {
  const importRe = /^import\s+\*\s+as\s+(\w+)\s+from\s+['"]metalarray['"];?\s*$/;
  const lines = block.code.split('\n');
  const out: string[] = [];
  const expectations: Expectation[] = [];
  let hasImport = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const imp = importRe.exec(line);
    if (imp) {
      hasImport = true;
      out.push(`import * as ${imp[1]} from ${JSON.stringify(entry)};`);
      continue;
    }
    const throws = /^(\s*)(.+?);?\s*\/\/ throws (\w+)\b.*$/.exec(line);
    if (throws) {
      // `statement; // throws SomeError: ...`: the statement must throw that class.
      const [, indent, statement, errorName] = throws;
      out.push(`${indent}__docThrows(${expectations.length}, () => { ${statement}; });`);
      expectations.push({ line: block.line + 1 + i, expected: `throws ${errorName}` });
      continue;
    }
    const shown = /^(\s*)console\.log\((.*)\);?(\s*)\/\/ ?(.*)$/.exec(line);
    if (!shown) {
      out.push(line);
      continue;
    }
    const [, indent, args] = shown;
    const markdownLine = block.line + 1 + i;
    const column = line.length - shown[4].length;
    const commentColumn = line.lastIndexOf('//', column);
    const expected = [shown[4].trimEnd()];
    // Continuation lines: nothing but a comment whose `//` stands in the same column.
    while (i + 1 < lines.length && /^\s*\/\//.test(lines[i + 1]) && lines[i + 1].indexOf('//') === commentColumn) {
      i++;
      out.push('');
      expected.push(
        lines[i]
          .slice(commentColumn + 2)
          .replace(/^ /, '')
          .trimEnd(),
      );
    }
    out.push(`${indent}__docPrint(${expectations.length}, ${args});`);
    expectations.push({ line: markdownLine, expected: expected.join('\n') });
  }
  const prelude = [
    "import { format as __docFormat } from 'node:util';",
    ...(hasImport ? [] : [`import * as ma from ${JSON.stringify(entry)};`]),
    'const __docPrinted: string[] = ((globalThis as { __docPrinted?: string[] }).__docPrinted ??= []);',
    'function __docPrint(index: number, ...args: unknown[]): void {',
    '  const text = __docFormat(...args);',
    '  __docPrinted[index] = text;',
    '  console.log(text);',
    '}',
    'function __docThrows(index: number, statement: () => unknown): void {',
    '  try { statement(); __docPrinted[index] = "did not throw"; }',
    '  catch (e) { __docPrinted[index] = "throws " + (e as Error).name; }',
    '}',
  ];
  // The prelude shares the block's first line so error positions stay close.
  return { source: `${prelude.join(' ')}\n${out.join('\n')}\n`, expectations };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a markdown file's headings (outside code fences), `-1`, `-2`… for repeats. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const f = /^\s*(`{3,})/.exec(line);
    if (f) {
      if (fence === undefined) fence = f[1];
      else if (line.trim() === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const slug = headingSlug(h[1]);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** A relative link of a markdown file: its target path (may be empty: same file) and anchor. */
export interface MarkdownLink {
  line: number;
  target: string;
  anchor: string | undefined;
}

/** Relative links (`[text](path#anchor)`) outside code; web links (`http:`…) are left out. */
export function relativeLinks(text: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  let fence: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const f = /^\s*(`{3,})/.exec(lines[i]);
    if (f) {
      if (fence === undefined) fence = f[1];
      else if (lines[i].trim() === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const outsideCode = lines[i].replace(/`[^`]*`/g, '');
    for (const m of outsideCode.matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1];
      if (/^[a-z]+:/i.test(href)) continue;
      const [target, anchor] = href.split('#', 2);
      links.push({ line: i + 1, target, anchor: anchor === undefined ? undefined : decodeURIComponent(anchor) });
    }
  }
  return links;
}
