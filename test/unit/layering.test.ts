/**
 * The layering of src/ (docs/architecture.md, issue 17): every folder imports only
 * itself and the folders before it in LAYERS, and no file is part of an import circle.
 * Type-only imports count too: a type import against the order is still a dependency
 * of the design (a change below would break the layer above's types), and keeping the
 * rule simple keeps it checkable.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** The layers, lowest first. A folder may import its own files and any folder of a lower layer. */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts'],
  ['core'],
  ['codegen'],
  ['runtime'],
  ['engine'],
  ['array'],
  ['transforms'],
  ['ops'],
  ['linalg', 'fft', 'distributed', 'io'],
  ['nn', 'optimizers'],
  ['index.ts'],
];

const SRC = resolve(__dirname, '../../src');

/** The layer of a path relative to src/ (its first segment), or -1 for a folder not in LAYERS. */
function layerOf(path: string): number {
  const top = path.split('/')[0];
  return LAYERS.findIndex((names) => names.includes(top));
}

/** Every .ts file under src/, as paths relative to src/. */
function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (entry.name.endsWith('.ts')) out.push(relative(SRC, full));
  }
  return out.sort();
}

/** A file's relative imports (static, type-only, re-exports and dynamic), resolved to paths relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const info = ts.preProcessFile(text, true, true);
  const specs = [...info.importedFiles, ...(info.ambientExternalModules ?? []).map((fileName) => ({ fileName }))].map((f) => f.fileName);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(dirname(join(SRC, file)), s.replace(/\.js$/, '.ts'))));
}

/** The imports that break the order: from a lower layer to a higher one, or from/to a folder outside LAYERS. */
function layerViolations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    const lf = layerOf(from);
    if (lf < 0) {
      bad.push(`${from}: its folder is not in the layer list (add it to LAYERS and docs/architecture.md)`);
      continue;
    }
    for (const to of targets) {
      const lt = layerOf(to);
      if (lt < 0 || lt > lf) bad.push(`${from} imports ${to} (layer ${lt} above ${lf})`);
    }
  }
  return bad;
}

/** The import circles (strongly connected components of more than one file, or a file importing itself). */
function importCircles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm, iterative enough for a few hundred files.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}

describe('layering of src/', () => {
  const files = sourceFiles();
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('finds the sources and their imports', () => {
    expect(files).toContain('index.ts');
    expect(graph.get('ops/methods.ts')).toContain('array/array.ts');
  });

  it('imports only go down the layer order', () => {
    expect(layerViolations(graph)).toEqual([]);
  });

  it('has no import circles', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('every import resolves to a file of src/', () => {
    const missing = [...graph].flatMap(([from, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${from} -> ${t}`));
    expect(missing).toEqual([]);
  });
});

describe('the layering checks themselves', () => {
  it('report an upward import, a type-only one included', () => {
    const graph = new Map<string, string[]>([
      ['core/node.ts', ['ops/elementwise.ts']],
      ['ops/elementwise.ts', ['core/node.ts']],
    ]);
    expect(layerViolations(graph)).toEqual(['core/node.ts imports ops/elementwise.ts (layer 7 above 1)']);
    const typeOnly = "import type { MetalArray } from '../array/array.js';\n";
    expect(ts.preProcessFile(typeOnly, true, true).importedFiles.map((f) => f.fileName)).toEqual(['../array/array.js']);
  });

  it('report a folder outside the list', () => {
    expect(layerViolations(new Map([['graph/walk.ts', ['core/node.ts']]]))).toEqual([
      'graph/walk.ts: its folder is not in the layer list (add it to LAYERS and docs/architecture.md)',
    ]);
  });

  it('report a circle inside one folder', () => {
    const graph = new Map<string, string[]>([
      ['ops/movement.ts', ['ops/indexing.ts']],
      ['ops/indexing.ts', ['ops/movement.ts', 'core/node.ts']],
      ['core/node.ts', []],
    ]);
    expect(importCircles(graph)).toEqual([['ops/indexing.ts', 'ops/movement.ts']]);
  });
});
