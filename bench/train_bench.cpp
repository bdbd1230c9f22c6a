// Engine throughput for one model shape: training steps (forward, backward, AdamW), forward only,
// or the output head with its cross-entropy alone (loss and gradients, as a training step runs
// it), on random tokens; or the single-thread sgemm peak that GFLOP/s figures are measured
// against. `--unfused-head 1` runs the head unfused (all logits, then the cross-entropy), as before
// the fused head. Prints one JSON line. Driven by bench/train_bench.py, which interleaves it with
// the PyTorch peer.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "common/parallel.h"
#include "common/rng.h"
#include "model/config.h"
#include "model/kernels/kernels.h"
#include "model/model.h"
#include "optim/adamw.h"

namespace {

using bench::now;

// Best GFLOP/s of single-threaded sgemm over the shapes a d<=512 model's matmuls take.
double gemm_peak() {
    openblas_set_num_threads(1);
    double best = 0;
    for (int64_t n : {512, 1024}) {
        const int64_t M = 4096, K = n, N = n;
        std::vector<float> a(M * K, 0.5f), b(K * N, 0.25f), c(M * N);
        for (int rep = 0; rep < 4; ++rep) {
            double t0 = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a.data(), K,
                        b.data(), K, 0.0f, c.data(), N);
            best = std::max(best, 2.0 * M * N * K / (now() - t0) / 1e9);
        }
    }
    return best;
}

}  // namespace

int main(int argc, char **argv) {
    em::ModelConfig cfg;
    int64_t B = 16, T = 256, steps = 5;
    int threads = 1;
    bool unfused = false;
    std::string mode = "train";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        int64_t v = std::atoll(argv[i + 1]);
        if (k == "--d")
            cfg.d_model = v;
        else if (k == "--layers")
            cfg.n_layers = v;
        else if (k == "--heads")
            cfg.n_heads = v;
        else if (k == "--kv-heads")
            cfg.n_kv_heads = v;
        else if (k == "--vocab")
            cfg.vocab_size = v;
        else if (k == "--seq")
            T = v;
        else if (k == "--batch")
            B = v;
        else if (k == "--steps")
            steps = v;
        else if (k == "--threads")
            threads = static_cast<int>(v);
        else if (k == "--rope-percent")
            cfg.rope_fraction = static_cast<double>(v) / 100.0;
        else if (k == "--unfused-head")
            unfused = v != 0;
        else if (k == "--mode")
            mode = argv[i + 1];
        else {
            std::fprintf(stderr, "train_bench: unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (mode == "gemm") {
        std::printf("{\"gemm_peak_gflops\": %.2f}\n", gemm_peak());
        return 0;
    }
    if (cfg.n_kv_heads > cfg.n_heads || cfg.n_heads % cfg.n_kv_heads) cfg.n_kv_heads = cfg.n_heads;
    cfg.max_seq = T;
    em::parallel_set_threads(threads);
    em::Model model(cfg);
    model.init(1);
    model.set_fused_head(!unfused);
    em::Rng rng(2);
    std::vector<int32_t> x(B * T), y(B * T);
    for (auto &t : x) t = static_cast<int32_t>(rng.below(cfg.vocab_size));
    for (auto &t : y) t = static_cast<int32_t>(rng.below(cfg.vocab_size));
    em::AdamWState st;
    em::AdamWConfig ac;
    const bool train = mode == "train", head = mode == "head";
    // The head alone: final hidden states in, loss and the gradients into them and the head out.
    const int64_t C = cfg.d_model, V = cfg.vocab_size, N = B * T;
    std::vector<float> hid, hw, dhid, dhw, logits, losses(static_cast<size_t>(N)), scratch;
    if (head) {
        hid.resize(static_cast<size_t>(N * C));
        hw.resize(static_cast<size_t>(V * C));
        for (auto &v : hid) v = rng.normal();
        for (auto &v : hw) v = 0.02f * rng.normal();
        dhid.resize(hid.size());
        dhw.resize(hw.size());
        if (unfused)
            logits.resize(static_cast<size_t>(N * V));
        else
            scratch.resize(em::lm_head_crossentropy_scratch(C, V));
    }
    auto step = [&] {
        if (head) {
            std::fill(dhid.begin(), dhid.end(), 0.0f);
            std::fill(dhw.begin(), dhw.end(), 0.0f);
            if (unfused) {
                em::matmul_forward(logits.data(), hid.data(), hw.data(), N, C, V);
                em::crossentropy_forward_backward(logits.data(), losses.data(), y.data(), N, V,
                                                  true);
                em::matmul_backward(dhid.data(), dhw.data(), logits.data(), hid.data(), hw.data(),
                                    N, C, V);
            } else {
                em::lm_head_crossentropy(dhid.data(), dhw.data(), losses.data(), hid.data(),
                                         hw.data(), y.data(), N, C, V, scratch.data());
            }
        } else if (train) {
            model.zero_grad();
            model.forward(x.data(), y.data(), B, T);
            if (!model.backward().is_ok()) std::abort();  // targets were given: cannot refuse
            double gn = em::grad_global_norm(model.grads());
            em::adamw_step(model.params(), model.grads(), st, model.layout(), ac, 1e-4,
                           static_cast<float>(gn > 1.0 ? 1.0 / gn : 1.0));
        } else {
            model.forward(x.data(), nullptr, B, T);
        }
    };
    step();  // warm up: allocation, first touch of the arenas
    std::vector<double> times;
    for (int64_t s = 0; s < steps; ++s) {
        double t0 = now();
        step();
        times.push_back(now() - t0);
    }
    std::sort(times.begin(), times.end());
    double med = times[times.size() / 2];
    double tps = static_cast<double>(B * T) / med;
    double flops = head ? 6.0 * static_cast<double>(C * V) * tps
                        : em::model_flops_per_token(cfg, T, train) * tps;
    std::printf(
        "{\"engine\": \"emergence\", \"mode\": \"%s\", \"threads\": %d, \"tokens_per_s\": %.1f, "
        "\"gflops\": %.2f, \"params_non_embedding\": %lld}\n",
        mode.c_str(), threads, tps, flops / 1e9,
        static_cast<long long>(em::model_param_counts(cfg).non_embedding));
    return 0;
}
