/**
 * The small part of the ZIP format `.npz` needs. Writing: stored (uncompressed)
 * entries, no ZIP64 (an archive up to 4 GiB). Reading: stored and deflated entries,
 * ZIP64 sizes and offsets (NumPy's `savez` always writes ZIP64 local headers), CRC-32
 * checked.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { FileError } from '../errors.js';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
const UTF8_NAMES = 0x0800;
/** 1980-01-01 00:00, the earliest DOS date: archives are byte-identical between runs. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** One file inside an archive. */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/** Builds a ZIP archive of stored entries. */
export function writeZip(entries: readonly ZipEntry[], path: string): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = encoder.encode(e.name);
    const flags = /^[\x20-\x7e]*$/.test(e.name) ? 0 : UTF8_NAMES;
    const crc = crc32(e.data);
    if (e.data.byteLength > 0xfffffffe || offset > 0xfffffffe) throw new FileError(path, '.npz archives over 4 GiB are not supported for writing');
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, LOCAL_HEADER, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint16(6, flags, true);
    lv.setUint16(8, 0, true); // stored
    lv.setUint16(10, 0, true); // time
    lv.setUint16(12, DOS_DATE, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.data.byteLength, true);
    lv.setUint32(22, e.data.byteLength, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, 0, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, CENTRAL_HEADER, true);
    cv.setUint16(4, 20, true); // made by: 2.0, MS-DOS attributes
    cv.setUint16(6, 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, 0, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, DOS_DATE, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, e.data.byteLength, true);
    cv.setUint32(24, e.data.byteLength, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, e.data);
    central.push(cd);
    offset += local.length + e.data.byteLength;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  if (offset + cdSize > 0xfffffffe || entries.length > 0xfffe)
    throw new FileError(path, '.npz archives over 4 GiB or 65535 entries are not supported for writing');
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, END_OF_CENTRAL, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + end.length);
  let at = 0;
  for (const p of [...parts, ...central, end]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads every file entry of a ZIP archive (directories are skipped). */
export function readZip(file: Uint8Array, path: string): ZipEntry[] {
  const bad = (what: string): never => {
    throw new FileError(path, `malformed .npz (zip) archive: ${what}`);
  };
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const u16 = (at: number): number => (at + 2 <= file.length ? view.getUint16(at, true) : bad(`truncated at byte ${at}`));
  const u32 = (at: number): number => (at + 4 <= file.length ? view.getUint32(at, true) : bad(`truncated at byte ${at}`));
  const u64 = (at: number): number => {
    if (at + 8 > file.length) bad(`truncated at byte ${at}`);
    const v = view.getBigUint64(at, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? bad('a ZIP64 size is out of range') : Number(v);
  };
  // The end-of-central-directory record: within the last 22 + 65535 bytes.
  let eocd = -1;
  for (let i = file.length - 22; i >= Math.max(0, file.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === END_OF_CENTRAL) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end-of-central-directory record (not a zip file, or truncated)');
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || u32(locator) !== ZIP64_LOCATOR) bad('ZIP64 fields without a ZIP64 locator');
    const z64 = u64(locator + 8);
    if (u32(z64) !== ZIP64_END) bad('bad ZIP64 end record');
    count = u64(z64 + 32);
    cdSize = u64(z64 + 40);
    cdOffset = u64(z64 + 48);
  }
  if (cdOffset + cdSize > file.length) bad(`the central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the file`);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const out: ZipEntry[] = [];
  let at = cdOffset;
  for (let k = 0; k < count; k++) {
    if (u32(at) !== CENTRAL_HEADER) bad(`central directory entry ${k} has a bad signature`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compressed = u32(at + 20);
    let size = u32(at + 24);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    const commentLen = u16(at + 32);
    let localOffset = u32(at + 42);
    if (at + 46 + nameLen + extraLen > file.length) bad(`central directory entry ${k} is truncated`);
    const name = decoder.decode(file.subarray(at + 46, at + 46 + nameLen));
    // ZIP64 extra field: the 64-bit values of the fields that hold 0xffffffff, in order.
    for (let e = at + 46 + nameLen; e + 4 <= at + 46 + nameLen + extraLen; ) {
      const id = u16(e);
      const len = u16(e + 2);
      if (id === ZIP64_EXTRA) {
        let f = e + 4;
        if (size === 0xffffffff) {
          size = u64(f);
          f += 8;
        }
        if (compressed === 0xffffffff) {
          compressed = u64(f);
          f += 8;
        }
        if (localOffset === 0xffffffff) localOffset = u64(f);
      }
      e += 4 + len;
    }
    at += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 1) bad(`entry '${name}' is encrypted`);
    if (u32(localOffset) !== LOCAL_HEADER) bad(`entry '${name}' has no local header at byte ${localOffset}`);
    const dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
    if (dataStart + compressed > file.length) bad(`entry '${name}' (${compressed} bytes at ${dataStart}) lies past the end of the file`);
    const raw = file.subarray(dataStart, dataStart + compressed);
    let data: Uint8Array;
    if (method === 0) {
      data = raw;
    } else if (method === 8) {
      try {
        data = inflateRawSync(raw);
      } catch (err) {
        return bad(`entry '${name}' does not inflate: ${(err as Error).message}`);
      }
    } else {
      return bad(`entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    }
    if (data.byteLength !== size) bad(`entry '${name}' is ${data.byteLength} bytes; the directory says ${size}`);
    if (crc32(data) !== crc) bad(`entry '${name}' fails its CRC-32 check (corrupt data)`);
    out.push({ name, data });
  }
  return out;
}
