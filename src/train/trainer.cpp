// The training loop; see trainer.h.
#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <new>

#include <nlohmann/json.hpp>

#include "common/fileio.h"
#include "common/jsonl.h"
#include "common/parallel.h"
#include "data/shard.h"
#include "model/model.h"
#include "optim/adamw.h"
#include "train/checkpoint.h"
#include "train/dist.h"

namespace em {
namespace {

// Validation windows are always drawn with this seed, whatever the run's data seed, so every
// run of a study is measured on the same held-out tokens.
constexpr uint64_t kValSeed = 0x5eed;

void split_window(const std::vector<int32_t> &buf, int64_t B, int64_t T, std::vector<int32_t> &x,
                  std::vector<int32_t> &y) {
    x.resize(static_cast<size_t>(B * T));
    y.resize(static_cast<size_t>(B * T));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t) {
            x[b * T + t] = buf[b * (T + 1) + t];
            y[b * T + t] = buf[b * (T + 1) + t + 1];
        }
}

// Keeps the metrics lines of steps <= step (a resumed run rewrites what came after).
Status metrics_truncate(const std::string &path, int64_t step) {
    if (!file_exists(path)) return Status::ok();
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    JsonlReader in;
    in.open_text(path, std::move(text), "one record per training step");
    std::string kept;
    nlohmann::json j;
    // A torn last line from a kill ends the log: it and everything after are dropped.
    for (Result<bool> more = in.next(j); more.is_ok() && *more; more = in.next(j)) {
        try {
            if (j.at("step").get<int64_t>() <= step) kept += std::string(in.line_text()) + "\n";
        } catch (const nlohmann::json::exception &) {
            break;
        }
    }
    return file_write_atomic(path, kept);
}

void print_progress(const TrainProgress &p) {
    double eta =
        p.tokens_per_s > 0 && p.step > 0 ? p.elapsed_s / p.step * (p.total_steps - p.step) : 0;
    std::fprintf(stderr, "step %6lld/%lld  loss %.4f", static_cast<long long>(p.step),
                 static_cast<long long>(p.total_steps), p.train_loss);
    if (p.val_loss >= 0) std::fprintf(stderr, "  val %.4f", p.val_loss);
    std::fprintf(stderr, "  lr %.2e  gnorm %.3f  %.0f tok/s  ETA %.0fs\n", p.lr, p.grad_norm,
                 p.tokens_per_s, eta);
}

}  // namespace

double validation_loss(Model &model, WindowLoader &val, int64_t windows, int64_t B, int64_t T) {
    // Batch i is computed on rank i mod K; the batch terms are then summed in batch order on every
    // rank, as one process sums them.
    std::vector<int32_t> buf(static_cast<size_t>(B * (T + 1))), x, y;
    const int64_t batches = (windows + B - 1) / B, K = dist_size(), rank = dist_rank();
    std::vector<double> term(static_cast<size_t>(batches), 0.0);
    for (int64_t i = rank; i < batches; i += K) {
        const int64_t w0 = i * B;
        for (int64_t b = 0; b < B; ++b) {
            if (w0 + b < windows)
                val.window(static_cast<uint64_t>(w0 + b), buf.data() + b * (T + 1));
        }
        split_window(buf, B, T, x, y);
        for (int64_t b = 0; b < B; ++b)  // rows past the last window are padding
            if (w0 + b >= windows)
                for (int64_t t = 0; t < T; ++t) y[b * T + t] = -1;
        int64_t rows = std::min(B, windows - w0);
        term[static_cast<size_t>(i)] = model.forward(x.data(), y.data(), B, T, Model::Pass::eval) *
                                       static_cast<double>(rows * T);
    }
    dist_merge_owned(term);
    double sum = 0;
    for (double t : term) sum += t;
    return sum / static_cast<double>(windows * T);
}

