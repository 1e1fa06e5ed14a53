#!/usr/bin/env python3
"""PyTorch side of bench/grad_mlp.ts: the same 4-layer MLP, loss.backward(), median ms.

Prints one JSON line: {"ms", "version", "threads", "peakBytes"} (peakBytes: growth of the
process's peak RSS over the steps, warm-up included, from getrusage; null if unavailable).
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import torch.nn.functional as F


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--width", type=int, default=1024)
    p.add_argument("--batch", type=int, default=512)
    a = p.parse_args()
    # As many threads as cores, as metalarray's pool uses (torch may start with one).
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    ws = [(torch.randn(a.width, a.width) / a.width**0.5).requires_grad_(True) for _ in range(4)]
    bs = [torch.zeros(a.width, requires_grad=True) for _ in range(4)]
    x = torch.randn(a.batch, a.width)
    y = torch.randn(a.batch, a.width)

    def step():
        for t in ws + bs:
            t.grad = None
        h = x
        for i in range(4):
            h = h @ ws[i] + bs[i]
            if i < 3:
                h = F.gelu(h)
        loss = ((h - y) ** 2).mean()
        loss.backward()
        return loss.item()

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    for _ in range(2):
        step()
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"ms": statistics.median(times), "version": torch.__version__, "threads": torch.get_num_threads(), "peakBytes": after - before}))


if __name__ == "__main__":
    main()
