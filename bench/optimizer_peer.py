"""PyTorch's side of bench/optimizer_step.ts: torch.optim.AdamW steps over the
parameters of an MLP (float32, CPU), gradients fixed. Prints one JSON line with the
steps per second of the foreach implementation and of the single-tensor one, each with
one thread and with as many threads as cores (on a loaded machine OpenMP's threads can
collapse, so both are shown).

    /usr/bin/python3 bench/optimizer_peer.py --width 256 --layers 4 --steps 100
"""
import argparse
import json
import os
import time

import torch


def rate(args, foreach):
    torch.manual_seed(0)
    params = []
    for _ in range(args.layers):
        params.append(torch.randn(args.width, args.width, requires_grad=True))
        params.append(torch.zeros(args.width, requires_grad=True))
    for p in params:
        p.grad = torch.randn_like(p) * 0.01
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, foreach=foreach)
    for _ in range(20):
        opt.step()
    rates = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            opt.step()
        rates.append(args.steps / (time.perf_counter() - t0))
    rates.sort()
    return rates[len(rates) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--width', type=int, default=256)
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--steps', type=int, default=100)
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args()
    out = {'version': torch.__version__, 'runs': []}
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        for foreach in (True, False):
            out['runs'].append({'threads': threads, 'foreach': foreach, 'stepsPerSecond': rate(args, foreach)})
    print(json.dumps(out))


if __name__ == '__main__':
    main()