namespace {

// A resumed run must continue the recipe it was started with: compares the run's config.json
// with `cfg` on everything that shapes the trajectory (seeds, model, optimizer and schedule,
// validation windows, checkpoint plan) and names the first difference. Keys the stored file
// lacks (written by an older version) are not compared; paths, threads and logging may differ.
//
// A branch's start is checked the same way against the run it branches from: the same seeds,
// model, batch and optimizer; its budget, schedule, checkpoints and logging are its own.
Status check_recipe(const std::string &path, const TrainConfig &cfg, bool branch) {
    if (!file_exists(path)) return Status::ok();
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    nlohmann::json stored;
    try {
        stored = nlohmann::json::parse(text);
    } catch (const std::exception &e) {
        return Status::error(path + ": not valid JSON (" + e.what() +
                             "); restore it or delete the run's directory to train it afresh");
    }
    const nlohmann::json now = train_config_to_json(cfg);
    auto differs = [&](const std::string &name, const nlohmann::json &a,
                       const nlohmann::json &b) -> Status {
        if (a == b) return Status::ok();
        if (branch)
            return Status::error(cfg.out_dir + ": a branch must share " + name +
                                 " with the run it starts from, but " + path + " has " + a.dump() +
                                 " and the branch " + b.dump() +
                                 " (train.branch_from names the wrong run?)");
        return Status::error(path + ": the run was started with " + name + " = " + a.dump() +
                             " but the config now gives " + b.dump() +
                             "; restore the config that started the run, or delete " + cfg.out_dir +
                             " to train it afresh");
    };
    for (const char *k : {"seed", "data_seed"})
        if (stored.contains(k)) EM_TRY(differs(k, stored[k], now[k]));
    const std::vector<std::pair<const char *, std::vector<std::string>>> sections =
        branch
            ? std::vector<std::pair<const char *, std::vector<std::string>>>{{"model", {}},
                                                                             {"train",
                                                                              {"log_every",
                                                                               "val_every",
                                                                               "tokens", "schedule",
                                                                               "decay_fraction",
                                                                               "decay_shape",
                                                                               "warmup_fraction",
                                                                               "min_lr_ratio",
                                                                               "branch_from",
                                                                               "branch_step"}}}
            : std::vector<std::pair<const char *, std::vector<std::string>>>{
                  {"model", {}},
                  {"train", {"log_every", "val_every"}},
                  {"checkpoint", {"keep_state"}}};
    for (const auto &[section, skip] : sections) {
        if (!stored.contains(section) || !stored[section].is_object()) continue;
        for (const auto &[k, v] : stored[section].items()) {
            if (std::find(skip.begin(), skip.end(), k) != skip.end()) continue;
            if (!now[section].contains(k)) continue;
            EM_TRY(differs(std::string(section) + "." + k, v, now[section][k]));
        }
    }
    return Status::ok();
}

}  // namespace

