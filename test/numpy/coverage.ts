/**
 * The NumPy coverage table of docs/numpy-coverage.md, generated from the code: the
 * functions of the issue-22 modules (their exports), the elementwise op table (dtype
 * rule of each new op) and a finite-difference-free differentiability probe (grad of
 * each float function runs or throws NotDifferentiableError). `numpy-coverage.test.ts`
 * checks the file equals this rendering, so it cannot drift;
 * `npx tsx test/numpy/coverage.ts --write` regenerates it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import '../../src/index.js'; // registers the op blocks into the op table
import { ELEMENTWISE } from '../../src/core/op-table.js';
import * as correlation from '../../src/ops/correlation.js';
import * as numeric from '../../src/ops/numeric.js';
import * as searching from '../../src/ops/searching.js';
import * as shaping from '../../src/ops/shaping.js';
import * as statistics from '../../src/ops/statistics.js';

/** The new elementwise primitives (their rows come from the op table). */
export const NEW_ELEMENTWISE = ['cbrt', 'signbit', 'copysign', 'hypot', 'fmod'] as const;

/** The new distributions of `ma.random`. */
export const NEW_RANDOM = ['exponential', 'gumbel', 'laplace', 'logistic', 'cauchy'] as const;

/** The composed modules, by name: every exported function of each is a public function. */
export const MODULES: Record<string, Record<string, unknown>> = { numeric, statistics, shaping, searching, correlation };

/** Helpers exported for sibling modules, not public functions. */
const INTERNAL = new Set(['asArrays', 'asFloats', 'floatDTypeOf', 'maxFinite', 'scalarLike']);

/** NumPy's name where it differs from `np.<name>` with camelCase undone. */
const NUMPY_NAME: Record<string, string> = {
  arrayEqual: 'np.array_equal',
  nanToNum: 'np.nan_to_num',
  atleast1d: 'np.atleast_1d',
  atleast2d: 'np.atleast_2d',
  atleast3d: 'np.atleast_3d',
  columnStack: 'np.column_stack',
};

/** What the dtype column says for each kind of function. */
const DTYPES_BY_MODULE: Record<string, string> = {
  numeric: 'all; integers and bool compute in float32',
  statistics: 'all; float results, integers in float32 (nanmax/nanmin/ptp keep the dtype)',
  shaping: 'all (keeps the dtype)',
  searching: 'all; int32 indices, bincount integers only',
  correlation: 'all; float results, integers in float32; int32 counts',
};

const RULE_DTYPES: Record<string, string> = {
  float: 'all; integers and bool compute in float32',
  predicate: 'all; bool result',
  intDiv: 'all; integers stay integers, two bools give int8',
};

const DIFFERENTIABLE: Record<string, string> = {
  signbit: 'no (bool result)',
  isclose: 'no (bool result)',
  allclose: 'no (bool result)',
  arrayEqual: 'no (bool result)',
  nanargmax: 'no (index result)',
  nanargmin: 'no (index result)',
  searchsorted: 'no (index result)',
  digitize: 'no (index result)',
  isin: 'no (bool result)',
  bincount: 'weights: yes (scatter-add)',
  histogram: 'weights: yes; counts no',
  frexp: 'mantissa: yes',
};

export interface CoverageRow {
  readonly fn: string;
  readonly numpy: string;
  readonly kind: string;
  readonly dtypes: string;
  readonly backends: string;
  readonly differentiable: string;
}

function numpyName(fn: string): string {
  return NUMPY_NAME[fn] ?? `np.${fn.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** The table's rows: the new elementwise ops, then each module's functions in export order. */
export function coverageRows(): CoverageRow[] {
  const rows: CoverageRow[] = [];
  for (const op of NEW_ELEMENTWISE) {
    const row = ELEMENTWISE.get(op);
    if (row === undefined) throw new Error(`coverage: ${op} is not in the elementwise op table`);
    rows.push({
      fn: op,
      numpy: numpyName(op),
      kind: `elementwise op (rule '${row.rule}')`,
      dtypes: RULE_DTYPES[row.rule] ?? row.rule,
      backends: 'cpu, cuda, metal (float64: cpu, cuda)',
      differentiable: DIFFERENTIABLE[op] ?? 'yes (rule)',
    });
  }
  for (const [module, exports] of Object.entries(MODULES)) {
    // Sorted by name: a module namespace's key order differs between Node and vitest's loader.
    for (const [name, value] of Object.entries(exports).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (typeof value !== 'function' || INTERNAL.has(name)) continue;
      rows.push({
        fn: name,
        numpy: numpyName(name),
        kind: `composition (src/ops/${module}.ts)`,
        dtypes: DTYPES_BY_MODULE[module],
        backends: 'cpu, cuda, metal (float64: cpu, cuda)',
        differentiable: DIFFERENTIABLE[name] ?? 'yes (through its parts)',
      });
    }
  }
  for (const name of NEW_RANDOM) {
    rows.push({
      fn: `random.${name}`,
      numpy: `np.random.Generator.${name === 'cauchy' ? 'standard_cauchy' : name}`,
      kind: 'random draw (inverse CDF of one uniform, src/ops/random.ts)',
      dtypes: 'float16, bfloat16, float32, float64',
      backends: 'cpu, cuda, metal (float64: cpu, cuda)',
      differentiable: 'in loc and scale',
    });
  }
  return rows;
}

/** docs/numpy-coverage.md's text. */
export function renderCoverage(): string {
  const lines = [
    '# NumPy coverage (issue 22)',
    '',
    'The NumPy functions added for issue 22, generated by `npx tsx test/numpy/coverage.ts --write`',
    'from the exports of their modules and the elementwise op table; `test/numpy/coverage.test.ts`',
    'fails when this file and the code disagree. Values are tested against NumPy',
    '(`test/fixtures/numpy_functions.py`). Compositions fuse like their parts and run on every',
    'backend their parts run on; Metal has no float64.',
    '',
    '| function | NumPy | kind | dtypes | backends | differentiable |',
    '|---|---|---|---|---|---|',
    ...coverageRows().map((r) => `| \`ma.${r.fn}\` | \`${r.numpy}\` | ${r.kind} | ${r.dtypes} | ${r.backends} | ${r.differentiable} |`),
    '',
  ];
  return lines.join('\n');
}

export const COVERAGE_FILE = resolve(import.meta.dirname, '../../docs/numpy-coverage.md');

if (process.argv.includes('--write')) {
  writeFileSync(COVERAGE_FILE, renderCoverage());
  console.log(`wrote ${COVERAGE_FILE}`);
} else if (process.argv[1]?.endsWith('coverage.ts')) {
  console.log(readFileSync(COVERAGE_FILE, 'utf8') === renderCoverage() ? 'up to date' : 'stale');
}
