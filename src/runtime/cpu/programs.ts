/**
 * Finding external programs (the C compiler, tcc) without starting a process: a PATH
 * look-up and a stat, microseconds where a `--version` run costs 10-40 ms of CPU.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether `path` is an executable file. */
export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The executable file a command name runs: `program` itself if it contains a '/', else
 * the first match on PATH; undefined if there is none.
 */
export function findProgram(program: string): string | undefined {
  if (program.includes('/')) return isExecutableFile(program) ? program : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, program);
    if (dir !== '' && isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