namespace {

// What a run needs once it is open: data, model and state, the same on every rank.
struct Run {
    WindowLoader loader, val;
    std::unique_ptr<Model> model;
    TrainState st;
    int64_t val_windows = 0;
    bool resumed_from_none = true;  // no checkpoint existed when the run started here
};

// Each rank checks a K-rank split is possible; the micro-batches of a step are shared out in
// blocks whose sums are nodes of the fixed tree (dist.h).
Status check_split(const TrainConfig &cfg, int64_t K) {
    if (K == 1) return Status::ok();
    const int64_t A = cfg.grad_accum, m = A / K;
    if (A % K == 0 && (m & (m - 1)) == 0) return Status::ok();
    return Status::error(
        "train.grad_accum = " + std::to_string(A) + " cannot be shared by " + std::to_string(K) +
        " processes: it must be the number of processes times a power of two (" +
        std::to_string(K) + ", " + std::to_string(2 * K) + ", " + std::to_string(4 * K) +
        ", ...); raise grad_accum and lower batch_size "
        "to keep the tokens per step, or start fewer processes");
}

// Opens the data on every rank; rank 0 alone reads and writes the run's directory (checkpoint,
// metrics, config.json). The other ranks receive the state in run_share.
Status run_open(const TrainConfig &cfg, const TrainOptions &opts, Run &run) {
    EM_TRY(train_config_validate(cfg));
    EM_TRY(check_split(cfg, dist_size()));
    EM_ASSIGN_OR_RETURN(auto train_paths, shard_paths_expand(cfg.train_shards, "train_"));
    EM_ASSIGN_OR_RETURN(auto val_paths, shard_paths_expand(cfg.val_shards, "val_"));
    const int64_t T = cfg.seq_len;
    EM_ASSIGN_OR_RETURN(run.loader, WindowLoader::open(train_paths, T, cfg.data_seed));
    EM_ASSIGN_OR_RETURN(run.val, WindowLoader::open(val_paths, T, kValSeed));
    if (static_cast<int64_t>(run.loader.vocab_size()) > cfg.model.vocab_size)
        return Status::error(train_paths[0] + ": tokens come from a vocabulary of " +
                             std::to_string(run.loader.vocab_size()) + " but model.vocab_size is " +
                             std::to_string(cfg.model.vocab_size) +
                             " (set model.vocab_size to the tokenizer's size)");
    run.val_windows =
        std::min<int64_t>(cfg.val_windows, static_cast<int64_t>(run.val.windows_per_epoch()));
    run.model = std::make_unique<Model>(cfg.model);
    if (dist_rank() != 0) return Status::ok();

    const std::string dir = cfg.out_dir, metrics = dir + "/metrics.jsonl";
    EM_TRY(dir_create(dir));
    Model &model = *run.model;
    std::vector<int64_t> have = checkpoint_list(dir);
    if (!have.empty() && !opts.resume)
        return Status::error(dir +
                             ": holds checkpoints of an earlier run (pass --resume to continue it, "
                             "or choose another out_dir)");
    run.resumed_from_none = have.empty();
    if (!have.empty()) {
        EM_TRY(check_recipe(dir + "/config.json", cfg, false));
        int64_t last = have.back();
        Status s = checkpoint_load(dir, last, model, run.st);
        if (!s.is_ok())
            return s.with_context("resuming from step " + std::to_string(last) + " (delete " +
                                  checkpoint_weights_path(dir, last) +
                                  " to resume from the checkpoint before it)");
        EM_TRY(metrics_truncate(metrics, run.st.step));
        std::fprintf(stderr, "resuming %s at step %lld\n", dir.c_str(),
                     static_cast<long long>(run.st.step));
    } else if (!cfg.branch_from.empty()) {
        // A branch's first start: the other run's checkpoint, as if resuming that run.
        const std::string &from = cfg.branch_from;
        if (!file_exists(checkpoint_weights_path(from, cfg.branch_step)) ||
            !file_exists(checkpoint_state_path(from, cfg.branch_step)))
            return Status::error(
                dir + ": the branch starts from step " + std::to_string(cfg.branch_step) + " of " +
                from +
                ", which has no checkpoint with optimizer state there (train that run to "
                "step " +
                std::to_string(cfg.branch_step) +
                " first, with the step in checkpoint.steps and checkpoint.keep_state_steps)");
        EM_TRY(check_recipe(from + "/config.json", cfg, true));
        EM_TRY(checkpoint_load(from, cfg.branch_step, model, run.st)
                   .with_context("starting the branch " + dir));
        if (file_exists(metrics)) EM_TRY(file_write_atomic(metrics, ""));
        EM_TRY(file_write_atomic(dir + "/config.json", train_config_to_json(cfg).dump(2) + "\n"));
        std::fprintf(stderr, "branching %s from %s at step %lld\n", dir.c_str(), from.c_str(),
                     static_cast<long long>(run.st.step));
    } else {
        model.init(cfg.seed);
        if (file_exists(metrics)) EM_TRY(file_write_atomic(metrics, ""));
        EM_TRY(file_write_atomic(dir + "/config.json", train_config_to_json(cfg).dump(2) + "\n"));
    }
    return Status::ok();
}

// Gives every rank rank 0's weights and training state.
void run_share(Run &run) {
    if (dist_size() == 1) return;
    TrainState &st = run.st;
    int64_t head[5] = {st.step, st.tokens_seen, static_cast<int64_t>(st.cursor), st.adam.t,
                       static_cast<int64_t>(st.adam.m.size())};
    dist_broadcast(head, sizeof head);
    st.step = head[0];
    st.tokens_seen = head[1];
    st.cursor = static_cast<uint64_t>(head[2]);
    st.adam.t = head[3];
    st.adam.m.resize(static_cast<size_t>(head[4]));
    st.adam.v.resize(static_cast<size_t>(head[4]));
    std::vector<float> &p = run.model->params();
    dist_broadcast(p.data(), p.size() * sizeof(float));
    dist_broadcast(st.adam.m.data(), st.adam.m.size() * sizeof(float));
    dist_broadcast(st.adam.v.data(), st.adam.v.size() * sizeof(float));
}

Status train_loop(const TrainConfig &cfg, const TrainOptions &opts, Run &run) {
    const int64_t B = cfg.batch_size, T = cfg.seq_len, A = cfg.grad_accum;
    const int64_t K = dist_size(), rank = dist_rank(), m = A / K;
    const bool lead = rank == 0;
    const std::string dir = cfg.out_dir, metrics = dir + "/metrics.jsonl";
    const std::string config_json = train_config_to_json(cfg).dump();
    Model &model = *run.model;
    TrainState &st = run.st;
    WindowLoader &loader = run.loader;

    const Schedule sched = cfg.lr_schedule();
    const int64_t total = sched.total_steps;
    const std::vector<int64_t> plan = cfg.checkpoint_plan();
    const double grad_scale = 1.0 / static_cast<double>(A);
    std::vector<int32_t> buf(static_cast<size_t>(B * (T + 1))), x, y;
    std::vector<double> micro_loss(static_cast<size_t>(A));
    GradReducer reducer(model.grads().size(), model.grad_ranges(), opts.overlap);
    auto ready = [&](size_t b, size_t e) { reducer.ready(model.grads().data(), b, e); };
    // Rank 0's writes of a step (metrics, checkpoint): the other ranks learn of a failure with the
    // next step's agreement, or the last one's, instead of waiting for it in the next exchange.
    Status written;
    TrainProgress p;
    p.total_steps = total;
    auto t_start = std::chrono::steady_clock::now();
    auto t_last = t_start;
    int64_t tokens_last = st.tokens_seen;

    while (st.step < total) {
        const double lr = schedule_lr(sched, st.step);
        // This rank's micro-batches: [rank m, (rank + 1) m) of the step's A, each B windows on
        // from the step's cursor, so the step reads the windows one process would.
        std::fill(micro_loss.begin(), micro_loss.end(), 0.0);
        Status computed;
        for (int64_t i = 0; i < m && computed.is_ok(); ++i) {
            const int64_t micro = rank * m + i;
            const bool last = i + 1 == m;
            loader.set_cursor(st.cursor + static_cast<uint64_t>(micro * B));
            loader.next(B, buf.data());
            split_window(buf, B, T, x, y);
            model.zero_grad();
            micro_loss[static_cast<size_t>(micro)] = model.forward(x.data(), y.data(), B, T);
            if (last && opts.overlap) model.set_grad_ready(ready);
            computed = model.backward();
            model.set_grad_ready(nullptr);
            if (!last && computed.is_ok()) reducer.push(model.grads().data());
        }
        reducer.finish(model.grads().data());
        dist_merge_owned(micro_loss);
        EM_TRY(dist_agree(written.is_ok() ? computed : written));
        double loss = 0;
        for (double l : micro_loss) loss += l * grad_scale;
        const double gnorm = grad_global_norm(model.grads()) * grad_scale;
        if (!std::isfinite(loss) || !std::isfinite(gnorm)) {
            std::string last =
                run.resumed_from_none && st.step == 0 ? "none" : "the latest in " + dir + "/ckpt";
            return Status::error("step " + std::to_string(st.step + 1) + ": " +
                                 (!std::isfinite(loss) ? "loss" : "gradient norm") +
                                 " is not finite; training stopped, last good checkpoint: " + last +
                                 " (lower train.lr or raise train.warmup_fraction)");
        }
        double clip = cfg.grad_clip > 0 && gnorm > cfg.grad_clip ? cfg.grad_clip / gnorm : 1.0;
        adamw_step(model.params(), model.grads(), st.adam, model.layout(), cfg.adamw, lr,
                   static_cast<float>(grad_scale * clip));
        st.step += 1;
        st.tokens_seen += cfg.tokens_per_step();
        st.cursor += static_cast<uint64_t>(A * B);

        const bool ckpt = std::binary_search(plan.begin(), plan.end(), st.step);
        const bool do_val = ckpt || (cfg.val_every > 0 && st.step % cfg.val_every == 0);
        auto now = std::chrono::steady_clock::now();
        double since = std::chrono::duration<double>(now - t_last).count();
        p.step = st.step;
        p.tokens_seen = st.tokens_seen;
        p.train_loss = loss;
        p.lr = lr;
        p.grad_norm = gnorm;
        p.elapsed_s = std::chrono::duration<double>(now - t_start).count();
        if (since > 0 &&
            (st.step % cfg.log_every == 0 || do_val || st.step == total || since >= 5.0)) {
            p.tokens_per_s = static_cast<double>(st.tokens_seen - tokens_last) / since;
            t_last = now;
            tokens_last = st.tokens_seen;
        }
        p.val_loss = do_val ? validation_loss(model, run.val, run.val_windows, B, T) : -1;
        if (!lead) continue;

        nlohmann::json j = {{"step", st.step},    {"tokens", st.tokens_seen},
                            {"train_loss", loss}, {"lr", lr},
                            {"grad_norm", gnorm}, {"tok_per_s", p.tokens_per_s}};
        if (do_val) j["val_loss"] = p.val_loss;
        written = file_append_line(metrics, j.dump());
        if (written.is_ok() && ckpt) {
            written = checkpoint_save(dir, model, st, config_json, p.val_loss);
            if (written.is_ok())
                written = checkpoint_prune_state(dir, cfg.checkpoint_keep_state,
                                                 cfg.checkpoint_keep_state_steps);
        }
        if (K == 1) EM_TRY(written);
        p.checkpoint = ckpt;
        if (opts.on_step)
            opts.on_step(p);
        else if (st.step % cfg.log_every == 0 || do_val || st.step == total)
            print_progress(p);
    }
    if (K > 1 && lead) {
        const double run_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        std::fprintf(stderr,
                     "gradient exchange: %.2f s waited after the backward passes, %.1f%% "
                     "of %.1f s\n",
                     reducer.wait_seconds(), 100 * reducer.wait_seconds() / std::max(run_s, 1e-9),
                     run_s);
    }
    return dist_agree(written);
}

}  // namespace

Status train_run(const TrainConfig &cfg, const TrainOptions &opts) {
    int threads = cfg.threads > 0 ? static_cast<int>(cfg.threads) : parallel_default_threads();
    // Ranks on one machine share its CPUs unless the config says otherwise.
    if (cfg.threads == 0 && dist_local_size() > 1)
        threads = std::max(1, threads / dist_local_size());
    parallel_set_threads(threads);
    Run run;
    Status opened;
    try {
        opened = run_open(cfg, opts, run);
    } catch (const std::bad_alloc &) {
        opened = Status::error("out of memory while opening the run (model " +
                               std::to_string(cfg.model.d_model) + " x " +
                               std::to_string(cfg.model.n_layers) +
                               "); free memory or start fewer processes per machine");
    }
    EM_TRY(dist_agree(opened));
    run_share(run);
    if (dist_size() == 1) return train_loop(cfg, opts, run);
    // Every rank but a failing one may be inside a collective: a failure the step's agreement
    // cannot carry ends the job from the rank that saw it.
    Status s;
    try {
        s = train_loop(cfg, opts, run);
    } catch (const std::exception &e) {
        dist_abort(std::string("training failed: ") + e.what());
    }
    return s;
}

}  // namespace em
