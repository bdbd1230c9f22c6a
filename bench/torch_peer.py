#!/usr/bin/python3
"""The PyTorch peer for bench/train_bench.py: a LLaMA-style model written the ordinary way (an
nn.Module of nn.Linear layers, RMSNorm, rotary embedding, causal softmax attention, SwiGLU, an untied
head, F.cross_entropy, torch.optim.AdamW), float32, timed on random tokens for training steps
(forward, backward, gradient clipping, AdamW) or forward only. Prints one JSON line like
train_bench does.

Every thread pool it could use is pinned to --threads before torch is imported: intra-op
(OMP_NUM_THREADS, torch.set_num_threads), inter-op (torch.set_num_interop_threads) and OpenBLAS's
own pool (OPENBLAS_NUM_THREADS, which torch's matrix products run on in Debian's build); the JSON
line reports the counts torch and OpenBLAS say they use."""
import argparse
import ctypes
import json
import os
import sys
import time


def parse():
    ap = argparse.ArgumentParser()
    for k, v in [("d", 256), ("layers", 6), ("heads", 8), ("kv_heads", 0), ("vocab", 8192), ("seq", 256),
                 ("batch", 16), ("steps", 5), ("threads", 1)]:
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
    ap.add_argument("--rope-fraction", type=float, default=1.0)
    ap.add_argument("--mode", default="train")
    return ap.parse_args()


A = parse()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(A.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin, rd):
    """Rotates the first rd dims of each head ("rotate half" pairing); x is (B, H, T, HD)."""
    if rd == 0:
        return x
    r, rest = x[..., :rd], x[..., rd:]
    a, b = r[..., : rd // 2], r[..., rd // 2:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin, rest], dim=-1)


class Attention(nn.Module):
    def __init__(self, d, heads, kv_heads, rd):
        super().__init__()
        self.h, self.kv, self.hd, self.rd = heads, kv_heads, d // heads, rd
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.v = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.o = nn.Linear(d, d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, C = x.shape
        q = self.q(x).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k(x).view(B, T, self.kv, self.hd).transpose(1, 2)
        v = self.v(x).view(B, T, self.kv, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin, self.rd), rope(k, cos, sin, self.rd)
        if self.kv != self.h:
            k = k.repeat_interleave(self.h // self.kv, dim=1)
            v = v.repeat_interleave(self.h // self.kv, dim=1)
        att = (q @ k.transpose(-2, -1)) / self.hd ** 0.5
        att = F.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        return self.o((att @ v).transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.gate = nn.Linear(d, f, bias=False)
        self.up = nn.Linear(d, f, bias=False)
        self.down = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class Block(nn.Module):
    def __init__(self, d, heads, kv_heads, f, rd):
        super().__init__()
        self.n1, self.attn = RMSNorm(d), Attention(d, heads, kv_heads, rd)
        self.n2, self.mlp = RMSNorm(d), MLP(d, f)

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.n1(x), cos, sin, mask)
        return x + self.mlp(self.n2(x))


class Llama(nn.Module):
    def __init__(self, vocab, d, layers, heads, kv_heads, seq, rope_fraction):
        super().__init__()
        hd = d // heads
        rd = int(rope_fraction * hd) // 2 * 2
        f = (8 * d // 3 + 31) // 32 * 32  # the engine's SwiGLU width rule
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, heads, kv_heads, f, rd) for _ in range(layers))
        self.norm = nn.RMSNorm(d) if hasattr(nn, "RMSNorm") else RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        inv = 1.0 / 10000.0 ** (torch.arange(0, rd, 2, dtype=torch.float32) / max(rd, 1))
        ang = torch.outer(torch.arange(seq, dtype=torch.float32), inv)
        self.register_buffer("cos", ang.cos())
        self.register_buffer("sin", ang.sin())
        self.register_buffer("mask", torch.ones(seq, seq, dtype=torch.bool).triu(1))
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx):
        x = self.embed(idx)
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mask)
        return self.head(self.norm(x))


def openblas_threads():
    """The thread count of the OpenBLAS torch loaded, or None where it is not found."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "openblas" in line}
        for lib in libs:
            return ctypes.CDLL(lib).openblas_get_num_threads()
    except (OSError, AttributeError):
        pass
    return None


def main():
    a = A
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    model = Llama(a.vocab, a.d, a.layers, a.heads, a.kv_heads or a.heads, a.seq, a.rope_fraction)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)
    x = torch.randint(0, a.vocab, (a.batch, a.seq))
    y = torch.randint(0, a.vocab, (a.batch, a.seq))

    def step():
        if a.mode == "train":
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x).view(-1, a.vocab), y.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        else:
            with torch.no_grad():
                model(x)

    step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    tps = a.batch * a.seq / times[len(times) // 2]
    print(json.dumps({"engine": "pytorch", "mode": a.mode, "threads": a.threads, "tokens_per_s": round(tps, 1),
                      "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                      "interop_threads": torch.get_num_interop_threads(),
                      "openblas_threads": openblas_threads()}))


if __name__ == "__main__":
    sys.exit(main())
