"""PyTorch eager, torch.compile and jax.jit on the GPU workloads of bench/gpu/run.ts.

Prints one JSON object: {"copy_gbps": ..., "workloads": {name: {peer: median_ms}}}.
Device time is measured with CUDA events around each call (torch) after warm-up, the
median taken; JAX results are timed by wall clock around block_until_ready per call
(jit dispatch is asynchronous, so that is device time plus a few microseconds).
The chain workload is host wall time per call, sync included, for every peer.
"""
import json
import statistics
import sys
import time

import torch

WARMUP = 5
ITERS = 30
# Host wall time (the chain) needs a long warm-up on every side: V8's optimizing tiers,
# torch.compile's guards and allocator caches settle over hundreds of calls.
CHAIN_WARMUP = 1000
CHAIN_ITERS = 1000


def torch_time(fn, iters=ITERS):
    for _ in range(WARMUP):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def wall_time(fn, sync, iters=ITERS, warmup=WARMUP):
    for _ in range(warmup):
        sync(fn())
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        sync(fn())
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def copy_bandwidth():
    n = 1 << 28  # 1 GiB of float32
    a = torch.randn(n, device="cuda")
    b = torch.empty_like(a)
    ms = torch_time(lambda: b.copy_(a))
    return 2 * a.numel() * 4 / (ms * 1e-3) / 1e9


def workloads():
    g = torch.Generator(device="cuda").manual_seed(0)
    r = lambda *s: torch.randn(*s, device="cuda", generator=g)
    x16m = r(1 << 24)
    a4k = r(4096, 4096)
    mu, sc, bi = r(4096), r(4096), r(4096)
    x64m = r(1 << 26)
    ln = r(8192, 1024)
    lg, lb = r(1024), r(1024)
    ma, mb, mbias = r(4096, 4096), r(4096, 4096), r(4096)
    c1k = r(1024)

    def chain(x):
        for i in range(100):
            x = x * 1.0001 if i % 2 == 0 else x + 0.0001
        return x

    def layer_norm(x, gam, bet):
        m = x.mean(-1, keepdim=True)
        v = ((x - m) ** 2).mean(-1, keepdim=True)
        return (x - m) / torch.sqrt(v + 1e-5) * gam + bet

    return {
        "gelu": (lambda x: torch.nn.functional.gelu(x), (x16m,)),
        "affine": (lambda a, m, s, b: (a - m) * s + b, (a4k, mu, sc, bi)),
        "rowsum": (lambda a: a.sum(1), (a4k,)),
        "sum": (lambda a: a.sum(), (x64m,)),
        "softmax": (lambda a: torch.softmax(a, -1), (a4k,)),
        "layernorm": (layer_norm, (ln, lg, lb)),
        "matmul": (lambda a, b: a @ b, (ma, mb)),
        "matmul-tf32": (lambda a, b: a @ b, (ma, mb)),
        "matmul-relu": (lambda a, b, c: torch.relu(a @ b + c), (ma, mb, mbias)),
        "chain": (chain, (c1k,)),
    }


def mlp_grad_rows():
    """Issue 19 §3: valueAndGrad of a 4-layer MLP (width 1024, batch 512, gelu, MSE), one
    step's host wall time with synchronization (forward, backward, gradients ready), as
    bench/gpu/run.ts measures metalarray's."""
    torch.manual_seed(0)
    width, batch = 1024, 512
    ws = [(torch.randn(width, width, device="cuda") / width**0.5).requires_grad_(True) for _ in range(4)]
    bs = [torch.zeros(width, device="cuda", requires_grad=True) for _ in range(4)]
    x = torch.randn(batch, width, device="cuda")
    y = torch.randn(batch, width, device="cuda")

    def loss_fn(x, y):
        h = x
        for i in range(4):
            h = h @ ws[i] + bs[i]
            if i < 3:
                h = torch.nn.functional.gelu(h)
        return ((h - y) ** 2).mean()

    def step(fn):
        for t in ws + bs:
            t.grad = None
        loss = fn(x, y)
        loss.backward()
        return loss

    row = {"torch eager": wall_time(lambda: step(loss_fn), lambda _: torch.cuda.synchronize(), 50, 10)}
    try:
        cf = torch.compile(loss_fn)
        row["torch.compile"] = wall_time(lambda: step(cf), lambda _: torch.cuda.synchronize(), 50, 10)
    except Exception as e:  # report, don't hide
        print(f"torch.compile failed on mlp-grad: {e}", file=sys.stderr)
    return row


