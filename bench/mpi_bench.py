#!/usr/bin/python3
"""Data-parallel training throughput: `emergence train` as 1 process x 1 thread, 1 process x 2
threads, 2 processes x 1 thread (mpirun on loopback, gradients exchanged during backward) and
2 processes x 1 thread with the blocking exchange (--blocking-reduce), interleaved, medians of
--reps runs. A run's figure is the median of its per-step tokens/s after the first steps.

Usage: /usr/bin/python3 bench/mpi_bench.py [--shapes d256,d512] [--reps 3] [--steps 8]
"""
import argparse
import json
import os
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "build", "emergence")
SHAPES = {"d256": (256, 6, 4), "d512": (512, 8, 8)}  # d_model, layers, heads
VOCAB, SEQ, BATCH, ACCUM = 4096, 128, 4, 2
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
          "--mca", "btl", "self,tcp", "--mca", "btl_tcp_if_include", "lo",
          "--mca", "oob_tcp_if_include", "lo"]
MODES = [  # name, processes, threads per process, extra flags
    ("1p x 1t", 1, 1, []),
    ("1p x 2t", 1, 2, []),
    ("2p x 1t", 2, 1, []),
    ("2p x 1t blocking", 2, 1, ["--blocking-reduce"]),
]


def write_shard(path, tokens, vocab):
    """A shard as docs/shards.md defines it (version 1, 16-bit tokens)."""
    payload = struct.pack("<%dH" % len(tokens), *tokens)
    h = 0xcbf29ce484222325
    for b in payload:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    head = b"EMSHARD1" + struct.pack("<IIIIQQQ", 1, 2, vocab, 0, len(tokens), 1, h) + b"\0" * 16
    with open(path, "wb") as f:
        f.write(head + payload)


def make_shards(d):
    rng = random.Random(1)
    succ = [[rng.randrange(VOCAB) for _ in range(4)] for _ in range(VOCAB)]
    for name, n in (("train_000.bin", 400_000), ("val_000.bin", 20_000)):
        cur, toks = 0, []
        for _ in range(n):
            toks.append(cur)
            cur = succ[cur][rng.randrange(4)]
        write_shard(os.path.join(d, name), toks, VOCAB)


def config(d, shape, steps):
    c, layers, heads = SHAPES[shape]
    path = os.path.join(d, shape + ".toml")
    with open(path, "w") as f:
        f.write(f'out_dir = "run"\nseed = 1\n[data]\ntrain = ["shards"]\nval = ["shards"]\n'
                f"[model]\nvocab_size = {VOCAB}\nd_model = {c}\nn_layers = {layers}\n"
                f"n_heads = {heads}\nn_kv_heads = {heads}\nmax_seq = {SEQ}\n"
                f"[train]\nbatch_size = {BATCH}\nseq_len = {SEQ}\ngrad_accum = {ACCUM}\n"
                f"tokens = {BATCH * SEQ * ACCUM * steps}\nlog_every = 1\nval_windows = 1\n"
                f"[checkpoint]\nsteps = [{steps}]\n")
    return path


def run_once(d, cfg, procs, threads, extra, skip):
    shutil.rmtree(os.path.join(d, "run"), ignore_errors=True)
    cmd = [BINARY, "train", "--config", cfg, "--threads", str(threads)] + extra
    if procs > 1:
        cmd = MPIRUN + ["-np", str(procs)] + cmd
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=env, timeout=1200, text=True).stderr
    with open(os.path.join(d, "run", "metrics.jsonl")) as f:
        rates = [json.loads(line)["tok_per_s"] for line in f]
    # Rank 0's share of the run spent waiting for the exchange after the backward passes.
    m = re.search(r"gradient exchange: .* ([0-9.]+)% of", out)
    return statistics.median(rates[skip:]), float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="d256,d512")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=8)
    a = ap.parse_args()
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY}: not built (scripts/build.sh)")
    d = tempfile.mkdtemp(prefix="emergence_mpi_bench_")
    try:
        os.makedirs(os.path.join(d, "shards"))
        make_shards(os.path.join(d, "shards"))
        print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
              f"{os.getloadavg()[2]:.2f}; {os.cpu_count()} CPUs; "
              f"vocab {VOCAB}, seq {SEQ}, batch {BATCH} x grad_accum {ACCUM}, "
              f"{a.steps} steps a run (first 2 not counted)")
        for shape in a.shapes.split(","):
            cfg = config(d, shape, a.steps)
            got = {m[0]: [] for m in MODES}
            wait = {m[0]: [] for m in MODES}
            for _ in range(a.reps):  # interleaved: every mode once per round
                for name, procs, threads, extra in MODES:
                    rate, w = run_once(d, cfg, procs, threads, extra, 2)
                    got[name].append(rate)
                    if w is not None:
                        wait[name].append(w)
            base = statistics.median(got["1p x 1t"])
            print(f"{shape} (d_model {SHAPES[shape][0]}, {SHAPES[shape][1]} layers)")
            for name, *_ in MODES:
                med = statistics.median(got[name])
                runs = " ".join(f"{x:.0f}" for x in got[name])
                w = f"   exchange wait {statistics.median(wait[name]):.1f}% of the run" \
                    if wait[name] else ""
                print(f"  {name:18s} {med:8.0f} tok/s  x{med / base:4.2f}   runs: {runs}{w}")
            ovl, blk = statistics.median(got["2p x 1t"]), statistics.median(got["2p x 1t blocking"])
            print(f"  overlap / blocking: {ovl / blk:.3f}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
