/**
 * native/metal/*.mm type-checks on Linux: clang in Objective-C++ mode against GNUstep's
 * Foundation and our Metal declarations (test/native/metal-decls/Metal/Metal.h, written
 * from Apple's documented API). A control file with a misspelled Metal selector must be
 * rejected, so the check is shown to bite.
 *
 * Limits: ARC is not checked here (clang refuses -fobjc-arc with GCC's Objective-C
 * runtime), and the declarations are only as right as we wrote them; the macOS CI job
 * builds the same files against Apple's SDK.
 */
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findClang, findGnustepInclude, gccObjcIncludeDir, missingTools, requireMslCheck, runTool } from './toolchain.js';

const root = resolve(import.meta.dirname, '../..');
const metalDir = join(root, 'native/metal');
const why = missingTools({ clang: true, gnustep: true });
/** One clang run takes 4-8 s on a loaded 2-core machine. */
const CHECK_TIMEOUT = 60_000;

function typecheck(file: string): ReturnType<typeof runTool> {
  const napi = createRequire(import.meta.url)('node-addon-api').include_dir as string;
  const nodeInclude = join(process.execPath, '../../include/node');
  return runTool(findClang() as string, [
    '-x',
    'objective-c++',
    '-std=c++20',
    '-fsyntax-only',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-Wno-unused-parameter',
    '-fblocks',
    '-fobjc-runtime=gcc',
    '-fobjc-exceptions',
    '-fexceptions',
    '-fconstant-string-class=NSConstantString',
    '-DGNUSTEP',
    '-DGNUSTEP_BASE_LIBRARY=1',
    '-DGNU_RUNTIME=1',
    '-DNAPI_VERSION=9',
    '-DNAPI_CPP_EXCEPTIONS',
    '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    '-DMETALARRAY_WITH_METAL',
    `-I${join(root, 'test/native/metal-decls')}`,
    `-I${gccObjcIncludeDir()}`,
    `-I${findGnustepInclude()}`,
    `-I${napi}`,
    `-I${nodeInclude}`,
    '-I/usr/include/node',
    file,
  ]);
}

describe('native/metal type-checks as Objective-C++ (GNUstep + our Metal declarations)', () => {
  it.skipIf(why !== '' && !requireMslCheck)(`tools present${why ? ` (skipped: ${why})` : ''}`, () => {
    expect(why).toBe('');
  });
  const files = readdirSync(metalDir).filter((f) => f.endsWith('.mm'));
  it('has Objective-C++ sources to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
  });
  for (const f of files) {
    it.skipIf(why !== '')(f, { timeout: CHECK_TIMEOUT }, () => {
      const r = typecheck(join(metalDir, f));
      expect(r.output).toBe('');
      expect(r.ok).toBe(true);
    });
  }
  // Controls: a misspelled selector of the launch path, and wrong uses of the binary
  // archive API (a misspelled selector; an archive where the pipeline options go).
  const CONTROLS: readonly { what: string; from: string; to: string; error: RegExp }[] = [
    { what: 'a misspelled Metal selector', from: 'dispatchThreadgroups:MTLSizeMake', to: 'dispatchThreadGroups:MTLSizeMake', error: /dispatchThreadGroups/ },
    { what: 'a misspelled binary-archive selector', from: '[store serializeToURL:', to: '[store serializeToFile:', error: /serializeToFile/ },
    {
      what: 'an archive passed as the pipeline options',
      from: 'options:MTLPipelineOptionFailOnBinaryArchiveMiss',
      to: 'options:store',
      error: /MTLPipelineOption/,
    },
  ];
  for (const c of CONTROLS) {
    it.skipIf(why !== '')(`rejects ${c.what} (control)`, { timeout: CHECK_TIMEOUT }, () => {
      const src = readFileSync(join(metalDir, 'metal_runtime.mm'), 'utf8');
      const bad = src.replace(c.from, c.to);
      expect(bad).not.toBe(src);
      // The copy lives elsewhere, so its quoted includes are made absolute.
      const absolute = bad
        .replaceAll('"../common/', `"${join(root, 'native/common')}/`)
        .replace(/"(autorelease|metal_runtime)\.h"/g, (_, name: string) => `"${join(metalDir, name)}.h"`);
      const dir = mkdtempSync(join(tmpdir(), 'metalarray-mm-'));
      writeFileSync(join(dir, 'control.mm'), absolute);
      const r = typecheck(join(dir, 'control.mm'));
      expect(r.ok).toBe(false);
      expect(r.output).toMatch(c.error);
    });
  }
});
