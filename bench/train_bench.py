#!/usr/bin/python3
"""Training throughput of the engine against PyTorch on the shapes a study trains, interleaved
(engine, engine with the fused head's OpenBLAS products, engine with the unfused head, [an earlier
build], PyTorch, engine, ...) so drift on a shared machine hits all alike. Reports medians, the
engine/PyTorch ratio, the engine's GFLOP/s as a share of the single-core sgemm peak measured in the
same run, and the share of a training step spent in the output head and its cross-entropy: the
engine's head (hand-written products on AVX-512 CPUs when d_model is a multiple of 16), the same
fused head on OpenBLAS's products (EMERGENCE_HEAD_KERNEL=blas), and the unfused head. Prints a
Markdown table.

Every row records the machine's state while it ran: the CPU time other processes took (from
/proc/stat, less this bench's own children) and the load average. A row measured while other
processes took more than --max-busy cores prints "busy" instead of its ratios: rerun it on a quiet
machine.

Sets of shapes (--set):
  paper-small  the six sizes of configs/paper-small.toml (vocabulary 8192, seq 256, batch 16)
  quick        the three sizes of configs/quick.toml (vocabulary 4096, seq 256, batch 16)
  classic      d128/L4, d256/L6, d384/L8, d512/L8 (vocabulary 8192, seq 256, batch 16)

usage: bench/train_bench.py [--set paper-small] [--threads 1,2] [--reps 3] [--steps 3]
                            [--base BUILD] [--no-peer] [--modes train,forward] [--max-busy 0.25]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SETS = {  # name: (vocab, seq, batch, rope percent, [(d_model, layers, heads), ...])
    "paper-small": (8192, 256, 16, 50, [(64, 1, 2), (96, 1, 3), (96, 2, 3), (128, 2, 4), (128, 4, 4),
                                        (224, 3, 7)]),
    "quick": (4096, 256, 16, 50, [(64, 1, 2), (96, 1, 3), (96, 2, 3)]),
    "classic": (8192, 256, 16, 100, [(128, 4, 4), (256, 6, 8), (384, 8, 6), (512, 8, 8)]),
}


BLAS_HEAD = dict(os.environ, EMERGENCE_HEAD_KERNEL="blas")


def run(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=env).stdout.strip().splitlines()[-1]
    return json.loads(out)


def cpu_busy_s():
    """Seconds of CPU time all processes have used since boot (user, nice, system, irq, softirq,
    steal), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / os.sysconf("SC_CLK_TCK")


