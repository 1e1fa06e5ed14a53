import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ma from '../../src/index.js';
import { type Described, describeArray, normalise, numpyMissingReason, runNumpy } from './numpy.js';
import { HAS_FLOAT64 } from '../support/backend.js';

const dir = mkdtempSync(join(tmpdir(), 'ma-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const missing = numpyMissingReason();
const requireNumpy = process.env.REQUIRE_NUMPY === '1';

describe('NumPy is present when REQUIRE_NUMPY=1', () => {
  it.runIf(requireNumpy)('python3-numpy imports', () => {
    expect(missing).toBeNull();
  });
});

const ALL: ma.DType[] = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'bfloat16', 'float32', 'float64'];
const NUMPY_DTYPES = ALL.filter((d) => d !== 'bfloat16');

/** A small array of `dtype` whose values differ at every position. */
function sample(dtype: ma.DType, shape: number[]): ma.MetalArray {
  const n = shape.reduce((p, d) => p * d, 1);
  const values: number[] = [];
  for (let i = 0; i < n; i++)
    values.push(
      dtype === 'bool'
        ? i % 3 === 1
          ? 1
          : 0
        : dtype.startsWith('uint')
          ? i * 3 + 1
          : (i - Math.floor(n / 2)) * (dtype.startsWith('float') || dtype === 'bfloat16' ? 0.5 : 3),
    );
  return ma.array(values, dtype).reshape(shape);
}

describe.skipIf(missing !== null)(`files NumPy wrote${missing ? ` (skipped: ${missing})` : ''}`, () => {
  type Manifest = Record<string, Described> & { npz: Record<string, Described> };
  const manifest: Manifest = missing ? ({ npz: {} } as unknown as Manifest) : runNumpy<Manifest>(['write', dir]);

  it('reads every .npy case: each dtype, C and Fortran order, big-endian, 0-d, empty, versions 2.0 and 3.0', () => {
    const names = Object.keys(manifest).filter((k) => k !== 'npz');
    expect(names.length).toBeGreaterThan(30);
    for (const name of names) {
      const got = ma.load(join(dir, `${name}.npy`)) as ma.MetalArray;
      expect(describeArray(got), name).toEqual(normalise(manifest[name]));
      got.dispose();
    }
  });

  it('reads stored and deflated .npz archives (NumPy writes ZIP64 headers)', () => {
    for (const file of ['plain.npz', 'compressed.npz']) {
      const got = ma.load(join(dir, file)) as Record<string, ma.MetalArray>;
      expect(Object.keys(got).sort()).toEqual(Object.keys(manifest.npz).sort());
      for (const [k, a] of Object.entries(got)) expect(describeArray(a), `${file}:${k}`).toEqual(normalise(manifest.npz[k]));
    }
  });

  it('NumPy reads what we write: every dtype, views as their logical contents, 0-d, empty, .npz', () => {
    const expected: Record<string, Described | Record<string, Described>> = {};
    const names: string[] = [];
    for (const d of NUMPY_DTYPES) {
      const a = sample(d, [3, 4]);
      ma.save(join(dir, `ours_${d}`), a); // .npy is appended
      names.push(`ours_${d}.npy`);
      expected[`ours_${d}.npy`] = describeArray(a);
    }
    const base = ma.arange(24).reshape(2, 3, 4);
    const views: Record<string, ma.MetalArray> = {
      transposed: base.transpose([2, 0, 1]),
      stepped: base.slice('::-1, 1:, ::2'),
      broadcast: ma.array([1, 2, 3], 'int16').broadcastTo([2, 3]),
      scalar: ma.array(2.5, 'float64'),
      empty: ma.zeros([0, 4], 'uint8'),
      fused: base.astype('float32').multiply(0.5).add(1).slice(':, ::-1'),
    };
    for (const [k, v] of Object.entries(views)) {
      ma.save(join(dir, `view_${k}.npy`), v);
      names.push(`view_${k}.npy`);
      expected[`view_${k}.npy`] = describeArray(v);
    }
    ma.savez(join(dir, 'ours'), views);
    names.push('ours.npz');
    expected['ours.npz'] = Object.fromEntries(Object.entries(views).map(([k, v]) => [k, describeArray(v)]));
    const numpyRead = runNumpy<Record<string, Described | Record<string, Described>>>(['read', dir, ...names]);
    for (const name of names) {
      const got = numpyRead[name];
      if ('values' in got) expect(normalise(got as Described), name).toEqual(expected[name]);
      else
        for (const [k, d] of Object.entries(got as Record<string, Described>))
          expect(normalise(d), `${name}:${k}`).toEqual((expected[name] as Record<string, Described>)[k]);
    }
  });
});

describe('round trips without NumPy', () => {
  it('.npy and .npz round-trip every dtype NumPy has, and .npz keeps names', () => {
    const arrays: Record<string, ma.MetalArray> = {};
    for (const d of NUMPY_DTYPES) {
      const a = sample(d, [2, 5]);
      const back = ma.load(ma.save(join(dir, `rt_${d}.npy`), a)) as ma.MetalArray;
      expect(back.dtype).toBe(d);
      expect(back.tolist()).toEqual(a.tolist());
      arrays[`x_${d}`] = a;
    }
    const z = ma.load(ma.savez(join(dir, 'rt.npz'), arrays)) as Record<string, ma.MetalArray>;
    expect(Object.keys(z)).toEqual(Object.keys(arrays));
    for (const [k, a] of Object.entries(arrays)) expect(z[k].tolist()).toEqual(a.tolist());
  });

  it('float16 keeps its exact bits (NaN, inf, subnormals) through .npy', () => {
    const a = ma.array([Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** -24, 65504], 'float16');
    const back = ma.load(ma.save(join(dir, 'half.npy'), a)) as ma.MetalArray;
    const raw = readFileSync(join(dir, 'half.npy'));
    expect(Array.from(new Uint16Array(raw.buffer.slice(raw.byteOffset + 128 - 0, raw.byteOffset + raw.byteLength).slice(0, 10)))).toEqual([
      0x7e00, 0x7c00, 0x8000, 0x0001, 0x7bff,
    ]);
    expect(Array.from(back.toTypedArray() as Float32Array)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** -24, 65504]);
  });

  it('bfloat16 cannot go to .npy/.npz (NumPy has no bfloat16): FileError saying what to do', () => {
    const b = ma.array([1, 2], 'bfloat16');
    expect(() => ma.save(join(dir, 'bf.npy'), b)).toThrow(ma.FileError);
    expect(() => ma.save(join(dir, 'bf.npy'), b)).toThrow(/bfloat16.*saveSafetensors/);
    expect(() => ma.savez(join(dir, 'bf.npz'), { b })).toThrow(ma.FileError);
  });

  it('bad arguments are typed errors', () => {
    const a = ma.array([1, 2]);
    expect(() => ma.save('' as string, a)).toThrow(ma.ArgumentError);
    expect(() => ma.save(join(dir, 'x.npy'), [1, 2] as unknown as ma.MetalArray)).toThrow(ma.ArgumentError);
    expect(() => ma.savez(join(dir, 'x.npz'), a as unknown as Record<string, ma.MetalArray>)).toThrow(ma.ArgumentError);
    expect(() => ma.saveSafetensors(join(dir, 'x'), { a }, { k: 3 } as unknown as Record<string, string>)).toThrow(ma.FileError);
    expect(() => ma.load(42 as unknown as string)).toThrow(ma.ArgumentError);
    expect(() => ma.load(join(dir, 'no-such-file.npy'))).toThrow(ma.FileError);
    expect(() => ma.load(join(dir, 'no-such-file.npy'))).toThrow(/no-such-file.npy: cannot read the file: ENOENT/);
    expect(() => ma.save(join(dir, 'no-such-dir', 'x.npy'), a)).toThrow(ma.FileError);
    // The return type follows the extension: a name that disagrees with the contents is an error.
    writeFileSync(join(dir, 'archive.npy'), readFileSync(ma.savez(join(dir, 'archive'), { a })));
    expect(() => ma.load(join(dir, 'archive.npy'))).toThrow(/the name says .npy but the file holds a zip/);
    writeFileSync(join(dir, 'single.npz'), readFileSync(ma.save(join(dir, 'single'), a)));
    expect(() => ma.load(join(dir, 'single.npz'))).toThrow(/the name says .npz but the file holds a .npy array/);
    writeFileSync(join(dir, 'no-extension'), readFileSync(join(dir, 'single.npy')));
    expect((ma.load(join(dir, 'no-extension')) as ma.MetalArray).tolist()).toEqual([1, 2]);
    const d = ma.array([1]);
    d.dispose();
    expect(() => ma.save(join(dir, 'x.npy'), d)).toThrow(ma.DisposedError);
  });
});

