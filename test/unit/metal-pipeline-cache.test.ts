/**
 * The Metal disk cache's logic, on any machine (src/runtime/metal/pipeline-cache.ts):
 * the identity key, the verified archive file (written atomically, a changed byte or a
 * file Metal refuses is dropped and the archive starts empty), read-only caches (read,
 * never written), writes every SAVE_EVERY pipelines and at close, and the pipeline
 * bound's setting. The addon is replaced by a fake that serializes an "archive" (the
 * list of pipelines added) the way metalSaveArchive does; the real Objective-C++ side
 * is type-checked by test/codegen/metal-runtime-typecheck.test.ts and run on a Mac by
 * test/gpu/metal.test.ts.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/errors.js';
import { readEntry } from '../../src/runtime/kernel-cache.js';
import {
  ARCHIVE_ENTRY,
  DEFAULT_PIPELINE_LIMIT,
  MetalArchiveCache,
  type MetalArchiveNative,
  type MetalPipelineStats,
  metalCacheIdentity,
  pipelineLimitFromEnv,
  SAVE_EVERY,
} from '../../src/runtime/metal/pipeline-cache.js';

const root = mkdtempSync(join(tmpdir(), 'metalarray-mtlar-'));
const caches: MetalArchiveCache[] = [];
afterAll(() => {
  for (const c of caches) c.close();
});

/** A stand-in for the addon: the archive is a list of pipeline names, serialized as text. */
class FakeMetal implements MetalArchiveNative {
  pipelines: string[] = [];
  pending = 0;
  opened: string[] = [];
  /** Files Metal "cannot read" (another OS's archive). */
  refuse = new Set<string>();

  metalOpenArchive(path: string): string {
    this.opened.push(path);
    this.pending = 0;
    if (path === '') {
      this.pipelines = [];
      return '';
    }
    const text = readFileSync(path, 'utf8');
    if (this.refuse.has(text) || !text.startsWith('ARCHIVE\n')) {
      this.pipelines = [];
      return `Metal could not read the binary archive ${path}: invalid file`;
    }
    this.pipelines = text.split('\n').slice(1).filter(Boolean);
    return '';
  }
  metalSaveArchive(path: string): boolean {
    if (this.pending === 0) return false;
    writeFileSync(path, `ARCHIVE\n${this.pipelines.join('\n')}\n`);
    this.pending = 0;
    return true;
  }
  metalPipelineStats(): MetalPipelineStats {
    return { compiled: 0, loaded: 0, evicted: 0, resident: 0, limit: DEFAULT_PIPELINE_LIMIT, pending: this.pending, archiveNote: '' };
  }
  /** A compile: the pipeline is added (found ones are not). */
  build(name: string): 'loaded' | 'compiled' {
    if (this.pipelines.includes(name)) return 'loaded';
    this.pipelines.push(name);
    this.pending++;
    return 'compiled';
  }
}

const PARTS = { deviceName: 'Apple M2', gpuFamily: 'apple8', languageVersion: '3.1', osRelease: '23.4.0' };

function cacheIn(dir: string, native: FakeMetal, identity = metalCacheIdentity(PARTS)): MetalArchiveCache {
  const c = new MetalArchiveCache(native, identity, dir);
  caches.push(c);
  return c;
}

describe('the Metal cache identity', () => {
  it('is 32 hex digits, stable, and changes with every part', () => {
    const base = metalCacheIdentity(PARTS);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
    expect(metalCacheIdentity({ ...PARTS })).toBe(base);
    for (const key of Object.keys(PARTS) as (keyof typeof PARTS)[]) {
      expect(metalCacheIdentity({ ...PARTS, [key]: `${PARTS[key]}x` }), key).not.toBe(base);
    }
    // Parts are separated: moving text from one part to the next is another identity.
    expect(metalCacheIdentity({ ...PARTS, deviceName: 'Apple M2a', gpuFamily: 'pple8' })).not.toBe(base);
  });
});

