#!/usr/bin/python3
"""Training and forward-only throughput of the engine against PyTorch on the same model shapes,
threads and batch, run interleaved (engine, peer, engine, peer, ...) so drift on a shared machine
hits both alike. Reports medians, the engine/PyTorch ratio, and the engine's GFLOP/s as a share of
the single-core sgemm peak measured in the same run. Prints a Markdown table.

usage: bench/train_bench.py [--build build] [--reps 3] [--threads 1,2] [--shapes d128,d256,d384,d512]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = {  # name: (d_model, layers, heads)
    "d128": (128, 4, 4),
    "d256": (256, 6, 8),
    "d384": (384, 8, 6),
    "d512": (512, 8, 8),
}


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--modes", default="train,forward")
    a = ap.parse_args()
    engine = os.path.join(a.build, "bench", "train_bench")
    peer = [sys.executable if os.path.basename(sys.executable) == "python3" else "/usr/bin/python3",
            os.path.join(HERE, "torch_peer.py")]
    peaks = [run([engine, "--mode", "gemm"])["gemm_peak_gflops"]]
    rows = []
    for shape in a.shapes.split(","):
        d, layers, heads = SHAPES[shape]
        for threads in [int(t) for t in a.threads.split(",")]:
            for mode in a.modes.split(","):
                args = ["--d", str(d), "--layers", str(layers), "--heads", str(heads), "--vocab", "8192",
                        "--seq", "256", "--batch", "16", "--steps", str(a.steps), "--threads", str(threads),
                        "--mode", mode]
                ours, theirs, gflops = [], [], []
                for _ in range(a.reps):
                    r = run([engine] + args)
                    ours.append(r["tokens_per_s"])
                    gflops.append(r["gflops"])
                    theirs.append(run(peer + args)["tokens_per_s"])
                rows.append((shape, threads, mode, statistics.median(ours), statistics.median(theirs),
                             statistics.median(gflops)))
                print(f"# {shape} threads={threads} {mode}: engine {ours} peer {theirs}", file=sys.stderr, flush=True)
    peaks.append(run([engine, "--mode", "gemm"])["gemm_peak_gflops"])
    peak = max(peaks)
    print(f"single-core sgemm peak (OpenBLAS, best of start/end): {peak:.1f} GFLOP/s; batch 16 x seq 256, vocab 8192; "
          f"medians of {a.reps} interleaved runs of {a.steps} steps\n")
    print("| model | threads | mode | emergence tok/s | PyTorch tok/s | ratio | emergence GFLOP/s | % of 1-core peak |")
    print("|---|---|---|---|---|---|---|---|")
    for shape, threads, mode, o, t, g in rows:
        d, layers, _ = SHAPES[shape]
        print(f"| d{d}/L{layers} | {threads} | {mode} | {o:,.0f} | {t:,.0f} | {o / t:.2f}x | {g:.1f} | "
              f"{100 * g / peak / threads:.0f}% |")


if __name__ == "__main__":
    main()