// ---- safetensors: bytes built by hand from the format spec ----

function le64(n: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return [...b];
}

/** A safetensors image: 8-byte LE header length, the JSON (space-padded to 8), the data. */
function buildSafetensors(header: string, data: number[], pad = true): Uint8Array {
  const json = [...new TextEncoder().encode(header)];
  while (pad && (8 + json.length) % 8 !== 0) json.push(0x20);
  return new Uint8Array([...le64(json.length), ...json, ...data]);
}

const f32 = (...xs: number[]) => [...new Uint8Array(new Float32Array(xs).buffer)];

describe('safetensors', () => {
  it('the writer produces exactly the bytes the spec gives for a known input', () => {
    const file = ma.saveSafetensors(
      join(dir, 'known'),
      { w: ma.array([1.5, -2], 'float32'), b: ma.array(1, 'bfloat16'), m: ma.array([true, false, true]), i: ma.array([-2n], 'int64').reshape([1, 1]) },
      { format: 'pt' },
    );
    expect(file).toBe(join(dir, 'known.safetensors'));
    const header =
      '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[],"data_offsets":[8,10]},' +
      '"m":{"dtype":"BOOL","shape":[3],"data_offsets":[10,13]},"i":{"dtype":"I64","shape":[1,1],"data_offsets":[13,21]}}';
    const data = [...f32(1.5, -2), 0x80, 0x3f, 1, 0, 1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const expected = buildSafetensors(header, data);
    expect((8 + header.length) % 8).not.toBe(0); // the case exercises the padding
    expect([...readFileSync(file)]).toEqual([...expected]);
  });

  it('reads hand-built files of every dtype, with metadata, padding and any tensor order', () => {
    const parts: { name: string; code: string; dtype: ma.DType; shape: number[]; bytes: number[]; values: (number | bigint | boolean)[] }[] = [
      { name: 'f64', code: 'F64', dtype: 'float64', shape: [2], bytes: [...new Uint8Array(new Float64Array([0.1, -3]).buffer)], values: [0.1, -3] },
      { name: 'f32', code: 'F32', dtype: 'float32', shape: [1, 2], bytes: f32(2.5, -1), values: [2.5, -1] },
      { name: 'f16', code: 'F16', dtype: 'float16', shape: [2], bytes: [0x00, 0x3c, 0x00, 0xc0], values: [1, -2] },
      { name: 'bf16', code: 'BF16', dtype: 'bfloat16', shape: [2], bytes: [0xc0, 0x3f, 0x80, 0xbf], values: [1.5, -1] },
      { name: 'i64', code: 'I64', dtype: 'int64', shape: [1], bytes: le64(2 ** 40 + 3), values: [2n ** 40n + 3n] },
      { name: 'u64', code: 'U64', dtype: 'uint64', shape: [1], bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], values: [2n ** 64n - 1n] },
      { name: 'i32', code: 'I32', dtype: 'int32', shape: [1], bytes: [0xfe, 0xff, 0xff, 0xff], values: [-2] },
      { name: 'u32', code: 'U32', dtype: 'uint32', shape: [1], bytes: [0xfe, 0xff, 0xff, 0xff], values: [4294967294] },
      { name: 'i16', code: 'I16', dtype: 'int16', shape: [1], bytes: [0x00, 0x80], values: [-32768] },
      { name: 'u16', code: 'U16', dtype: 'uint16', shape: [1], bytes: [0x00, 0x80], values: [32768] },
      { name: 'i8', code: 'I8', dtype: 'int8', shape: [2], bytes: [0x80, 0x7f], values: [-128, 127] },
      { name: 'u8', code: 'U8', dtype: 'uint8', shape: [2], bytes: [0x80, 0x7f], values: [128, 127] },
      { name: 'bool', code: 'BOOL', dtype: 'bool', shape: [3], bytes: [1, 0, 1], values: [true, false, true] },
      { name: 'scalar', code: 'F32', dtype: 'float32', shape: [], bytes: f32(7), values: [7] },
      { name: 'empty', code: 'F32', dtype: 'float32', shape: [0, 2], bytes: [], values: [] },
    ];
    // Lay the data out in reverse order of the header entries, so file order ≠ header order.
    const data: number[] = [];
    const offsets = new Map<string, [number, number]>();
    for (const p of [...parts].reverse()) {
      offsets.set(p.name, [data.length, data.length + p.bytes.length]);
      data.push(...p.bytes);
    }
    const header = JSON.stringify({
      ...Object.fromEntries(parts.map((p) => [p.name, { dtype: p.code, shape: p.shape, data_offsets: offsets.get(p.name) }])),
      __metadata__: { source: 'hand-built', note: 'ünïcode' },
    });
    const file = join(dir, 'hand.safetensors');
    writeFileSync(file, buildSafetensors(header, data));
    const { arrays, metadata } = ma.loadSafetensors(file);
    expect(metadata).toEqual({ source: 'hand-built', note: 'ünïcode' });
    expect(Object.keys(arrays)).toEqual(parts.map((p) => p.name));
    for (const p of parts) {
      const a = arrays[p.name];
      expect(a.dtype, p.name).toBe(p.dtype);
      expect(a.shape, p.name).toEqual(p.shape);
      const flat = p.shape.length === 0 ? [a.item()] : (a.reshape(-1).tolist() as (number | bigint | boolean)[]);
      expect(flat, p.name).toEqual(p.values);
    }
    expect(Object.keys(ma.load(file))).toEqual(parts.map((p) => p.name));
  });

  it('round-trips every dtype, bfloat16 included, and views', () => {
    const arrays: Record<string, ma.MetalArray> = {};
    // A view is written through a copy kernel; float64 only as stored where the default
    // backend cannot compute in it (Metal): files hold float64 either way.
    for (const d of ALL) arrays[d] = d === 'float64' && !HAS_FLOAT64 ? sample(d, [3, 2]) : sample(d, [2, 3]).T;
    const { arrays: back, metadata } = ma.loadSafetensors(ma.saveSafetensors(join(dir, 'all'), arrays));
    expect(metadata).toEqual({});
    for (const d of ALL) {
      expect(back[d].dtype).toBe(d);
      expect(back[d].tolist()).toEqual(arrays[d].tolist());
    }
  });
});

