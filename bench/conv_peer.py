"""PyTorch CPU twin of bench/conv.ts: forward + backward (input and weight gradients) of a
3x3 conv (no bias) on an NHWC-shaped problem, run as PyTorch's NCHW channels_last.
Prints the median seconds of one step as JSON.

    python bench/conv_peer.py --batch 32 --size 56 --channels 64 --iters 3
"""
import argparse
import json
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=32)
p.add_argument("--size", type=int, default=56)
p.add_argument("--channels", type=int, default=64)
p.add_argument("--iters", type=int, default=3)
a = p.parse_args()
torch.manual_seed(0)
x = torch.randn(a.batch, a.channels, a.size, a.size).to(memory_format=torch.channels_last).requires_grad_()
w = (torch.randn(a.channels, a.channels, 3, 3) * 0.05).to(memory_format=torch.channels_last).requires_grad_()
u = torch.randn(a.batch, a.channels, a.size, a.size).to(memory_format=torch.channels_last)


def step():
    x.grad = None
    w.grad = None
    y = torch.nn.functional.conv2d(x, w, padding=1)
    y.backward(u)
    return float(w.grad[0, 0, 0, 0])


step()
times = []
for _ in range(a.iters):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
times.sort()
print(json.dumps({"median_s": times[len(times) // 2], "threads": torch.get_num_threads(), "torch": torch.__version__}))
