// Runs one instrumented doc block (a module path) and writes what its `console.log(...)
// // shown` lines printed, as JSON, to the result path: `node --import tsx run-block.mts
// <block.mts> <result.json>`. A block that throws exits non-zero with the error on stderr;
// what it printed before is still written.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [blockPath, resultPath] = process.argv.slice(2);
try {
  await import(pathToFileURL(blockPath).href);
} finally {
  const printed = (globalThis as { __docPrinted?: (string | null)[] }).__docPrinted ?? [];
  writeFileSync(resultPath, JSON.stringify(Array.from(printed, (p) => p ?? null)));
}
