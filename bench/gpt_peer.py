"""PyTorch twin of examples/gpt (npm run example:gpt), for the tokens/s and loss comparison.

The same model (nanoGPT without biases: token + position embeddings, pre-LayerNorm blocks of
causal multi-head attention and a GELU MLP, final LayerNorm, head tied to the token
embedding, dropout on the embeddings and both residual branches: the example's attention
op, ma.fast.scaledDotProductAttention, has no dropout on the attention weights, so neither
has this twin; nanoGPT drops them too), the same initialization (N(0, 0.02), residual
projections N(0, 0.02/sqrt(2 L)), LayerNorm scales 1), the same optimizer (torch.optim.AdamW,
betas (0.9, 0.99), weight decay 0.1 on tensors of 2+ dimensions only), the same schedule
(linear warmup, cosine decay to min_lr), gradient clipping at 1.0, the same data (the
committed austen.txt, sorted-character vocabulary, 90/10 split) and batch sampling (windows
at uniformly drawn offsets; torch's generator instead of metalarray's threefry keys, so the
draws differ but not their distribution), and the same evaluation (eval_iters batches of
each split every eval_interval iterations). Attention is written out (matmul, mask,
softmax, matmul) as in the example, not F.scaled_dot_product_attention.

    /work/venv-torch/bin/python bench/gpt_peer.py --config cpu [--max-iters N] [--threads 2]

Prints the losses as the example does and, at the end, tokens/s of the training steps
(evaluation time excluded in both: the example's figure is the same).
"""
import argparse
import math
import os
import time

import torch
import torch.nn.functional as F

CPU = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, max_iters=2000, dropout=0.0, eval_iters=20)
GPU = dict(n_layer=6, n_head=6, n_embd=384, block_size=256, batch_size=64, max_iters=5000, dropout=0.2, eval_iters=200)
COMMON = dict(lr=1e-3, min_lr=1e-4, warmup_iters=100, weight_decay=0.1, beta1=0.9, beta2=0.99, grad_clip=1.0,
              eval_interval=250, log_interval=10, seed=1337)
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'examples', 'gpt', 'data', 'austen.txt')


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        e = c.n_embd
        self.ln1 = torch.nn.Parameter(torch.ones(e))
        self.qkv = torch.nn.Parameter(torch.empty(e, 3 * e))
        self.attn_proj = torch.nn.Parameter(torch.empty(e, e))
        self.ln2 = torch.nn.Parameter(torch.ones(e))
        self.fc = torch.nn.Parameter(torch.empty(e, 4 * e))
        self.mlp_proj = torch.nn.Parameter(torch.empty(4 * e, e))
        self.c = c

    def forward(self, x, mask):
        c = self.c
        b, t, e = x.shape
        hd = e // c.n_head
        qkv = (F.layer_norm(x, (e,), self.ln1, None, 1e-5) @ self.qkv).view(b, t, 3, c.n_head, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
        weights = torch.softmax(scores.masked_fill(~mask[:t, :t], float('-inf')), -1)
        att = (weights @ v).transpose(1, 2).reshape(b, t, e)
        x = x + F.dropout(att @ self.attn_proj, c.dropout, self.training)
        h = F.gelu(F.layer_norm(x, (e,), self.ln2, None, 1e-5) @ self.fc)
        return x + F.dropout(h @ self.mlp_proj, c.dropout, self.training)


class GPT(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.wte = torch.nn.Parameter(torch.empty(c.vocab_size, c.n_embd))
        self.wpe = torch.nn.Parameter(torch.empty(c.block_size, c.n_embd))
        self.blocks = torch.nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.ln_f = torch.nn.Parameter(torch.ones(c.n_embd))
        self.register_buffer('mask', torch.tril(torch.ones(c.block_size, c.block_size, dtype=torch.bool)))
        residual_std = 0.02 / math.sqrt(2 * c.n_layer)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                torch.nn.init.normal_(p, 0.0, residual_std if name.endswith(('attn_proj', 'mlp_proj')) else 0.02)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = F.dropout(self.wte[idx] + self.wpe[:t], self.c.dropout, self.training)
        for block in self.blocks:
            x = block(x, self.mask)
        logits = F.layer_norm(x, (self.c.n_embd,), self.ln_f, None, 1e-5) @ self.wte.t()
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def lr_at(it, c):
    if it < c.warmup_iters:
        return c.lr * (it + 1) / (c.warmup_iters + 1)
    if it > c.lr_decay_iters:
        return c.min_lr
    ratio = (it - c.warmup_iters) / (c.lr_decay_iters - c.warmup_iters)
    return c.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (c.lr - c.min_lr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', choices=['cpu', 'gpu'], default='cpu')
    for k, v in {**CPU, **COMMON}.items():
        ap.add_argument('--' + k.replace('_', '-'), type=type(v), default=None)
    ap.add_argument('--lr-decay-iters', type=int, default=None)
    ap.add_argument('--threads', type=int, default=0, help='torch.set_num_threads (0: leave the default)')
    ap.add_argument('--device', default='cpu')
    args = ap.parse_args()
    c = argparse.Namespace(**{**(CPU if args.config == 'cpu' else GPU), **COMMON})
    for k, v in vars(args).items():
        if v is not None:
            setattr(c, k, v)
    if getattr(c, "lr_decay_iters", None) is None:
        c.lr_decay_iters = c.max_iters
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(c.seed)

    text = open(DATA, encoding='utf-8').read()
    chars = sorted(set(text))
    c.vocab_size = len(chars)
    index = {ch: i for i, ch in enumerate(chars)}
    ids = torch.tensor([index[ch] for ch in text], dtype=torch.long)
    cut = int(len(ids) * 0.9)
    splits = {'train': ids[:cut].to(args.device), 'val': ids[cut:].to(args.device)}

    def get_batch(split):
        data = splits[split]
        starts = torch.randint(len(data) - c.block_size, (c.batch_size, 1), device=args.device)
        window = starts + torch.arange(c.block_size, device=args.device)
        return data[window], data[window + 1]

    model = GPT(c).to(args.device)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': c.weight_decay}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=c.lr, betas=(c.beta1, c.beta2), eps=1e-8, foreach=False)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; '
          f'{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters', flush=True)

    @torch.no_grad()
    def estimate():
        model.eval()
        out = {}
        for split in ('train', 'val'):
            out[split] = sum(model(*get_batch(split)).item() for _ in range(c.eval_iters)) / c.eval_iters
        model.train()
        return out

    train_seconds = 0.0
    steps = 0
    for it in range(c.max_iters + 1):
        if it % c.eval_interval == 0 or it == c.max_iters:
            losses = estimate()
            print(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}", flush=True)
        if it == c.max_iters:
            break
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group['lr'] = lr_at(it, c)
        x, y = get_batch('train')
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip)
        opt.step()
        loss_value = loss.item()
        train_seconds += time.perf_counter() - t0
        steps += 1
        if (it + 1) % c.log_interval == 0:
            print(f'iter {it + 1}/{c.max_iters} loss {loss_value:.4f} '
                  f'{steps * c.batch_size * c.block_size / train_seconds:.0f} tok/s', flush=True)
    print(f'done: {steps} iterations, {steps * c.batch_size * c.block_size / train_seconds:.0f} tokens/s (training steps only)', flush=True)


if __name__ == '__main__':
    main()
