// Multiple-choice scoring throughput (documents/s): the scorer with prefix reuse (choices side by
// side, or one after another) against scoring every choice with its whole context, and against a
// PyTorch peer (bench/eval_peer.py, the same weights read from our safetensors file, the same
// threads) that runs each choice as its own forward as an lm-eval Hugging Face model does, one
// request per forward and in padded batches. Runs are interleaved (A B C ... A B C ...) and the
// table gives medians and ratios. The peer's log-likelihoods are checked against ours. The peer
// runs with OMP_WAIT_POLICY=PASSIVE, as the engine's thread pool waits passively too.
//
// usage: eval_bench [--d 128] [--layers 4] [--heads 4] [--kv-heads 0] [--vocab 4096] [--seq 128]
//                   [--docs 200] [--choices 4] [--ctx 40:90] [--cont 2:12] [--threads 1]
//                   [--reps 3] [--peer-batch 16] [--no-peer 1]
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "common/fileio.h"
#include "common/parallel.h"
#include "common/rng.h"
#include "eval/scorer.h"
#include "model/model.h"
#include "train/checkpoint.h"

namespace {

using bench::median;
using bench::now;

nlohmann::json run_peer(const std::string &cmd) {
    FILE *p = ::popen(cmd.c_str(), "r");
    std::string out;
    std::array<char, 1 << 16> buf;
    while (p && std::fgets(buf.data(), buf.size(), p)) out += buf.data();
    if (!p || ::pclose(p) != 0 || out.rfind('{') == std::string::npos) {
        std::fprintf(stderr, "eval_bench: the peer failed: %s\n", cmd.c_str());
        return nullptr;
    }
    return nlohmann::json::parse(out.substr(out.rfind('{')));
}

}  // namespace