describe('the Metal binary archive on disk', () => {
  it('a second process opens the archive the first wrote, and finds every pipeline in it', () => {
    const dir = join(root, 'second');
    const first = new FakeMetal();
    const a = cacheIn(dir, first);
    expect(a.open()).toEqual({ path: undefined, note: '' });
    expect(first.opened).toEqual(['']);
    expect(['k1', 'k2', 'k3'].map((k) => first.build(k))).toEqual(['compiled', 'compiled', 'compiled']);
    a.close();
    const entry = readEntry(a.dirs.write, ARCHIVE_ENTRY);
    expect(entry?.object).toMatch(/^obj_[0-9a-f]{32}\.metallib$/);
    // No temporary file is left beside it.
    expect(readdirSync(a.dirs.write).filter((f) => f.includes('.tmp'))).toEqual([]);

    const second = new FakeMetal();
    const b = cacheIn(dir, second);
    const opened = b.open();
    expect(opened.path).toBe(join(a.dirs.write, entry?.object as string));
    expect(['k1', 'k2', 'k3'].map((k) => second.build(k))).toEqual(['loaded', 'loaded', 'loaded']);
    // Nothing new: nothing is written, and the entry still names the same file.
    expect(b.save()).toBe(false);
    expect(readEntry(b.dirs.write, ARCHIVE_ENTRY)).toEqual(entry);
  });

  it('a new write replaces the entry and removes the previous file', () => {
    const dir = join(root, 'replace');
    const m = new FakeMetal();
    const c = cacheIn(dir, m);
    c.open();
    m.build('k1');
    expect(c.save()).toBe(true);
    const before = readEntry(c.dirs.write, ARCHIVE_ENTRY)?.object as string;
    m.build('k2');
    expect(c.save()).toBe(true);
    const after = readEntry(c.dirs.write, ARCHIVE_ENTRY)?.object as string;
    expect(after).not.toBe(before);
    expect(existsSync(join(c.dirs.write, before))).toBe(false);
    expect(readdirSync(c.dirs.write).filter((f) => f.startsWith('obj_'))).toEqual([after]);
  });

  it(`writes without waiting for exit once ${SAVE_EVERY} pipelines are pending`, () => {
    const dir = join(root, 'every');
    const m = new FakeMetal();
    const c = cacheIn(dir, m);
    c.open();
    for (let i = 0; i < SAVE_EVERY - 1; i++) m.build(`k${i}`);
    c.afterCompile();
    expect(readEntry(c.dirs.write, ARCHIVE_ENTRY)).toBeUndefined();
    m.build('last');
    c.afterCompile();
    expect(readEntry(c.dirs.write, ARCHIVE_ENTRY)).toBeDefined();
    expect(m.pending).toBe(0);
  });

  it('an archive whose bytes changed is not handed to Metal: its entry goes and the archive starts empty', () => {
    const dir = join(root, 'corrupt');
    const m = new FakeMetal();
    const c = cacheIn(dir, m);
    c.open();
    m.build('k1');
    c.close();
    const entry = readEntry(c.dirs.write, ARCHIVE_ENTRY);
    const file = join(c.dirs.write, entry?.object as string);
    const bytes = readFileSync(file);
    bytes[bytes.length - 2] ^= 1; // same size, one bit off
    writeFileSync(file, bytes);

    const next = new FakeMetal();
    const d = cacheIn(dir, next);
    const opened = d.open();
    expect(opened.path).toBeUndefined();
    expect(opened.note).toMatch(/failed verification/);
    expect(next.opened).toEqual(['']);
    expect(readEntry(d.dirs.write, ARCHIVE_ENTRY)).toBeUndefined();
    // Recompiled and stored afresh.
    expect(next.build('k1')).toBe('compiled');
    expect(d.save()).toBe(true);
    expect(readEntry(d.dirs.write, ARCHIVE_ENTRY)).toBeDefined();
  });

  it('an archive Metal refuses (verified bytes, but another OS wrote it) is dropped and the archive starts empty', () => {
    const dir = join(root, 'refused');
    const m = new FakeMetal();
    const c = cacheIn(dir, m);
    c.open();
    m.build('k1');
    c.close();
    const next = new FakeMetal();
    next.refuse.add('ARCHIVE\nk1\n');
    const d = cacheIn(dir, next);
    const opened = d.open();
    expect(opened.path).toBeUndefined();
    expect(opened.note).toMatch(/could not read the binary archive/);
    expect(next.opened.at(-1)).toBe('');
    expect(readEntry(d.dirs.write, ARCHIVE_ENTRY)).toBeUndefined();
  });

  it('an entry of another identity is not used', () => {
    const dir = join(root, 'foreign');
    const m = new FakeMetal();
    const identity = metalCacheIdentity(PARTS);
    const c = cacheIn(dir, m, identity);
    c.open();
    m.build('k1');
    c.close();
    // The same directory read under another builder name (a copied cache): ignored.
    const other = new FakeMetal();
    const foreign = new MetalArchiveCache(other, metalCacheIdentity({ ...PARTS, osRelease: '24.0.0' }), dir);
    expect(foreign.dirs.write).not.toBe(c.dirs.write);
    expect(foreign.open().path).toBeUndefined();
    foreign.close();
  });

  // chmod does not stop root; the case below passes the directories openCacheDirs would pick.
  it.skipIf(typeof process.getuid === 'function' && process.getuid() === 0)('a read-only cache is read but never written (chmod 555; skipped as root)', () => {
    const dir = join(root, 'readonly');
    const m = new FakeMetal();
    const c = cacheIn(dir, m);
    c.open();
    m.build('k1');
    c.close();
    const main = c.dirs.write;
    chmodSync(main, 0o555);
    try {
      const next = new FakeMetal();
      const d = new MetalArchiveCache(next, metalCacheIdentity(PARTS), dir);
      expect(d.dirs.privateWrite).toBe(true);
      expect(d.open().path?.startsWith(main)).toBe(true);
      expect(next.build('k1')).toBe('loaded');
      expect(next.build('k2')).toBe('compiled');
      expect(d.save()).toBe(false);
      d.afterCompile();
      expect(readdirSync(main).filter((f) => f.startsWith('obj_'))).toHaveLength(1);
    } finally {
      chmodSync(main, 0o755);
    }
  });
});

