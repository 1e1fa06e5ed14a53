#!/usr/bin/env python3
"""NumPy side of bench/linalg.ts: times numpy.linalg on the same shapes.

    python3 bench/linalg_peer.py [--repeats R]

Builds the inputs the way bench/linalg.ts does (seeded normal entries; a diagonal
shift for solve, x xᵀ + n I for cholesky, x + xᵀ for eigh), runs each call once
untimed, then takes the median of R timed runs (time.perf_counter). Prints one JSON
object: {numpy, rows: {name: median_ms}}.
"""
import argparse
import json
import time

import numpy as np


def median_ms(fn, repeats):
    fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    n = 1024
    x = rng.standard_normal((n, n))
    a = x + n ** 0.5 * np.eye(n)
    b = rng.standard_normal(n)
    spd = x @ x.T + n * np.eye(n)
    sym = x + x.T
    batch = rng.standard_normal((64, 64, 64)) + 8 * np.eye(64)
    rows = {
        "solve 1024x1024 f64": median_ms(lambda: np.linalg.solve(a, b), args.repeats),
        "cholesky 1024x1024 f64": median_ms(lambda: np.linalg.cholesky(spd), args.repeats),
        "svd 1024x1024 f64": median_ms(lambda: np.linalg.svd(x), max(3, args.repeats // 2)),
        "eigh 1024x1024 f64": median_ms(lambda: np.linalg.eigh(sym), max(3, args.repeats // 2)),
        "inv 64x[64,64] f64": median_ms(lambda: np.linalg.inv(batch), args.repeats * 4),
    }
    print(json.dumps({"numpy": np.__version__, "rows": rows}))


if __name__ == "__main__":
    main()
