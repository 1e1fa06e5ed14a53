/**
 * The verified kernel-cache layout shared by the cpu and cuda backends
 * (src/runtime/kernel-cache.ts): objects named by content hash, entries checked
 * against the bytes before anything loads them.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findVerified, markLoaded, readEntry, sha256, storeEntry, storeObject } from '../../src/runtime/kernel-cache.js';

const root = mkdtempSync(join(tmpdir(), 'ma-kcache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const any = (): boolean => true;

function cacheWith(dirName: string, bytes: Uint8Array, builder = 'b1'): { dir: string; object: string } {
  const dir = join(root, dirName);
  const stored = storeObject(dir, bytes, 'cubin');
  storeEntry(dir, 'k_a', { object: stored.object, sha256: stored.sha256, builder, opt: 3 });
  return { dir, object: stored.object };
}

describe('kernel cache verification', () => {
  it('stores an object under its content hash and finds it verified', () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5]);
    const { dir, object } = cacheWith('ok', bytes);
    expect(object).toBe(`obj_${sha256(bytes).slice(0, 32)}.cubin`);
    const hit = findVerified([dir], 'k_a', any);
    expect(hit?.path).toBe(join(dir, object));
    expect(Array.from(hit?.bytes ?? [])).toEqual([1, 2, 3, 4, 5]);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('an object altered in place (same size) is not served, and its entry is dropped where writable', () => {
    const { dir, object } = cacheWith('altered', new Uint8Array([9, 9, 9, 9]));
    writeFileSync(join(dir, object), new Uint8Array([9, 9, 9, 8]));
    expect(findVerified([dir], 'k_a', any, '/elsewhere')).toBeUndefined();
    expect(readEntry(dir, 'k_a')).toBeDefined(); // read-only to us: left alone
    expect(findVerified([dir], 'k_a', any, dir)).toBeUndefined();
    expect(readEntry(dir, 'k_a')).toBeUndefined();
  });

  it('an object this process already loaded by path is not read again when bytes are not needed', () => {
    const { dir, object } = cacheWith('loaded', new Uint8Array([3, 1, 4]));
    const hit = findVerified([dir], 'k_a', any, dir, { bytes: false });
    expect(hit?.bytes).toBeDefined(); // not loaded yet: read and hashed
    if (hit) markLoaded(hit);
    // dlopen would hand back the loaded (verified) image for this path; the file is not consulted.
    writeFileSync(join(dir, object), new Uint8Array([3, 1, 5]));
    expect(findVerified([dir], 'k_a', any, dir, { bytes: false })?.bytes).toBeUndefined();
    expect(findVerified([dir], 'k_a', any, dir, { bytes: false })).toBeDefined();
    // Whoever needs the bytes (a cubin handed to the driver) still reads and checks them.
    expect(findVerified([dir], 'k_a', any, '/elsewhere')).toBeUndefined();
  });

  it('malformed, foreign and escaping entries are misses', () => {
    const { dir, object } = cacheWith('malformed', new Uint8Array([7]));
    writeFileSync(join(dir, 'k_a.json'), '{"object": ');
    expect(findVerified([dir], 'k_a', any)).toBeUndefined();
    const sha = sha256(new Uint8Array([7]));
    writeFileSync(join(dir, 'k_a.json'), JSON.stringify({ object: '../../etc/passwd', sha256: sha, builder: 'b1', opt: 3 }));
    expect(findVerified([dir], 'k_a', any)).toBeUndefined();
    writeFileSync(join(dir, 'k_a.json'), JSON.stringify({ object, sha256: sha, builder: 'b1', opt: 3 }));
    expect(findVerified([dir], 'k_a', (e) => e.builder === 'b2')).toBeUndefined();
    expect(findVerified([dir], 'k_a', (e) => e.builder === 'b1')).toBeDefined();
  });

  it('searches directories in order and falls through a bad one', () => {
    const first = cacheWith('first', new Uint8Array([1]));
    const second = cacheWith('second', new Uint8Array([2]));
    rmSync(join(first.dir, first.object));
    expect(Array.from(findVerified([first.dir, second.dir], 'k_a', any)?.bytes ?? [])).toEqual([2]);
  });

  it('replaces a directory squatting on an entry or object name, and recreates a deleted cache dir', () => {
    const dir = join(root, 'squat');
    const bytes = new Uint8Array([5, 6]);
    mkdirSync(join(dir, `obj_${sha256(bytes).slice(0, 32)}.cubin`), { recursive: true });
    mkdirSync(join(dir, 'k_a.json'));
    const stored = storeObject(dir, bytes, 'cubin');
    storeEntry(dir, 'k_a', { object: stored.object, sha256: stored.sha256, builder: 'b1', opt: 3 });
    expect(findVerified([dir], 'k_a', any)).toBeDefined();
    rmSync(dir, { recursive: true });
    storeEntry(dir, 'k_b', { object: stored.object, sha256: stored.sha256, builder: 'b1', opt: 3 });
    expect(readEntry(dir, 'k_b')).toBeDefined();
  });
});
