#!/usr/bin/python3
"""PyTorch oracle for the emergence model: loads the weights, inputs and results that the C++
parity test wrote (safetensors), recomputes them in float64 with an independent PyTorch model,
and compares logits, loss, every parameter gradient, and the losses and weights after AdamW
steps. Prints one line per quantity with its error and tolerance; exits 1 on any mismatch."""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32"
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[base + b:base + end], dtype="<f4").reshape(e["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float64))
    return out, meta


class Llama:
    def __init__(self, cfg, weights):
        self.cfg = cfg
        self.w = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
        hd = cfg["d_model"] // cfg["n_heads"]
        rd = int(cfg["rope_fraction"] * hd) // 2 * 2
        self.hd, self.rd = hd, rd

    def params(self):
        return self.w

    def rmsnorm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg["norm_eps"]) * w

    def rope(self, x):  # x (B, T, H, HD); rotate-half on the first rd dims
        rd = self.rd
        if rd == 0:
            return x
        T = x.shape[1]
        half = rd // 2
        i = torch.arange(half, dtype=torch.float64)
        freq = self.cfg["rope_theta"] ** (-2.0 * i / rd)
        ang = torch.arange(T, dtype=torch.float64)[:, None] * freq[None, :]
        # The engine stores its tables in float32.
        cos = torch.cos(ang).float().to(x.dtype)[None, :, None, :]
        sin = torch.sin(ang).float().to(x.dtype)[None, :, None, :]
        a, b, rest = x[..., :half], x[..., half:rd], x[..., rd:]
        return torch.cat([a * cos - b * sin, b * cos + a * sin, rest], dim=-1)

    def forward(self, idx):
        c, w = self.cfg, self.w
        B, T = idx.shape
        NH, KV, hd = c["n_heads"], c["n_kv_heads"], self.hd
        x = w["model.embed_tokens.weight"][idx]
        for l in range(c["n_layers"]):
            p = f"model.layers.{l}."
            h = self.rmsnorm(x, w[p + "input_layernorm.weight"])
            q = (h @ w[p + "self_attn.q_proj.weight"].T).view(B, T, NH, hd)
            k = (h @ w[p + "self_attn.k_proj.weight"].T).view(B, T, KV, hd)
            v = (h @ w[p + "self_attn.v_proj.weight"].T).view(B, T, KV, hd)
            q, k = self.rope(q), self.rope(k)
            q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
            k = k.repeat_interleave(NH // KV, dim=1)
            v = v.repeat_interleave(NH // KV, dim=1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
            att = att.masked_fill(mask, float("-inf")).softmax(-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, NH * hd)
            x = x + y @ w[p + "self_attn.o_proj.weight"].T
            h = self.rmsnorm(x, w[p + "post_attention_layernorm.weight"])
            g = h @ w[p + "mlp.gate_proj.weight"].T
            u = h @ w[p + "mlp.up_proj.weight"].T
            x = x + (F.silu(g) * u) @ w[p + "mlp.down_proj.weight"].T
        x = self.rmsnorm(x, w["model.norm.weight"])
        head = w["model.embed_tokens.weight"] if c["tie_embeddings"] else w["lm_head.weight"]
        return x @ head.T


def max_err(a, b):
    """max |a - b| / max(1, max |b|)"""
    return (a - b).abs().max().item() / max(1.0, b.abs().max().item())


def main():
    inp, meta = read_safetensors(sys.argv[1])
    res, _ = read_safetensors(sys.argv[2])
    cfg = json.loads(meta["emergence.model_config"])
    opt = json.loads(meta["parity.options"])
    weights = {k[len("w."):]: v for k, v in inp.items() if k.startswith("w.")}
    batches = inp["tokens"].long()  # (S, B, T+1)
    model = Llama(cfg, weights)
    ok = True

    def report(name, err, tol):
        nonlocal ok
        good = err <= tol
        ok &= good
        print(f"{'ok  ' if good else 'FAIL'} {name:<48} err {err:.3e}  tol {tol:.0e}")

    x, y = batches[0, :, :-1], batches[0, :, 1:]
    logits = model.forward(x)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    report("logits", max_err(res["logits"], logits.detach()), opt["tol_logits"])
    report("loss", abs(res["loss"].item() - loss.item()), opt["tol_loss"])
    for name, p in model.params().items():
        report("grad " + name, max_err(res["grad." + name], p.grad), opt["tol_grad"])

    # AdamW steps, one batch each, with global-norm clipping as the engine does it.
    params = model.params()
    no_decay = [n for n in params if n.endswith("norm.weight") or
                (not opt["decay_embeddings"] and n in ("model.embed_tokens.weight", "lm_head.weight"))]
    groups = [{"params": [params[n] for n in params if n not in no_decay], "weight_decay": opt["weight_decay"]},
              {"params": [params[n] for n in no_decay], "weight_decay": 0.0}]
    adam = torch.optim.AdamW(groups, lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]), eps=opt["eps"])
    step_losses = []
    for s in range(int(opt["steps"])):
        for p in params.values():
            p.grad = None
        x, y = batches[s, :, :-1], batches[s, :, 1:]
        logits = model.forward(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        gnorm = math.sqrt(sum((p.grad ** 2).sum().item() for p in params.values()))
        if gnorm > opt["grad_clip"]:
            for p in params.values():
                p.grad.mul_(opt["grad_clip"] / gnorm)
        adam.step()
        step_losses.append(loss.item())
    got = res["step_losses"]
    report("losses over %d AdamW steps" % len(step_losses),
           max(abs(got[i].item() - step_losses[i]) for i in range(len(step_losses))), opt["tol_loss"])
    for name, p in params.items():
        report("weights after steps " + name, max_err(res["final." + name], p.detach()), opt["tol_weights"])
    print("parity:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
