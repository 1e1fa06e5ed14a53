#!/usr/bin/env python3
"""NumPy side of the metalarray benchmarks (bench/run.ts starts it).

    python3 bench/numpy_peer.py version
    python3 bench/numpy_peer.py gelu   --n 4194304           [--warmup W --iters I --max-seconds S]
    python3 bench/numpy_peer.py affine --rows 2048 --cols 2048 [...]
    python3 bench/numpy_peer.py chain  --n 1024 --ops 100     [...]

Each workload is written the way a NumPy user would write it (plain ufunc
expressions, float32 throughout), mirrors bench/workloads.ts, and is timed with
time.perf_counter over `warmup` untimed runs and then up to `iters` timed runs (cut
short after `max-seconds` once `min-iters` are done). Prints one JSON object with the
median, min, p10, p90 and mean per iteration, in milliseconds.
"""

import argparse
import gc
import json
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


def versions():
    return {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=["version", "gelu", "affine", "chain"])
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--rows", type=int, default=2048)
    p.add_argument("--cols", type=int, default=2048)
    p.add_argument("--ops", type=int, default=100)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--min-iters", type=int, default=5)
    p.add_argument("--max-seconds", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    if a.workload == "version":
        print(json.dumps(versions()))
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
    else:
        n = a.n or 1024
        x = rng.uniform(-1, 1, n).astype(f32)
        ops = chain_ops(a.ops)
        assert chain(x, ops).dtype == f32
        fn = lambda: chain(x, ops)  # noqa: E731
        sizes = {"n": n, "ops": a.ops}

    stats = time_it(fn, a.warmup, a.iters, a.min_iters, a.max_seconds)
    print(json.dumps({"workload": a.workload, "sizes": sizes, **stats, **versions()}))


if __name__ == "__main__":
    main()
