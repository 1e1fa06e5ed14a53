/**
 * The host tools the Linux-side Metal checks need (clang, GNUstep Foundation), and the
 * rule for what happens when they are missing: the suites skip with the reason, and
 * under REQUIRE_MSL_CHECK=1 (set by .ci/run) a missing tool is a failure instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when a skip of the MSL checks must fail the run. */
export const requireMslCheck = process.env.REQUIRE_MSL_CHECK === '1';

/** The first clang++ on PATH that runs, or undefined. */
export function findClang(): string | undefined {
  for (const name of ['clang++', 'clang++-19', 'clang++-18', 'clang++-17', 'clang++-16', 'clang++-15', 'clang++-14']) {
    const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return name;
  }
  return undefined;
}

/** The result of one compiler run. */
export interface ToolRun {
  ok: boolean;
  output: string;
}

/** Runs a command and collects its status and combined output. */
export function runTool(cmd: string, args: readonly string[], input?: string): ToolRun {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Where GNUstep's Foundation headers are, or undefined (Debian: libgnustep-base-dev). */
export function findGnustepInclude(): string | undefined {
  const dir = '/usr/include/GNUstep';
  return existsSync(join(dir, 'Foundation', 'Foundation.h')) ? dir : undefined;
}

/**
 * A directory that exposes GCC's Objective-C runtime headers as <objc/...>, which
 * GNUstep's headers include; undefined if the GCC runtime headers are not installed.
 */
export function gccObjcIncludeDir(): string | undefined {
  const gccRoot = '/usr/lib/gcc';
  const r = spawnSync('sh', ['-c', `ls -d ${gccRoot}/*/*/include/objc 2>/dev/null | sort -V | tail -n 1`], { encoding: 'utf8' });
  const objc = r.stdout.trim();
  if (!objc) return undefined;
  const dir = join(tmpdir(), `metalarray-gccobjc-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const link = join(dir, 'objc');
  if (!existsSync(link)) symlinkSync(objc, link);
  return dir;
}

/** Why a check cannot run here, or '' if it can. */
export function missingTools(needs: { clang?: boolean; gnustep?: boolean }): string {
  const missing: string[] = [];
  if (needs.clang && !findClang()) missing.push('clang++ (Debian: apt-get install clang)');
  if (needs.gnustep && !findGnustepInclude()) missing.push('GNUstep Foundation headers (Debian: apt-get install libgnustep-base-dev)');
  if (needs.gnustep && !gccObjcIncludeDir()) missing.push("GCC's Objective-C runtime headers (Debian: gcc's libobjc headers)");
  return missing.join('; ');
}
