/**
 * Metal's offline compiler, on any machine (src/runtime/metal/offline-compiler.ts):
 * found through xcrun on macOS only, its metallibs stored in the kernel cache keyed like
 * the CUDA cubins (an entry per kernel, the builder naming the compiler version and
 * flags), a second lookup a verified hit that runs no tool, a changed byte or another
 * compiler version compiled again, a failing compile a CompileError with the log. The
 * tools are replaced by a fake runner that writes the files `metal` and `metallib`
 * would; the real ones run on a Mac (the macOS job), where the backend loads the files
 * with metalLoadLibrary (native/metal, type-checked on Linux).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompileError } from '../../src/errors.js';
import { openCacheDirs, readEntry } from '../../src/runtime/kernel-cache.js';
import {
  findOfflineMetalCompiler,
  OFFLINE_METAL_FLAGS,
  type OfflineMetalCompiler,
  offlineBuilder,
  offlineMetallib,
  type ToolRunner,
} from '../../src/runtime/metal/offline-compiler.js';

const root = mkdtempSync(join(tmpdir(), 'metalarray-mtloff-'));

/** xcrun that finds both tools, and a `metal --version` answer. */
const xcrun: ToolRunner = (command, args) => {
  if (command === 'xcrun') return { status: 0, stdout: `/Xcode/bin/${args[args.length - 1]}\n`, stderr: '' };
  if (args[0] === '--version') return { status: 0, stdout: 'Apple metal version 32023.155 (metalfe-32023.155)\nTarget: air64\n', stderr: '' };
  return { status: 1, stdout: '', stderr: 'unexpected' };
};

/** Fake tools: `metal` writes AIR text from the source (failing on `#error`), `metallib` wraps it. */
function fakeTools(): { run: ToolRunner; calls: string[][] } {
  const calls: string[][] = [];
  const run: ToolRunner = (command, args) => {
    calls.push([command, ...args]);
    const out = args[args.indexOf('-o') + 1];
    if (command.endsWith('/metal')) {
      const source = readFileSync(args[args.indexOf('-c') + 1], 'utf8');
      if (source.includes('#error')) return { status: 1, stdout: '', stderr: 'kernel.metal:3:2: error: bad kernel' };
      writeFileSync(out, `AIR ${args.slice(0, OFFLINE_METAL_FLAGS.length).join(' ')}\n${source}`);
      return { status: 0, stdout: '', stderr: '' };
    }
    writeFileSync(out, `METALLIB\n${readFileSync(args[0], 'utf8')}`);
    return { status: 0, stdout: '', stderr: '' };
  };
  return { run, calls };
}

const compiler: OfflineMetalCompiler = { metal: '/Xcode/bin/metal', metallib: '/Xcode/bin/metallib', version: 'Apple metal version 32023.155' };

describe('finding the offline compiler', () => {
  it('is found on macOS through xcrun, with the version that keys its files', () => {
    expect(findOfflineMetalCompiler(xcrun, 'darwin', {})).toEqual({
      metal: '/Xcode/bin/metal',
      metallib: '/Xcode/bin/metallib',
      version: 'Apple metal version 32023.155 (metalfe-32023.155)',
    });
  });

  it('is absent off macOS, without xcrun’s tools, and with METALARRAY_METAL_OFFLINE=0', () => {
    expect(findOfflineMetalCompiler(xcrun, 'linux', {})).toBeUndefined();
    expect(findOfflineMetalCompiler(xcrun, 'darwin', { METALARRAY_METAL_OFFLINE: '0' })).toBeUndefined();
    const noTools: ToolRunner = () => ({ status: 1, stdout: '', stderr: 'xcrun: error: unable to find utility "metal"' });
    expect(findOfflineMetalCompiler(noTools, 'darwin', {})).toBeUndefined();
    const noMetallib: ToolRunner = (command, args) => (args.includes('metallib') ? { status: 1, stdout: '', stderr: 'not found' } : xcrun(command, args));
    expect(findOfflineMetalCompiler(noMetallib, 'darwin', {})).toBeUndefined();
  });
});

describe('metallibs in the kernel cache', () => {
  it('compiles once with the runtime’s options, then a second process takes the verified file and runs no tool', () => {
    const dirs = openCacheDirs(join(root, 'once'));
    const tools = fakeTools();
    const source = '#include <metal_stdlib>\nkernel void k_1() {}\n';
    const first = offlineMetallib(compiler, dirs, 'k_1', source, tools.run);
    expect(first.cached).toBe(false);
    expect(tools.calls.map((c) => c[0])).toEqual([compiler.metal, compiler.metallib]);
    expect(tools.calls[0]).toEqual(expect.arrayContaining(['-std=metal3.1', '-fno-fast-math', '-c']));
    expect(readFileSync(first.path, 'utf8')).toBe(`METALLIB\nAIR -std=metal3.1 -fno-fast-math\n${source}`);
    expect(readEntry(dirs.write, 'k_1')?.builder).toBe(offlineBuilder(compiler));
    // Only the object and its entry are left (the .metal, .air and temporary files are gone).
    expect(readdirSync(dirs.write).sort()).toEqual([first.path.split('/').pop(), 'k_1.json'].sort());

    const later = fakeTools();
    const second = offlineMetallib(compiler, openCacheDirs(join(root, 'once')), 'k_1', source, later.run);
    expect(second).toEqual({ path: first.path, cached: true });
    expect(later.calls).toEqual([]);
  });

  it('another compiler version, or a changed byte, compiles again', () => {
    const dirs = openCacheDirs(join(root, 'again'));
    const source = 'kernel void k_2() {}\n';
    const first = offlineMetallib(compiler, dirs, 'k_2', source, fakeTools().run);
    const newer = { ...compiler, version: 'Apple metal version 32023.404' };
    expect(offlineBuilder(newer)).not.toBe(offlineBuilder(compiler));
    const tools = fakeTools();
    expect(offlineMetallib(newer, dirs, 'k_2', source, tools.run).cached).toBe(false);
    expect(tools.calls.length).toBe(2);

    writeFileSync(first.path, 'METALLIB\ntampered');
    const again = fakeTools();
    const rebuilt = offlineMetallib(compiler, dirs, 'k_2', source, again.run);
    expect(rebuilt.cached).toBe(false);
    expect(again.calls.length).toBe(2);
    expect(readFileSync(rebuilt.path, 'utf8')).toContain(source);
  });

  it('a kernel the compiler rejects is a CompileError with its log, and leaves no files', () => {
    const dirs = openCacheDirs(join(root, 'bad'));
    const source = 'kernel void k_3() {\n#error nope\n}\n';
    let caught: unknown;
    try {
      offlineMetallib(compiler, dirs, 'k_3', source, fakeTools().run);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CompileError);
    expect((caught as CompileError).log).toContain('error: bad kernel');
    expect((caught as CompileError).source).toBe(source);
    expect(existsSync(join(dirs.write, 'k_3.json'))).toBe(false);
    expect(readdirSync(dirs.write)).toEqual([]);
  });
});
