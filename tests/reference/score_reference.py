#!/usr/bin/python3
"""Independent check of multiple-choice scoring (tests/eval/reference_test.cpp writes the input):
recomputes every continuation's log-likelihood in float64 PyTorch (the oracle model of
llama_reference.py) from the same token ids, and recomputes acc, acc_norm, brier_score and
correct_choice_prob with lm-eval's formulas in numpy (np.argmax: first maximum; acc_norm divides by
len() of the choice string, i.e. Unicode code points), then their means and lm-eval's mean_stderr
(sample standard deviation / sqrt(n)). Prints one line per quantity; exits 1 on any mismatch.

usage: score_reference.py WEIGHTS.safetensors CASE.json"""
import json
import math
import sys

import numpy as np
import torch

from llama_reference import Llama, read_safetensors


def main():
    weights, meta = read_safetensors(sys.argv[1])
    case = json.load(open(sys.argv[2], encoding="utf-8"))
    cfg = json.loads(meta["emergence.model_config"])
    model = Llama(cfg, weights)
    ok = True
    worst_ll = 0.0
    per = {"acc": [], "acc_norm": [], "brier_score": [], "correct_choice_prob": []}
    for d in case["docs"]:
        ours = d["ours"]
        lls = []
        for cont in d["conts"]:
            inp = torch.tensor([d["ctx"] + cont[:-1]])
            with torch.no_grad():
                lp = torch.log_softmax(model.forward(inp)[0], dim=-1)
            lls.append(sum(lp[len(d["ctx"]) - 1 + j, t].item() for j, t in enumerate(cont)))
        worst_ll = max(worst_ll, max(abs(a - b) for a, b in zip(lls, ours["ll"])))
        # lm-eval's formulas, applied to our log-likelihoods (so near-ties cannot flip them).
        ll = np.array(ours["ll"])
        gold = d["gold"]
        lens = np.array([float(len(c)) for c in d["choices"]])
        p = np.exp(ll - ll.max())
        p /= p.sum()
        want = {
            "acc": 1.0 if int(np.argmax(ll)) == gold else 0.0,
            "acc_norm": 1.0 if int(np.argmax(ll / lens)) == gold else 0.0,
            "brier_score": float(np.sum((p - np.eye(len(ll))[gold]) ** 2)),
            "correct_choice_prob": float(p[gold]),
        }
        for k, v in want.items():
            per[k].append(v)
            if abs(v - ours[k]) > 1e-12:
                print(f"doc {d['doc_id']}: {k} ours {ours[k]} reference {v}")
                ok = False
    print(f"log-likelihood float32 vs float64: max abs diff {worst_ll:.2e} (tolerance 1e-4)")
    ok = ok and worst_ll < 1e-4
    for k, v in per.items():
        v = np.array(v)
        mean, se = v.mean(), v.std(ddof=1) / math.sqrt(len(v))
        got = case["aggregate"][k]
        good = abs(mean - got["value"]) < 1e-12 and abs(se - got["stderr"]) < 1e-12
        print(f"{k}: ours {got['value']:.6f} ± {got['stderr']:.6f}, reference {mean:.6f} ± {se:.6f}"
              f" {'ok' if good else 'MISMATCH'}")
        ok = ok and good
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
