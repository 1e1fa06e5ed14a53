#!/usr/bin/env python3
"""NumPy side of the metalarray benchmarks (bench/run.ts starts it).

    python3 bench/numpy_peer.py version
    python3 bench/numpy_peer.py gelu   --n 4194304           [--warmup W --iters I --max-seconds S]
    python3 bench/numpy_peer.py affine --rows 2048 --cols 2048 [...]
    python3 bench/numpy_peer.py chain  --n 1024 --ops 100     [...]
    python3 bench/numpy_peer.py rowsum    --rows 2048 --cols 2048 [...]
    python3 bench/numpy_peer.py sum       --n 16777216            [...]
    python3 bench/numpy_peer.py softmax   --rows 2048 --cols 2048 [...]
    python3 bench/numpy_peer.py layernorm --rows 4096 --cols 512  [...]
    python3 bench/numpy_peer.py matmul      --n 1024              [...]
    python3 bench/numpy_peer.py matmul-relu --n 1024              [...]
    python3 bench/numpy_peer.py sort    --rows 1000 --cols 1000 --kind stable [...]
    python3 bench/numpy_peer.py argsort --rows 1000 --cols 1000 --kind stable [...]

Each workload is written the way a NumPy user would write it (plain ufunc
expressions, float32 throughout), mirrors bench/workloads.ts, and is timed with
time.perf_counter over `warmup` untimed runs and then up to `iters` timed runs (cut
short after `max-seconds` once `min-iters` are done). Prints one JSON object with the
median, min, p10, p90 and mean per iteration, in milliseconds.

`version` also says which BLAS library NumPy runs (what `a @ b` calls): the build
configuration alone is not enough, since Debian's NumPy is built against the generic
libblas.so.3, which is the reference BLAS or OpenBLAS depending on what is installed
(update-alternatives) and on LD_LIBRARY_PATH. So it asks the dynamic linker which
library provides the `cblas_sgemm` NumPy's core module binds to (dlsym on the module,
then dladdr), and names it from its real path. Merely loaded libraries are not enough:
numpy.linalg can load OpenBLAS through liblapack.so.3 while `a @ b` still runs the
reference BLAS. The BLAS-like libraries mapped into the process are listed too.
"""

import argparse
import gc
import ctypes
import json
import os
import platform
import sys
import time

import numpy as np


def gelu(x):
    return 0.5 * x * (1 + np.tanh(0.79788456 * (x + 0.044715 * (x * x * x))))


def affine(a, mu, sc, bi):
    return (a - mu) * sc + bi


def chain_ops(count):
    pattern = ("multiply", "add", "sin")
    return [pattern[i % 3] for i in range(count)]


def chain(x, ops):
    for op in ops:
        if op == "multiply":
            x = x * 1.0001
        elif op == "add":
            x = x + 0.0001
        else:
            x = np.sin(x)
    return x


def rowsum(x):
    return x.sum(1)


def full_sum(x):
    return x.sum()


def softmax(x):
    m = x.max(1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(1, keepdims=True)


def layernorm(x, g, b):
    mu = np.mean(x, -1, keepdims=True)
    v = np.var(x, -1, keepdims=True)
    return (x - mu) / np.sqrt(v + 1e-5) * g + b


def matmul(a, b):
    return a @ b


def matmul_relu(a, b, bias):
    return np.maximum(a @ b + bias, 0)


def sort_rows(x, kind):
    return np.sort(x, axis=-1, kind=kind)


def argsort_rows(x, kind):
    return np.argsort(x, axis=-1, kind=kind)


def quantile(sorted_values, q):
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def time_it(fn, warmup, iters, min_iters, max_seconds):
    for _ in range(warmup):
        fn()
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as timeit does; NumPy arrays are freed by refcount anyway
    try:
        deadline = time.perf_counter() + max_seconds
        for i in range(iters):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1e3)
            if i + 1 >= min_iters and time.perf_counter() > deadline:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    s = sorted(samples)
    return {
        "medianMs": quantile(s, 0.5),
        "minMs": s[0],
        "p10Ms": quantile(s, 0.1),
        "p90Ms": quantile(s, 0.9),
        "meanMs": sum(s) / len(s),
        "iterations": len(s),
        "warmup": warmup,
    }


def build_blas():
    """The BLAS NumPy was built against, from its build configuration."""
    try:
        cfg = np.show_config(mode="dicts")  # NumPy >= 1.26
        blas = cfg["Build Dependencies"]["blas"]
        return " ".join(str(blas.get(k)) for k in ("name", "version") if blas.get(k))
    except Exception:
        pass
    try:
        info = np.__config__.get_info("blas_opt_info")  # NumPy < 1.26 (distutils build)
        return ",".join(dict.fromkeys(info.get("libraries", []))) or None
    except Exception:
        return None


BLAS_HINTS = ("blas", "mkl", "blis", "atlas", "accelerate", "armpl", "flexiblas")


