// The training loop; see trainer.h.
#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/fileio.h"
#include "common/jsonl.h"
#include "common/parallel.h"
#include "data/shard.h"
#include "model/model.h"
#include "optim/adamw.h"
#include "train/checkpoint.h"

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
    std::vector<int32_t> buf(static_cast<size_t>(B * (T + 1))), x, y;
    double sum = 0;
    int64_t counted = 0;
    for (int64_t w0 = 0; w0 < windows; w0 += B) {
        for (int64_t b = 0; b < B; ++b) {
            if (w0 + b < windows)
                val.window(static_cast<uint64_t>(w0 + b), buf.data() + b * (T + 1));
        }
        split_window(buf, B, T, x, y);
        for (int64_t b = 0; b < B; ++b)  // rows past the last window are padding
            if (w0 + b >= windows)
                for (int64_t t = 0; t < T; ++t) y[b * T + t] = -1;
        int64_t rows = std::min(B, windows - w0);
        sum += model.forward(x.data(), y.data(), B, T) * static_cast<double>(rows * T);
        counted += rows * T;
    }
    return sum / static_cast<double>(counted);
}

namespace {

// A resumed run must continue the recipe it was started with: compares the run's config.json
// with `cfg` on everything that shapes the trajectory (seeds, model, optimizer and schedule,
// validation windows, checkpoint plan) and names the first difference. Keys the stored file
// lacks (written by an older version) are not compared; paths, threads and logging may differ.
Status check_resume_recipe(const std::string &path, const TrainConfig &cfg) {
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
        return Status::error(path + ": the run was started with " + name + " = " + a.dump() +
                             " but the config now gives " + b.dump() +
                             "; restore the config that started the run, or delete " + cfg.out_dir +
                             " to train it afresh");
    };
    for (const char *k : {"seed", "data_seed"})
        if (stored.contains(k)) EM_TRY(differs(k, stored[k], now[k]));
    const std::pair<const char *, std::vector<std::string>> sections[] = {
        {"model", {}}, {"train", {"log_every", "val_every"}}, {"checkpoint", {"keep_state"}}};
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

Status train_run(const TrainConfig &cfg, const TrainOptions &opts) {
    EM_TRY(train_config_validate(cfg));
    parallel_set_threads(cfg.threads > 0 ? static_cast<int>(cfg.threads)
                                         : parallel_default_threads());
    EM_ASSIGN_OR_RETURN(auto train_paths, shard_paths_expand(cfg.train_shards, "train_"));
    EM_ASSIGN_OR_RETURN(auto val_paths, shard_paths_expand(cfg.val_shards, "val_"));
    const int64_t B = cfg.batch_size, T = cfg.seq_len;
    EM_ASSIGN_OR_RETURN(WindowLoader loader, WindowLoader::open(train_paths, T, cfg.data_seed));
    EM_ASSIGN_OR_RETURN(WindowLoader val, WindowLoader::open(val_paths, T, kValSeed));
    if (static_cast<int64_t>(loader.vocab_size()) > cfg.model.vocab_size)
        return Status::error(train_paths[0] + ": tokens come from a vocabulary of " +
                             std::to_string(loader.vocab_size()) + " but model.vocab_size is " +
                             std::to_string(cfg.model.vocab_size) +
                             " (set model.vocab_size to the tokenizer's size)");
    const int64_t val_windows =
        std::min<int64_t>(cfg.val_windows, static_cast<int64_t>(val.windows_per_epoch()));

    const std::string dir = cfg.out_dir, metrics = dir + "/metrics.jsonl";
    const std::string config_json = train_config_to_json(cfg).dump();
    EM_TRY(dir_create(dir));

    Model model(cfg.model);
    TrainState st;
    std::vector<int64_t> have = checkpoint_list(dir);
    if (!have.empty() && !opts.resume)
        return Status::error(dir +
                             ": holds checkpoints of an earlier run (pass --resume to continue it, "
                             "or choose another out_dir)");
    if (!have.empty()) {
        EM_TRY(check_resume_recipe(dir + "/config.json", cfg));
        int64_t last = have.back();
        Status s = checkpoint_load(dir, last, model, st);
        if (!s.is_ok())
            return s.with_context("resuming from step " + std::to_string(last) + " (delete " +
                                  checkpoint_weights_path(dir, last) +
                                  " to resume from the checkpoint before it)");
        loader.set_cursor(st.cursor);
        EM_TRY(metrics_truncate(metrics, st.step));
        std::fprintf(stderr, "resuming %s at step %lld\n", dir.c_str(),
                     static_cast<long long>(st.step));
    } else {
        model.init(cfg.seed);
        if (file_exists(metrics)) EM_TRY(file_write_atomic(metrics, ""));
        EM_TRY(file_write_atomic(dir + "/config.json", train_config_to_json(cfg).dump(2) + "\n"));
    }

    const Schedule sched = cfg.lr_schedule();
    const int64_t total = sched.total_steps;
    const std::vector<int64_t> plan = cfg.checkpoint_plan();
    const double grad_scale = 1.0 / static_cast<double>(cfg.grad_accum);
    std::vector<int32_t> buf(static_cast<size_t>(B * (T + 1))), x, y;
    TrainProgress p;
    p.total_steps = total;
    auto t_start = std::chrono::steady_clock::now();
    auto t_last = t_start;
    int64_t tokens_last = st.tokens_seen;

    while (st.step < total) {
        const double lr = schedule_lr(sched, st.step);
        model.zero_grad();
        double loss = 0;
        for (int64_t micro = 0; micro < cfg.grad_accum; ++micro) {
            loader.next(B, buf.data());
            split_window(buf, B, T, x, y);
            loss += model.forward(x.data(), y.data(), B, T) * grad_scale;
            EM_TRY(model.backward());
        }
        const double gnorm = grad_global_norm(model.grads()) * grad_scale;
        if (!std::isfinite(loss) || !std::isfinite(gnorm)) {
            std::string last =
                have.empty() && st.step == 0 ? "none" : "the latest in " + dir + "/ckpt";
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
        st.cursor = loader.cursor();

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
        p.val_loss = do_val ? validation_loss(model, val, val_windows, B, T) : -1;

        nlohmann::json m = {{"step", st.step},    {"tokens", st.tokens_seen},
                            {"train_loss", loss}, {"lr", lr},
                            {"grad_norm", gnorm}, {"tok_per_s", p.tokens_per_s}};
        if (do_val) m["val_loss"] = p.val_loss;
        EM_TRY(file_append_line(metrics, m.dump()));
        if (ckpt) {
            EM_TRY(checkpoint_save(dir, model, st, config_json, p.val_loss));
            EM_TRY(checkpoint_prune_state(dir, cfg.checkpoint_keep_state));
        }
        p.checkpoint = ckpt;
        if (opts.on_step)
            opts.on_step(p);
        else if (st.step % cfg.log_every == 0 || do_val || st.step == total)
            print_progress(p);
    }
    return Status::ok();
}

}  // namespace em