int main(int argc, char **argv) {
    em::ModelConfig cfg;
    cfg.d_model = 128;
    cfg.n_layers = 4;
    cfg.n_heads = 4;
    cfg.n_kv_heads = 0;
    cfg.vocab_size = 4096;
    cfg.max_seq = 128;
    cfg.rope_fraction = 0.5;
    int64_t docs_n = 200, K = 4, ctx_lo = 40, ctx_hi = 90, cont_lo = 2, cont_hi = 12, reps = 3,
            peer_batch = 16;
    int threads = 1;
    bool peer = true;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        auto range = [&](int64_t &lo, int64_t &hi) {
            lo = std::atoll(v.c_str());
            hi = std::atoll(v.substr(v.find(':') + 1).c_str());
        };
        if (k == "--d")
            cfg.d_model = std::atoll(v.c_str());
        else if (k == "--layers")
            cfg.n_layers = std::atoll(v.c_str());
        else if (k == "--heads")
            cfg.n_heads = std::atoll(v.c_str());
        else if (k == "--kv-heads")
            cfg.n_kv_heads = std::atoll(v.c_str());
        else if (k == "--vocab")
            cfg.vocab_size = std::atoll(v.c_str());
        else if (k == "--seq")
            cfg.max_seq = std::atoll(v.c_str());
        else if (k == "--docs")
            docs_n = std::atoll(v.c_str());
        else if (k == "--choices")
            K = std::atoll(v.c_str());
        else if (k == "--ctx")
            range(ctx_lo, ctx_hi);
        else if (k == "--cont")
            range(cont_lo, cont_hi);
        else if (k == "--threads")
            threads = std::atoi(v.c_str());
        else if (k == "--reps")
            reps = std::atoll(v.c_str());
        else if (k == "--peer-batch")
            peer_batch = std::atoll(v.c_str());
        else if (k == "--no-peer")
            peer = v == "0";
        else {
            std::fprintf(stderr, "eval_bench: unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (cfg.n_kv_heads == 0) cfg.n_kv_heads = cfg.n_heads;
    if (ctx_hi + cont_hi > cfg.max_seq) {
        std::fprintf(stderr, "eval_bench: --ctx and --cont must fit in --seq\n");
        return 2;
    }
    em::parallel_set_threads(threads);
    em::Model model(cfg);
    model.init(1);

    // Documents: random token contexts and continuations (the scorer's cost does not depend on
    // which tokens they are).
    em::Rng rng(7);
    std::vector<em::TokenRequest> docs(static_cast<size_t>(docs_n));
    nlohmann::json jdocs = nlohmann::json::array();
    int64_t ctx_tokens = 0, cont_tokens = 0;
    for (auto &d : docs) {
        auto draw = [&](int64_t lo, int64_t hi) {
            std::vector<int32_t> t(
                static_cast<size_t>(lo + static_cast<int64_t>(rng.below(hi - lo + 1))));
            for (auto &x : t)
                x = static_cast<int32_t>(rng.below(static_cast<uint64_t>(cfg.vocab_size)));
            return t;
        };
        d.context = draw(ctx_lo, ctx_hi);
        ctx_tokens += static_cast<int64_t>(d.context.size());
        for (int64_t k = 0; k < K; ++k) {
            d.continuations.push_back(draw(cont_lo, cont_hi));
            cont_tokens += static_cast<int64_t>(d.continuations.back().size());
        }
        jdocs.push_back({{"context", d.context}, {"continuations", d.continuations}});
    }
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("emergence_eval_bench_" + std::to_string(::getpid())))
                                .string();
    std::filesystem::create_directories(dir);
    const std::string weights = dir + "/model.safetensors", docs_path = dir + "/docs.json";
    if (!em::model_save(weights, model, {}).is_ok() ||
        !em::file_write_atomic(docs_path, jdocs.dump()).is_ok()) {
        std::fprintf(stderr, "eval_bench: cannot write to %s\n", dir.c_str());
        return 1;
    }

    struct Mode {
        const char *name;
        bool reuse, batch;
    };
    const Mode modes[] = {{"emergence, prefix reuse, choices side by side", true, true},
                          {"emergence, prefix reuse, choices one by one", true, false},
                          {"emergence, every choice with its whole context", false, false}};
    std::map<std::string, std::vector<double>> rate;
    std::vector<std::string> order;
    std::vector<double> ours_ll;
    double max_diff = 0;
    // Passive OpenMP waits, like the engine's pool: spinning threads collapse on a shared host.
    const std::string peer_cmd = std::string("OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 ") +
                                 EM_SOURCE_DIR + "/bench/eval_peer.py --weights " + weights +
                                 " --docs " + docs_path + " --threads " + std::to_string(threads) +
                                 " --batch " + std::to_string(peer_batch) + " --mode ";
    for (int64_t rep = 0; rep < reps; ++rep) {
        for (const Mode &m : modes) {
            em::ScoreOptions o;
            o.prefix_reuse = m.reuse;
            o.batch_choices = m.batch;
            double t0 = now();
            auto r = em::loglik_tokens(model, docs, o);
            double dt = now() - t0;
            if (!r.is_ok()) {
                std::fprintf(stderr, "eval_bench: %s\n", r.status().message().c_str());
                return 1;
            }
            if (ours_ll.empty())
                for (const auto &x : r.value())
                    ours_ll.insert(ours_ll.end(), x.ll.begin(), x.ll.end());
            rate[m.name].push_back(static_cast<double>(docs_n) / dt);
            if (rep == 0) order.push_back(m.name);
        }
        if (!peer) continue;
        for (const char *pm : {"each", "batched"}) {
            nlohmann::json j = run_peer(peer_cmd + pm);
            if (j.is_null()) {
                std::filesystem::remove_all(dir);
                return 1;
            }
            const std::string name =
                std::string("PyTorch ") + j["torch"].get<std::string>() +
                (std::string(pm) == "each"
                     ? ", one forward per choice"
                     : ", choices in padded batches of " + std::to_string(peer_batch));
            rate[name].push_back(j["docs_per_s"].get<double>());
            if (rep == 0) order.push_back(name);
            const auto ll = j["ll"].get<std::vector<double>>();
            for (size_t i = 0; i < ll.size() && i < ours_ll.size(); ++i)
                max_diff = std::max(max_diff, std::fabs(ll[i] - ours_ll[i]));
        }
        std::fprintf(stderr, "eval_bench: rep %lld done\n", static_cast<long long>(rep + 1));
    }
    std::filesystem::remove_all(dir);

    const double base_each = peer ? median(rate[order[3]]) : 0;
    const double base_batched = peer ? median(rate[order[4]]) : 0;
    std::printf(
        "model d%lld/L%lld/H%lld vocab %lld; %lld documents x %lld choices; context %lld-%lld, "
        "choice %lld-%lld tokens (%.0f + %.0f per document); %d thread(s); medians of %lld "
        "interleaved runs\n",
        static_cast<long long>(cfg.d_model), static_cast<long long>(cfg.n_layers),
        static_cast<long long>(cfg.n_heads), static_cast<long long>(cfg.vocab_size),
        static_cast<long long>(docs_n), static_cast<long long>(K), static_cast<long long>(ctx_lo),
        static_cast<long long>(ctx_hi), static_cast<long long>(cont_lo),
        static_cast<long long>(cont_hi),
        static_cast<double>(ctx_tokens) / static_cast<double>(docs_n),
        static_cast<double>(cont_tokens) / static_cast<double>(docs_n), threads,
        static_cast<long long>(reps));
    if (peer) std::printf("largest |log-likelihood difference| to PyTorch: %.2e\n", max_diff);
    std::printf(
        "\n| scorer | documents/s | vs PyTorch one per choice | vs PyTorch batched "
        "|\n|---|---|---|---|\n");
    for (const auto &name : order) {
        const double r = median(rate[name]);
        if (peer)
            std::printf("| %s | %.1f | %.2fx | %.2fx |\n", name.c_str(), r, r / base_each,
                        r / base_batched);
        else
            std::printf("| %s | %.1f | - | - |\n", name.c_str(), r);
    }
    return 0;
}