// ---- malformed files: a FileError naming the file and the problem ----

describe('malformed files', () => {
  const npyHeader = (dict: string, version = 1): number[] => {
    const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
    const text = `${dict}${' '.repeat(total - 10 - dict.length - 1)}\n`;
    return [0x93, ...new TextEncoder().encode('NUMPY'), version, 0, (total - 10) & 0xff, (total - 10) >> 8, ...new TextEncoder().encode(text)];
  };
  const goodNpy = () => [...npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"), ...f32(1, 2)];
  const expectBad = (name: string, bytes: Uint8Array | number[], problem: RegExp) => {
    const file = join(dir, name);
    writeFileSync(file, bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    let caught: unknown;
    try {
      ma.load(file);
    } catch (err) {
      caught = err;
    }
    expect(caught, name).toBeInstanceOf(ma.FileError);
    expect((caught as ma.FileError).path).toContain(name);
    expect((caught as Error).message, name).toMatch(problem);
  };

  it('.npy: hand-built good file loads (the helper is right)', () => {
    const file = join(dir, 'good.npy');
    writeFileSync(file, new Uint8Array(goodNpy()));
    expect((ma.load(file) as ma.MetalArray).tolist()).toEqual([1, 2]);
  });

  it('.npy problems', () => {
    expectBad('empty.npy', [], /not a .npy, .npz or safetensors/);
    expectBad('magic.npy', [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58, 1, 0, 0, 0], /not a .npy, .npz or safetensors/);
    expectBad('version.npy', [0x93, ...new TextEncoder().encode('NUMPY'), 9, 0, 0, 0], /version 9/);
    expectBad('short-header.npy', goodNpy().slice(0, 40), /truncated .npy header/);
    expectBad('short-data.npy', goodNpy().slice(0, -1), /truncated .npy data/);
    expectBad('long-data.npy', [...goodNpy(), 0], /unexpected bytes/);
    expectBad('complex.npy', npyHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"), /unsupported .npy dtype '<c8'/);
    expectBad('struct.npy', npyHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"), /structured/);
    expectBad('keys.npy', npyHeader("{'descr': '<f4', 'shape': (1,), }"), /exactly the keys/);
    expectBad('order.npy', npyHeader("{'descr': '<f4', 'fortran_order': 1, 'shape': (1,), }"), /fortran_order/);
    expectBad('shape.npy', npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), /non-negative/);
    expectBad('shape-type.npy', npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': 3, }"), /shape must be a tuple/);
    expectBad('syntax.npy', npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,) "), /malformed .npy header/);
    expectBad('huge.npy', npyHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"), /too large/);
  });

  it('.npz problems', () => {
    const a = ma.array([1, 2, 3]);
    const good = readFileSync(ma.savez(join(dir, 'good'), { a }));
    expectBad('cut.npz', good.subarray(0, good.length - 30), /malformed .npz/);
    const crc = Buffer.from(good);
    crc[60] ^= 0xff; // inside the stored .npy bytes
    expectBad('crc.npz', crc, /CRC-32/);
    const method = Buffer.from(good);
    method.writeUInt16LE(12, 8); // local header: bzip2
    const cdAt = method.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    method.writeUInt16LE(12, cdAt + 10);
    expectBad('method.npz', method, /compression method 12/);
    // A good zip holding a broken .npy: the error names the entry.
    const inner = Buffer.from(good);
    const npyAt = inner.indexOf(Buffer.from('NUMPY'));
    inner[npyAt + 5] = 0x21; // version byte → 33 (CRC now fails first, so fix it up)
    expectBad('inner.npz', inner, /CRC-32|version/);
  });

  it('safetensors problems', () => {
    const good = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    expectBad('tiny.safetensors', [1, 2, 3], /not a .npy, .npz or safetensors/);
    expectBad('len.safetensors', [...le64(1000), 0x7b, 0x7d], /header claims 1000 bytes/);
    expectBad('biglen.safetensors', [...le64(2 ** 40), 0x7b], /over the 100 MB limit/);
    expectBad('json.safetensors', buildSafetensors('{"a":', []), /not valid UTF-8 JSON/);
    expectBad('array.safetensors', buildSafetensors('{}', [1]), /data area is 1 bytes but the tensors cover 0/);
    expectBad('dtype.safetensors', buildSafetensors('{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}', f32(1, 2)), /unsupported dtype "C64"/);
    expectBad('offsets.safetensors', buildSafetensors('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', f32(1, 2)), /data_offsets \[0, 8\]/);
    expectBad('past.safetensors', buildSafetensors(good, f32(1)), /past the end/);
    expectBad('trailing.safetensors', buildSafetensors(good, f32(1, 2, 3)), /data area is 12 bytes/);
    expectBad(
      'overlap.safetensors',
      buildSafetensors('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32(1, 2)),
      /overlapping or missing/,
    );
    expectBad('meta.safetensors', buildSafetensors('{"__metadata__":{"k":1}}', []), /__metadata__ value 'k'/);
    expectBad('shape.safetensors', buildSafetensors('{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', f32(1)), /non-negative integers/);
  });
});
