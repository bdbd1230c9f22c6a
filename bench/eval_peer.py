#!/usr/bin/python3
"""The PyTorch peer for bench/eval_bench: scores multiple-choice documents (token ids written by
eval_bench) with the same weights, read from the engine's safetensors file, the way an lm-eval
Hugging Face model does: every (context, choice) request is its own causal forward over
context + choice[:-1], full logits, log-softmax, summed over the choice's tokens.

Modes: "each" runs one request per forward (lm-eval's default batch size 1); "batched" sorts the
requests by length and runs them in right-padded batches of --batch (lm-eval with a larger batch
size). Times only the scoring (after one warm-up pass over a few documents); prints one JSON line
with documents/s and every log-likelihood, so the caller can check the numbers agree."""
import argparse
import json
import math
import os
import sys
import time


def threads_arg():
    """--threads from the command line, read before torch is imported (default 1)."""
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# Every thread pool pinned before torch starts them: intra-op (OpenMP) and OpenBLAS's own, which
# torch's matrix products use in Debian's build; inter-op below.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = threads_arg()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from llama_reference import read_safetensors  # noqa: E402


class Model:
    def __init__(self, w, cfg):
        self.w = {k: v.float().contiguous() for k, v in w.items()}
        self.c = cfg
        self.hd = cfg["d_model"] // cfg["n_heads"]
        self.rd = int(cfg["rope_fraction"] * self.hd) // 2 * 2
        half = self.rd // 2
        i = torch.arange(half, dtype=torch.float64)
        freq = cfg["rope_theta"] ** (-2.0 * i / max(self.rd, 1))
        ang = torch.arange(cfg["max_seq"], dtype=torch.float64)[:, None] * freq[None, :]
        self.cos = torch.cos(ang).float()
        self.sin = torch.sin(ang).float()
        self.mask = torch.triu(torch.ones(cfg["max_seq"], cfg["max_seq"], dtype=torch.bool), diagonal=1)
        self.head = self.w["model.embed_tokens.weight"] if cfg["tie_embeddings"] else self.w["lm_head.weight"]

    def rope(self, x):  # (B, H, T, HD)
        half, rd, T = self.rd // 2, self.rd, x.shape[2]
        if rd == 0:
            return x
        cos, sin = self.cos[:T][None, None], self.sin[:T][None, None]
        a, b, rest = x[..., :half], x[..., half:rd], x[..., rd:]
        return torch.cat([a * cos - b * sin, b * cos + a * sin, rest], dim=-1)

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["norm_eps"]) * w

    @torch.no_grad()
    def logits(self, idx):
        c, w = self.c, self.w
        B, T = idx.shape
        NH, KV, hd = c["n_heads"], c["n_kv_heads"], self.hd
        x = w["model.embed_tokens.weight"][idx]
        for l in range(c["n_layers"]):
            p = f"model.layers.{l}."
            h = self.norm(x, w[p + "input_layernorm.weight"])
            q = (h @ w[p + "self_attn.q_proj.weight"].T).view(B, T, NH, hd).transpose(1, 2)
            k = (h @ w[p + "self_attn.k_proj.weight"].T).view(B, T, KV, hd).transpose(1, 2)
            v = (h @ w[p + "self_attn.v_proj.weight"].T).view(B, T, KV, hd).transpose(1, 2)
            q, k = self.rope(q), self.rope(k)
            if KV != NH:
                k = k.repeat_interleave(NH // KV, dim=1)
                v = v.repeat_interleave(NH // KV, dim=1)
            att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
            att = att.masked_fill(self.mask[:T, :T], float("-inf")).softmax(-1)
            y = att @ v
            x = x + y.transpose(1, 2).reshape(B, T, NH * hd) @ w[p + "self_attn.o_proj.weight"].T
            h = self.norm(x, w[p + "post_attention_layernorm.weight"])
            g = F.silu(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)
            x = x + g @ w[p + "mlp.down_proj.weight"].T
        return self.norm(x, w["model.norm.weight"]) @ self.head.T


def score(model, reqs, mode, batch):
    """reqs: list of (context ids, continuation ids) -> summed log-likelihoods, in order."""
    out = [0.0] * len(reqs)
    if mode == "each":
        for i, (ctx, cont) in enumerate(reqs):
            inp = torch.tensor([ctx + cont[:-1]])
            lp = F.log_softmax(model.logits(inp)[0, len(ctx) - 1:], dim=-1)
            out[i] = lp.gather(1, torch.tensor(cont)[:, None]).sum().item()
        return out
    order = sorted(range(len(reqs)), key=lambda i: -(len(reqs[i][0]) + len(reqs[i][1])))
    for b0 in range(0, len(order), batch):
        ids = order[b0:b0 + batch]
        seqs = [reqs[i][0] + reqs[i][1][:-1] for i in ids]
        T = max(len(s) for s in seqs)
        inp = torch.tensor([s + [0] * (T - len(s)) for s in seqs])
        lp = F.log_softmax(model.logits(inp), dim=-1)
        for r, i in enumerate(ids):
            ctx, cont = reqs[i]
            rows = lp[r, len(ctx) - 1:len(ctx) - 1 + len(cont)]
            out[i] = rows.gather(1, torch.tensor(cont)[:, None]).sum().item()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mode", default="each", choices=["each", "batched"])
    ap.add_argument("--batch", type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    w, meta = read_safetensors(a.weights)
    cfg = json.loads(meta["emergence.model_config"])
    model = Model(w, cfg)
    docs = json.load(open(a.docs))
    reqs = [(d["context"], c) for d in docs for c in d["continuations"]]
    score(model, reqs[:8], a.mode, a.batch)  # warm-up
    t0 = time.perf_counter()
    ll = score(model, reqs, a.mode, a.batch)
    dt = time.perf_counter() - t0
    print(json.dumps({"engine": "pytorch", "mode": a.mode, "threads": a.threads, "docs_per_s": len(docs) / dt,
                      "seconds": dt, "torch": torch.__version__, "ll": ll}))


if __name__ == "__main__":
    main()
