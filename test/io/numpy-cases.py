# Writes .npy/.npz files with NumPy for test/io/files.test.ts, and reads back files
# metalarray wrote. Usage: numpy-cases.py write DIR | numpy-cases.py read DIR NAME...
# Values are chosen to be exact in every dtype, so they compare as exact strings.
import json
import sys

import numpy as np

DTYPES = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'float32', 'float64']


def pattern(dtype, shape):
    n = int(np.prod(shape))
    k = np.arange(n)
    if dtype == 'bool':
        v = (k % 3) == 1
    elif dtype.startswith('int'):
        info = np.iinfo(dtype)
        scale = 2 ** (info.bits - 8)
        vals = [(((i * 29) % 251) - 125) * scale + (i if scale > 1 else 0) for i in range(n)]
        if n > 2:
            vals[1], vals[2] = int(info.max), int(info.min)
        v = np.array(vals, dtype=object).astype(dtype)
    elif dtype.startswith('uint'):
        top = int(np.iinfo(dtype).max)
        v = np.array([top - i if i % 2 else i * 3 for i in range(n)], dtype=object).astype(dtype)
    else:
        v = ((k - n // 2) * 0.5).astype(dtype)
    return np.asarray(v, dtype=dtype).reshape(shape)


def describe(a):
    flat = np.ascontiguousarray(a).ravel()
    if a.dtype == np.bool_:
        values = ['1' if x else '0' for x in flat]
    elif a.dtype.kind in 'iu':
        values = [str(int(x)) for x in flat]
    else:
        values = [repr(float(x)) for x in flat]
    return {'dtype': a.dtype.name, 'shape': list(a.shape), 'values': values}


def write(d):
    manifest = {}

    def put(name, a, writer=None):
        path = f'{d}/{name}.npy'
        if writer is None:
            np.save(path, a)
        else:
            with open(path, 'wb') as f:
                writer(f, a)
        manifest[name] = describe(a)

    for t in DTYPES:
        put(f'c_{t}', pattern(t, (2, 3)))
        if np.dtype(t).itemsize > 1:
            put(f'be_{t}', pattern(t, (3, 2)).astype(np.dtype(t).newbyteorder('>')))
        put(f'f_{t}', np.asfortranarray(pattern(t, (2, 3, 4))))
    put('scalar_float64', np.array(-2.5))
    put('scalar_int8', np.array(-7, dtype=np.int8))
    put('empty_float32', np.zeros((0, 3), np.float32))
    put('empty_int64', np.zeros((2, 0), np.int64))
    put('v2_int16', pattern('int16', (4, 5)), lambda f, a: np.lib.format.write_array(f, a, version=(2, 0)))
    put('v3_float32', pattern('float32', (3,)), lambda f, a: np.lib.format.write_array(f, a, version=(3, 0)))
    parts = {'weight': pattern('float32', (3, 4)), 'ids': pattern('int64', (5,)), 'flag': np.array(True), 'be': pattern('uint16', (2, 2)).astype('>u2')}
    np.savez(f'{d}/plain.npz', **parts)
    np.savez_compressed(f'{d}/compressed.npz', **parts)
    manifest['npz'] = {k: describe(v) for k, v in parts.items()}
    json.dump(manifest, sys.stdout)


def read(d, names):
    out = {}
    for name in names:
        got = np.load(f'{d}/{name}')
        if isinstance(got, np.ndarray):
            out[name] = describe(got)
        else:
            out[name] = {k: describe(got[k]) for k in got.files}
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    if sys.argv[1] == 'write':
        write(sys.argv[2])
    else:
        read(sys.argv[2], sys.argv[3:])
