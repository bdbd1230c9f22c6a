#!/usr/bin/python3
"""The PyTorch peer for bench/train_bench.py: the same LLaMA-style model (the float64 oracle of
tests/reference/llama_reference.py, run in float32 here), timed on random tokens for training
steps (forward, backward, AdamW) or forward only. Prints one JSON line like train_bench does."""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from llama_reference import Llama  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    for k, v in [("d", 256), ("layers", 6), ("heads", 8), ("kv_heads", 0), ("vocab", 8192), ("seq", 256),
                 ("batch", 16), ("steps", 5), ("threads", 1)]:
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
    ap.add_argument("--mode", default="train")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    kv = a.kv_heads or a.heads
    C, F_ = a.d, (8 * a.d // 3 + 31) // 32 * 32
    hd = C // a.heads
    cfg = {"d_model": C, "n_heads": a.heads, "n_kv_heads": kv, "n_layers": a.layers, "rope_fraction": 1.0,
           "rope_theta": 10000.0, "norm_eps": 1e-5, "tie_embeddings": False}
    shapes = {"model.embed_tokens.weight": (a.vocab, C), "model.norm.weight": (C,), "lm_head.weight": (a.vocab, C)}
    for l in range(a.layers):
        p = f"model.layers.{l}."
        shapes.update({p + "input_layernorm.weight": (C,), p + "self_attn.q_proj.weight": (C, C),
                       p + "self_attn.k_proj.weight": (kv * hd, C), p + "self_attn.v_proj.weight": (kv * hd, C),
                       p + "self_attn.o_proj.weight": (C, C), p + "post_attention_layernorm.weight": (C,),
                       p + "mlp.gate_proj.weight": (F_, C), p + "mlp.up_proj.weight": (F_, C),
                       p + "mlp.down_proj.weight": (C, F_)})
    weights = {k: (torch.ones(s) if len(s) == 1 else 0.02 * torch.randn(s)) for k, s in shapes.items()}
    model = Llama(cfg, weights)
    params = list(model.params().values())
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)
    x = torch.randint(0, a.vocab, (a.batch, a.seq))
    y = torch.randint(0, a.vocab, (a.batch, a.seq))

    def step():
        if a.mode == "train":
            opt.zero_grad(set_to_none=True)
            logits = model.forward(x)
            loss = F.cross_entropy(logits.view(-1, a.vocab), y.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
        else:
            with torch.no_grad():
                model.forward(x)

    step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    tps = a.batch * a.seq / times[len(times) // 2]
    print(json.dumps({"engine": "pytorch", "mode": a.mode, "threads": a.threads, "tokens_per_s": round(tps, 1),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