def loaded_blas_libraries():
    """Real paths of the BLAS-like shared libraries mapped into this process (Linux)."""
    a = np.ones((8, 8), np.float32)
    a @ a  # make sure NumPy's BLAS is loaded
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) < 6 or not parts[5].startswith("/"):
                    continue
                path = os.path.realpath(parts[5].strip())
                if any(h in os.path.basename(path).lower() for h in BLAS_HINTS) and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    return paths


# The sgemm NumPy's matmul calls: Debian's and older builds bind cblas_sgemm; NumPy 2
# wheels bind scipy-openblas's prefixed, 64-bit-integer symbol.
SGEMM_SYMBOLS = ("cblas_sgemm", "scipy_cblas_sgemm64_", "cblas_sgemm64_", "scipy_cblas_sgemm", "cblas_sgemm_64")


class DlInfo(ctypes.Structure):
    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


def sgemm_provider():
    """(real path of the library that defines the sgemm NumPy's core module binds to, symbol), or (None, None)."""
    try:
        core = getattr(np, "_core", None) or np.core
        module = core._multiarray_umath
        handle = ctypes.CDLL(module.__file__)  # the already-loaded module: dlsym searches it and its dependencies
        libc = ctypes.CDLL(None)
        dladdr = getattr(libc, "dladdr", None) or ctypes.CDLL("libdl.so.2").dladdr
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
        dladdr.restype = ctypes.c_int
    except (AttributeError, OSError, ImportError):
        return None, None
    for sym in SGEMM_SYMBOLS:
        fn = getattr(handle, sym, None)
        if fn is None:
            continue
        info = DlInfo()
        if dladdr(ctypes.cast(fn, ctypes.c_void_p), ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(info.dli_fname.decode()), sym
    return None, None


def openblas_query(path):
    """(config string, thread count) of an OpenBLAS library, through its exported helpers."""
    config = threads = None
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return config, threads
    for prefix, suffix in (("", ""), ("", "64_"), ("scipy_", "64_"), ("scipy_", "")):
        fn = getattr(lib, f"{prefix}openblas_get_config{suffix}", None)
        if fn is None:
            continue
        fn.restype = ctypes.c_char_p
        config = fn().decode(errors="replace").strip()
        nt = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
        if nt is not None:
            nt.restype = ctypes.c_int
            threads = nt()
        break
    return config, threads


def name_library(path):
    """(name, OpenBLAS config, OpenBLAS threads) of a BLAS library, from its real path."""
    low = path.lower()
    base = os.path.basename(low)
    if "openblas" in low:
        config, threads = openblas_query(path)
        if config and config.lower().startswith("openblas"):
            return " ".join(config.split()[:2]), config, threads
        return "OpenBLAS", config, threads
    for hint, label in (("mkl", "Intel MKL"), ("blis", "BLIS"), ("atlas", "ATLAS"), ("flexiblas", "FlexiBLAS"), ("armpl", "Arm PL")):
        if hint in low:
            return label, None, None
    # Debian's reference BLAS lives in .../blas/libblas.so.3 (the libblas.so.3 alternative).
    if base.startswith("libblas.so") or base.startswith("libcblas.so"):
        return "reference BLAS (Netlib)", None, None
    return f"unknown ({path})", None, None


def blas_info():
    """Which BLAS NumPy's matrix product runs: name, library, OpenBLAS or not."""
    libs = loaded_blas_libraries()
    build = build_blas()
    provider, symbol = sgemm_provider()
    if provider:
        name, config, threads = name_library(provider)
        return {
            "name": name,
            "openblas": name.lower().startswith("openblas"),
            "library": provider,
            "config": config,
            "threads": threads,
            "build": build,
            "method": f"dladdr of {symbol}",
            "loaded": libs,
        }
    # No provider found (not Linux/glibc, or an unknown symbol name): guess from what is mapped.
    name, library, config, threads = None, None, None, None
    for path in libs:
        low = path.lower()
        if "openblas" in low:
            name, library = "OpenBLAS", path
            config, threads = openblas_query(path)
            if config:
                name = " ".join(config.split()[:2]) if config.lower().startswith("openblas") else f"OpenBLAS ({config})"
            break
    if name is None:
        for path in libs:
            low = os.path.basename(path).lower()
            for hint, label in (("mkl", "Intel MKL"), ("blis", "BLIS"), ("atlas", "ATLAS"), ("flexiblas", "FlexiBLAS"), ("armpl", "Arm PL")):
                if hint in low:
                    name, library = label, path
                    break
            if name:
                break
    if name is None:
        for path in libs:
            # Debian's reference BLAS lives in .../blas/libblas.so.3 (the libblas.so.3 alternative).
            if os.path.basename(path).startswith("libblas.so") or os.path.basename(path).startswith("libcblas.so"):
                name, library = "reference BLAS (Netlib)", path
                break
    if name is None:
        name = f"unknown (built with {build})" if build else "unknown"
    return {
        "name": name,
        "openblas": name.lower().startswith("openblas"),
        "library": library,
        "config": config,
        "threads": threads,
        "build": build,
        "method": "guessed from the mapped libraries",
        "loaded": libs,
    }


def versions():
    return {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=["version", "gelu", "affine", "chain", "rowsum", "sum", "softmax", "layernorm", "matmul", "matmul-relu", "sort", "argsort"])
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--rows", type=int, default=2048)
    p.add_argument("--cols", type=int, default=2048)
    p.add_argument("--ops", type=int, default=100)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--min-iters", type=int, default=5)
    p.add_argument("--max-seconds", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=1)
    # sort/argsort: 'stable' (metalarray's sort is stable) or NumPy's default 'quicksort'
    p.add_argument("--kind", choices=["stable", "quicksort"], default="stable")
    a = p.parse_args()

    if a.workload == "version":
        print(json.dumps({**versions(), "blas": blas_info()}))
        return

    rng = np.random.default_rng(a.seed)
    f32 = np.float32
    if a.workload == "gelu":
        n = a.n or 4 * 1024 * 1024
        x = rng.uniform(-3, 3, n).astype(f32)
        assert gelu(x).dtype == f32
        fn = lambda: gelu(x)  # noqa: E731
        sizes = {"n": n}
    elif a.workload == "affine":
        m = rng.uniform(-3, 3, (a.rows, a.cols)).astype(f32)
        mu = rng.uniform(-1, 1, a.cols).astype(f32)
        sc = rng.uniform(0.5, 1.5, a.cols).astype(f32)
        bi = rng.uniform(-1, 1, a.cols).astype(f32)
        assert affine(m, mu, sc, bi).dtype == f32
        fn = lambda: affine(m, mu, sc, bi)  # noqa: E731
        sizes = {"rows": a.rows, "cols": a.cols}
    elif a.workload == "chain":
        n = a.n or 1024
        x = rng.uniform(-1, 1, n).astype(f32)
        ops = chain_ops(a.ops)
        assert chain(x, ops).dtype == f32
        fn = lambda: chain(x, ops)  # noqa: E731
        sizes = {"n": n, "ops": a.ops}
    elif a.workload == "rowsum":
        x = rng.uniform(0, 1, (a.rows, a.cols)).astype(f32)
        assert rowsum(x).dtype == f32
        fn = lambda: rowsum(x)  # noqa: E731
        sizes = {"rows": a.rows, "cols": a.cols}
    elif a.workload == "sum":
        n = a.n or 16 * 1024 * 1024
        x = rng.uniform(0, 1, n).astype(f32)
        assert full_sum(x).dtype == f32
        fn = lambda: full_sum(x)  # noqa: E731
        sizes = {"n": n}
    elif a.workload == "softmax":
        x = rng.uniform(-4, 4, (a.rows, a.cols)).astype(f32)
        assert softmax(x).dtype == f32
        fn = lambda: softmax(x)  # noqa: E731
        sizes = {"rows": a.rows, "cols": a.cols}
    elif a.workload == "layernorm":
        x = rng.uniform(-3, 3, (a.rows, a.cols)).astype(f32)
        g = rng.uniform(0.5, 1.5, a.cols).astype(f32)
        b = rng.uniform(-1, 1, a.cols).astype(f32)
        assert layernorm(x, g, b).dtype == f32
        fn = lambda: layernorm(x, g, b)  # noqa: E731
        sizes = {"rows": a.rows, "cols": a.cols}
    elif a.workload in ("sort", "argsort"):
        x = rng.uniform(-1, 1, (a.rows, a.cols)).astype(f32)
        op = sort_rows if a.workload == "sort" else argsort_rows
        assert op(x, a.kind).shape == x.shape
        fn = lambda: op(x, a.kind)  # noqa: E731
        sizes = {"rows": a.rows, "cols": a.cols, "kind": a.kind}
    else:
        n = a.n or 1024
        ma_ = rng.uniform(-1, 1, (n, n)).astype(f32)
        mb = rng.uniform(-1, 1, (n, n)).astype(f32)
        if a.workload == "matmul":
            assert matmul(ma_, mb).dtype == f32
            fn = lambda: matmul(ma_, mb)  # noqa: E731
        else:
            bias = rng.uniform(-1, 1, n).astype(f32)
            assert matmul_relu(ma_, mb, bias).dtype == f32
            fn = lambda: matmul_relu(ma_, mb, bias)  # noqa: E731
        sizes = {"m": n, "k": n, "n": n}

    stats = time_it(fn, a.warmup, a.iters, a.min_iters, a.max_seconds)
    print(json.dumps({"workload": a.workload, "sizes": sizes, **stats, **versions()}))


if __name__ == "__main__":
    main()