def jax_side(names):
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    r = lambda *s: jnp.asarray(rng.standard_normal(s, dtype=np.float32))
    hi = jax.lax.Precision.HIGHEST
    tf = jax.lax.Precision.DEFAULT

    def chain(x):
        for i in range(100):
            x = x * 1.0001 if i % 2 == 0 else x + 0.0001
        return x

    def layer_norm(x, g, b):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / jnp.sqrt(v + 1e-5) * g + b

    a4k = r(4096, 4096)
    ma, mb = r(4096, 4096), r(4096, 4096)
    fns = {
        "gelu": (lambda x: jax.nn.gelu(x, approximate=False), (r(1 << 24),)),
        "affine": (lambda a, m, s, b: (a - m) * s + b, (a4k, r(4096), r(4096), r(4096))),
        "rowsum": (lambda a: a.sum(1), (a4k,)),
        "sum": (lambda a: a.sum(), (r(1 << 26),)),
        "softmax": (lambda a: jax.nn.softmax(a, -1), (a4k,)),
        "layernorm": (layer_norm, (r(8192, 1024), r(1024), r(1024))),
        "matmul": (lambda a, b: jnp.matmul(a, b, precision=hi), (ma, mb)),
        "matmul-tf32": (lambda a, b: jnp.matmul(a, b, precision=tf), (ma, mb)),
        "matmul-relu": (lambda a, b, c: jax.nn.relu(jnp.matmul(a, b, precision=hi) + c), (ma, mb, r(4096))),
        "chain": (chain, (r(1024),)),
    }
    out = {}
    for name in names:
        fn, args = fns[name]
        f = jax.jit(fn)
        long = name == "chain"
        out[name] = wall_time(lambda: f(*args), lambda y: y.block_until_ready(), CHAIN_ITERS if long else ITERS, CHAIN_WARMUP if long else WARMUP)
    return out


def main():
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "workloads": {}}
    result["copy_gbps"] = copy_bandwidth()
    wl = workloads()
    for name, (fn, args) in wl.items():
        row = {}
        tf32 = name == "matmul-tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        if name == "chain":
            row["torch eager"] = wall_time(lambda: fn(*args), lambda y: torch.cuda.synchronize(), CHAIN_ITERS, CHAIN_WARMUP)
        else:
            row["torch eager"] = torch_time(lambda: fn(*args))
        try:
            cf = torch.compile(fn)
            if name == "chain":
                row["torch.compile"] = wall_time(lambda: cf(*args), lambda y: torch.cuda.synchronize(), CHAIN_ITERS, CHAIN_WARMUP)
            else:
                row["torch.compile"] = torch_time(lambda: cf(*args))
        except Exception as e:  # report, don't hide
            print(f"torch.compile failed on {name}: {e}", file=sys.stderr)
        result["workloads"][name] = row
        print(f"peers: {name} {row}", file=sys.stderr, flush=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    result["workloads"]["mlp-grad"] = mlp_grad_rows()
    print(f"peers: mlp-grad {result['workloads']['mlp-grad']}", file=sys.stderr, flush=True)
    try:
        import jax

        result["jax"] = jax.__version__
        for name, ms in jax_side([n for n in wl.keys()]).items():
            result["workloads"][name]["jax.jit"] = ms
    except Exception as e:
        print(f"jax failed: {e}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