def children_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Meter:
    """Cores used by other processes between start() and stop()."""

    def start(self):
        self.t, self.busy, self.own = time.monotonic(), cpu_busy_s(), children_s()

    def stop(self):
        wall = time.monotonic() - self.t
        return max(0.0, (cpu_busy_s() - self.busy) - (children_s() - self.own)) / wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--base", help="an earlier build directory to compare against (its bench/train_bench)")
    ap.add_argument("--set", default="paper-small", choices=sorted(SETS))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--modes", default="train")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--max-busy", type=float, default=0.25,
                    help="most cores other processes may use during a row for its ratios to print")
    a = ap.parse_args()
    engine = os.path.join(a.build, "bench", "train_bench")
    base = os.path.join(a.base, "bench", "train_bench") if a.base else None
    peer = ["/usr/bin/python3", os.path.join(HERE, "torch_peer.py")]
    vocab, seq, batch, rope, shapes = SETS[a.set]
    peaks = [run([engine, "--mode", "gemm"])["gemm_peak_gflops"]]
    rows = []
    meter = Meter()
    for d, layers, heads in shapes:
        for threads in [int(t) for t in a.threads.split(",")]:
            for mode in a.modes.split(","):
                common = ["--d", str(d), "--layers", str(layers), "--heads", str(heads), "--vocab", str(vocab),
                          "--seq", str(seq), "--batch", str(batch), "--steps", str(a.steps),
                          "--threads", str(threads)]
                args = common + ["--mode", mode]
                got = {k: [] for k in ("fused", "blas", "unfused", "base", "peer", "gflops", "head_f",
                                       "head_b", "head_u")}
                load0 = os.getloadavg()[0]
                meter.start()
                for _ in range(a.reps):
                    r = run([engine] + args + ["--rope-percent", str(rope)])
                    got["fused"].append(r["tokens_per_s"])
                    got["gflops"].append(r["gflops"])
                    got["blas"].append(run([engine] + args + ["--rope-percent", str(rope)],
                                           env=BLAS_HEAD)["tokens_per_s"])
                    got["unfused"].append(run([engine] + args + ["--rope-percent", str(rope),
                                                                 "--unfused-head", "1"])["tokens_per_s"])
                    if base:
                        got["base"].append(run([base] + args + ["--rope-percent", str(rope)])["tokens_per_s"])
                    if not a.no_peer:
                        got["peer"].append(run(peer + args + ["--rope-fraction", str(rope / 100)])["tokens_per_s"])
                    if mode == "train":
                        h = common + ["--mode", "head"]
                        got["head_f"].append(run([engine] + h)["tokens_per_s"])
                        got["head_b"].append(run([engine] + h, env=BLAS_HEAD)["tokens_per_s"])
                        got["head_u"].append(run([engine] + h + ["--unfused-head", "1"])["tokens_per_s"])
                busy = meter.stop()
                med = {k: statistics.median(v) if v else None for k, v in got.items()}
                rows.append((d, layers, threads, mode, med, busy, load0))
                print(f"# d{d}/L{layers} threads={threads} {mode}: " +
                      " ".join(f"{k}={v}" for k, v in got.items() if v) + f" others={busy:.2f} cores",
                      file=sys.stderr, flush=True)
    peaks.append(run([engine, "--mode", "gemm"])["gemm_peak_gflops"])
    peak = max(peaks)
    print(f"set {a.set}: vocabulary {vocab}, seq {seq}, batch {batch}, RoPE on {rope}% of head dims; "
          f"medians of {a.reps} interleaved runs of {a.steps} steps; single-core sgemm peak (OpenBLAS) "
          f"{peaks[0]:.1f} GFLOP/s at the start, {peaks[1]:.1f} at the end; {os.cpu_count()} CPUs\n")
    cols = ["model", "threads", "mode", "emergence tok/s", "BLAS head tok/s", "vs BLAS head",
            "unfused head tok/s"]
    cols += ["base tok/s", "vs base"] if base else []
    cols += ["PyTorch tok/s", "vs PyTorch"] if not a.no_peer else []
    cols += ["GFLOP/s", "% of 1-core peak", "head share: engine / BLAS / unfused", "others (cores)",
             "load"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for d, layers, threads, mode, m, busy, load0 in rows:
        quiet = busy <= a.max_busy

        def ratio(x):
            return f"{m['fused'] / x:.2f}x" if quiet else "busy"

        cells = [f"d{d}/L{layers}", str(threads), mode, f"{m['fused']:,.0f}", f"{m['blas']:,.0f}",
                 ratio(m["blas"]), f"{m['unfused']:,.0f}"]
        if base:
            cells += [f"{m['base']:,.0f}", ratio(m["base"])]
        if not a.no_peer:
            cells += [f"{m['peer']:,.0f}", ratio(m["peer"])]
        cells += [f"{m['gflops']:.1f}", f"{100 * m['gflops'] / peak / threads:.0f}%" if quiet else "busy"]
        if m["head_f"]:
            cells.append(f"{100 * m['fused'] / m['head_f']:.0f}% / {100 * m['blas'] / m['head_b']:.0f}% / "
                         f"{100 * m['unfused'] / m['head_u']:.0f}%")
        else:
            cells.append("")
        cells += [f"{busy:.2f}", f"{load0:.2f}"]
        print("| " + " | ".join(cells) + " |")
    if any(busy > a.max_busy for *_, busy, _ in rows):
        print(f"\nRows marked busy ran while other processes used more than {a.max_busy} cores: "
              "their ratios are not printed; rerun on a quiet machine.")


if __name__ == "__main__":
    main()