describe('a cache directory we may not write (as openCacheDirs reports it)', () => {
  it('is read, misses stay in memory, and nothing is written to either directory', () => {
    const dir = join(root, 'injected');
    const m = new FakeMetal();
    const c = cacheIn(dir, m);
    c.open();
    m.build('k1');
    c.close();
    const main = c.dirs.write;
    const scratch = mkdtempSync(join(tmpdir(), 'metalarray-mtlar-private-'));
    const next = new FakeMetal();
    const d = new MetalArchiveCache(next, metalCacheIdentity(PARTS), dir, { write: scratch, read: [scratch, main], privateWrite: true });
    expect(d.open().path?.startsWith(main)).toBe(true);
    expect(next.build('k1')).toBe('loaded');
    expect(next.build('k2')).toBe('compiled');
    expect(d.save()).toBe(false);
    d.afterCompile();
    d.close();
    expect(readdirSync(scratch)).toEqual([]);
    expect(readdirSync(main).filter((f) => f.startsWith('obj_'))).toHaveLength(1);
  });
});

describe('the in-memory pipeline bound setting', () => {
  it('METALARRAY_METAL_PIPELINES: unset is the default, a whole number >= 1 is taken, anything else is an ArgumentError naming it', () => {
    expect(pipelineLimitFromEnv(undefined)).toBeUndefined();
    expect(pipelineLimitFromEnv('')).toBeUndefined();
    expect(pipelineLimitFromEnv('1')).toBe(1);
    expect(pipelineLimitFromEnv('2048')).toBe(2048);
    for (const bad of ['0', '-3', '1.5', 'many', 'Infinity']) {
      expect(() => pipelineLimitFromEnv(bad), bad).toThrow(ArgumentError);
      expect(() => pipelineLimitFromEnv(bad), bad).toThrow(/METALARRAY_METAL_PIPELINES/);
    }
    expect(DEFAULT_PIPELINE_LIMIT).toBe(512);
  });

  it('the default matches the native runtime’s', () => {
    const header = readFileSync(join(import.meta.dirname, '../../native/metal/metal_runtime.h'), 'utf8');
    expect(header).toContain(`kDefaultPipelineLimit = ${DEFAULT_PIPELINE_LIMIT};`);
  });
});
