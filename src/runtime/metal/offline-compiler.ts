/**
 * Metal's offline compiler (`metal` and `metallib`, from Xcode or its command-line
 * tools, found through `xcrun` at run time on macOS). Where it is installed, each
 * kernel's MSL is compiled once to a metallib and kept in the kernel cache, keyed like
 * the CUDA cubins (an entry per kernel name, its builder naming the compiler version and
 * options); a later process loads the verified file (`newLibraryWithURL`) and so skips
 * the MSL-to-AIR step that the binary archive (pipeline-cache.ts) does not keep. Where
 * it is not, Metal compiles the source at run time as before.
 *
 * The metallib holds AIR, which Metal still turns into GPU code when a pipeline is made:
 * that step is what the binary archive keeps, so the two caches together compile
 * nothing in a second process.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompileError } from '../../errors.js';
import { findVerified, type KernelCacheDirs, storeEntry, storeObject, temporaryName } from '../kernel-cache.js';

/** The offline compiler's tools and version (part of every cache key). */
export interface OfflineMetalCompiler {
  /** Path of `metal` (MSL to AIR). */
  readonly metal: string;
  /** Path of `metallib` (AIR to a library). */
  readonly metallib: string;
  /** `metal --version`'s first line. */
  readonly version: string;
}

/** Runs a tool: status, stdout and stderr (spawnSync's shape; replaced in tests). */
export type ToolRunner = (command: string, args: readonly string[]) => { status: number | null; stdout: string; stderr: string };

const runTool: ToolRunner = (command, args) => {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000 });
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
};

/**
 * The options kernels are compiled with, as the runtime compiles them
 * (native/metal/metal_runtime.mm, Options): MSL 3.1, fast math off.
 */
export const OFFLINE_METAL_FLAGS: readonly string[] = ['-std=metal3.1', '-fno-fast-math'];

/**
 * The offline compiler, if this machine has one: macOS only, `xcrun --find metal` and
 * `xcrun --find metallib` both found and `metal --version` answering. Off with
 * METALARRAY_METAL_OFFLINE=0 (Metal then compiles every source at run time).
 *
 * @example
 * ```ts
 * const compiler = findOfflineMetalCompiler(); // undefined off macOS or without Xcode's tools
 * ```
 */
export function findOfflineMetalCompiler(
  run: ToolRunner = runTool,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): OfflineMetalCompiler | undefined {
  if (platform !== 'darwin' || env.METALARRAY_METAL_OFFLINE === '0') return undefined;
  const find = (tool: string): string | undefined => {
    const r = run('xcrun', ['--sdk', 'macosx', '--find', tool]);
    const path = r.stdout.trim();
    return r.status === 0 && path !== '' ? path : undefined;
  };
  const metal = find('metal');
  const metallib = find('metallib');
  if (!metal || !metallib) return undefined;
  const v = run(metal, ['--version']);
  const version = `${v.stdout}${v.stderr}`.split('\n')[0].trim();
  return v.status === 0 && version !== '' ? { metal, metallib, version } : undefined;
}

/**
 * The cache builder of metallibs from `compiler`: its version and the flags, hashed,
 * so another Xcode (or other flags) never takes this one's files.
 *
 * @example
 * ```ts
 * offlineBuilder({ metal: '/x/metal', metallib: '/x/metallib', version: 'Apple metal version 32023.155' }); // 'metal-offline-…'
 * ```
 */
export function offlineBuilder(compiler: OfflineMetalCompiler): string {
  const key = createHash('sha256').update(compiler.version).update('\n').update(OFFLINE_METAL_FLAGS.join(' ')).digest('hex');
  return `metal-offline-${key.slice(0, 16)}`;
}

/**
 * The verified metallib of kernel `name` (its full MSL, prelude included, is `source`)
 * in the cache `dirs`: a hit's path, or the offline compiler's output stored under its
 * content hash and an entry named `name`. Throws CompileError with the compiler's log
 * when `metal` or `metallib` fails.
 *
 * @example
 * ```ts
 * const path = offlineMetallib(compiler, dirs, 'k_ab12…', `${MSL_PRELUDE}\n${kernelSource}`);
 * native.metalLoadLibrary(path, source, ['k_ab12…']);
 * ```
 */
export function offlineMetallib(
  compiler: OfflineMetalCompiler,
  dirs: KernelCacheDirs,
  name: string,
  source: string,
  run: ToolRunner = runTool,
): { path: string; cached: boolean } {
  const builder = offlineBuilder(compiler);
  const hit = findVerified(dirs.read, name, (e) => e.builder === builder, dirs.write);
  if (hit) return { path: hit.path, cached: true };
  const stem = temporaryName(dirs.write, name);
  const files = { metal: `${stem}.metal`, air: `${stem}.air`, lib: `${stem}.metallib` };
  try {
    writeFileSync(files.metal, source);
    const steps: [string, string[]][] = [
      [compiler.metal, [...OFFLINE_METAL_FLAGS, '-c', files.metal, '-o', files.air]],
      [compiler.metallib, [files.air, '-o', files.lib]],
    ];
    for (const [tool, args] of steps) {
      const r = run(tool, args);
      if (r.status !== 0) throw new CompileError(`Metal's offline compiler (${tool}) could not compile kernel ${name}`, source, `${r.stderr}${r.stdout}`);
    }
    const stored = storeObject(dirs.write, readFileSync(files.lib), 'metallib');
    storeEntry(dirs.write, name, { object: stored.object, sha256: stored.sha256, builder, opt: 0 });
    return { path: join(dirs.write, stored.object), cached: false };
  } finally {
    for (const f of Object.values(files)) rmSync(f, { force: true });
  }
}
