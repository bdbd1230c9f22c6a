// Training configuration; see config.h.
#include "train/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "common/toml_util.h"

namespace em {

Schedule TrainConfig::lr_schedule() const {
    Schedule s;
    s.kind = schedule;
    s.max_lr = lr;
    s.min_lr = lr * min_lr_ratio;
    s.total_steps = total_steps();
    s.warmup_steps =
        static_cast<int64_t>(std::llround(warmup_fraction * static_cast<double>(s.total_steps)));
    s.decay_fraction = decay_fraction;
    s.decay_shape = decay_shape;
    return s;
}

std::vector<int64_t> TrainConfig::checkpoint_plan() const {
    const int64_t total = total_steps();
    std::set<int64_t> steps;
    for (int64_t s : checkpoint_steps)
        if (s >= 1 && s <= total) steps.insert(s);
    // A regular step closer than half an interval to the last step would duplicate it.
    if (checkpoint_every > 0)
        for (int64_t s = checkpoint_every; s <= total; s += checkpoint_every)
            if (s == total || total - s >= (checkpoint_every + 1) / 2) steps.insert(s);
    if (checkpoint_log > 0) {
        int64_t top = checkpoint_every > 0 ? std::min(checkpoint_every, total) : total;
        for (int64_t i = 1; i <= checkpoint_log; ++i) {
            double x = std::pow(static_cast<double>(top),
                                static_cast<double>(i) / static_cast<double>(checkpoint_log + 1));
            steps.insert(std::clamp<int64_t>(std::llround(x), 1, total));
        }
    }
    if (total >= 1) steps.insert(total);
    if (!branch_from.empty()) steps.erase(steps.begin(), steps.upper_bound(branch_step));
    return {steps.begin(), steps.end()};
}

Status train_config_validate(const TrainConfig &c) {
    EM_TRY(model_config_validate(c.model));
    auto bad = [](const std::string &m) { return Status::error(m); };
    if (c.train_shards.empty())
        return bad("data.train is empty (name the training shards or their directory)");
    if (c.val_shards.empty())
        return bad("data.val is empty (name the validation shards or their directory)");
    if (c.batch_size < 1) return bad("train.batch_size must be at least 1");
    if (c.seq_len < 1) return bad("train.seq_len must be at least 1");
    if (c.seq_len > c.model.max_seq)
        return bad("train.seq_len " + std::to_string(c.seq_len) + " exceeds model.max_seq " +
                   std::to_string(c.model.max_seq) + " (raise model.max_seq)");
    if (c.grad_accum < 1) return bad("train.grad_accum must be at least 1");
    if (c.tokens < c.tokens_per_step())
        return bad("train.tokens " + std::to_string(c.tokens) + " is less than one step of " +
                   std::to_string(c.tokens_per_step()) +
                   " tokens (batch_size x seq_len x grad_accum)");
    if (c.warmup_fraction < 0 || c.warmup_fraction >= 1)
        return bad("train.warmup_fraction must lie in [0, 1)");
    if (c.grad_clip < 0) return bad("train.grad_clip must be >= 0");
    if (!(c.adamw.beta1 >= 0 && c.adamw.beta1 < 1 && c.adamw.beta2 >= 0 && c.adamw.beta2 < 1))
        return bad("train.beta1 and train.beta2 must lie in [0, 1)");
    if (c.adamw.eps <= 0) return bad("train.eps must be positive");
    if (c.adamw.weight_decay < 0) return bad("train.weight_decay must be >= 0");
    if (c.val_windows < 1) return bad("train.val_windows must be at least 1");
    if (c.log_every < 1) return bad("train.log_every must be at least 1");
    if (c.threads < 0) return bad("threads must be >= 0");
    if (c.checkpoint_keep_state < 0)
        return bad("checkpoint.keep_state must be >= 0 (0 keeps every optimizer-state file)");
    if (!c.branch_from.empty() && (c.branch_step < 1 || c.branch_step >= c.total_steps()))
        return bad("train.branch_step " + std::to_string(c.branch_step) + " must lie in [1, " +
                   std::to_string(c.total_steps() - 1) +
                   "]: a branch starts from a checkpoint before its own last step");
    if (c.branch_from.empty() && c.branch_step != 0)
        return bad(
            "train.branch_step is set but train.branch_from is not (name the run the "
            "branch starts from)");
    return schedule_validate(c.lr_schedule());
}

void train_keys_read(TomlReader &r, TrainConfig &c) {
    r.get("batch_size", c.batch_size);
    r.get("seq_len", c.seq_len);
    r.get("grad_accum", c.grad_accum);
    r.get("tokens", c.tokens);
    r.get("lr", c.lr);
    r.get("min_lr_ratio", c.min_lr_ratio);
    r.get("warmup_fraction", c.warmup_fraction);
    r.get("schedule", c.schedule);
    r.get("decay_fraction", c.decay_fraction);
    r.get("decay_shape", c.decay_shape);
    r.get("branch_from", c.branch_from);
    r.get("branch_step", c.branch_step);
    r.get("beta1", c.adamw.beta1);
    r.get("beta2", c.adamw.beta2);
    r.get("eps", c.adamw.eps);
    r.get("weight_decay", c.adamw.weight_decay);
    r.get("decay_norms", c.adamw.decay_norms);
    r.get("decay_embeddings", c.adamw.decay_embeddings);
    r.get("grad_clip", c.grad_clip);
    r.get("log_every", c.log_every);
    r.get("val_every", c.val_every);
    r.get("val_windows", c.val_windows);
}

Result<TrainConfig> train_config_load(const std::string &path) {
    EM_ASSIGN_OR_RETURN(toml::table root, toml_parse_file(path));
    TrainConfig c;
    TomlReader top(root, path);
    top.get("out_dir", c.out_dir);
    int64_t seed = static_cast<int64_t>(c.seed), data_seed = static_cast<int64_t>(c.data_seed);
    top.get("seed", seed);
    top.get("data_seed", data_seed);
    top.get("threads", c.threads);
    c.seed = static_cast<uint64_t>(seed);
    c.data_seed = static_cast<uint64_t>(data_seed);
    for (const char *k : {"data", "model", "train", "checkpoint"}) top.known(k);
    EM_TRY(top.finish());
    auto table = [&](const char *name) -> const toml::table * {
        const toml::node *n = root.get(name);
        return n ? n->as_table() : nullptr;
    };
    for (const char *k : {"data", "model", "train", "checkpoint"})
        if (root.get(k) && !table(k))
            return Status::error(path + ": '" + k + "' must be a table ([" + k + "])");
    if (auto *t = table("data")) {
        TomlReader r(*t, path + " [data]");
        r.get("train", c.train_shards);
        r.get("val", c.val_shards);
        EM_TRY(r.finish());
    }
    if (auto *t = table("model")) EM_TRY(model_config_from_toml(c.model, *t, path + " [model]"));
    if (auto *t = table("train")) {
        TomlReader r(*t, path + " [train]");
        train_keys_read(r, c);
        EM_TRY(r.finish());
    }
    if (auto *t = table("checkpoint")) {
        TomlReader r(*t, path + " [checkpoint]");
        r.get("steps", c.checkpoint_steps);
        r.get("log", c.checkpoint_log);
        r.get("every", c.checkpoint_every);
        r.get("keep_state", c.checkpoint_keep_state);
        r.get("keep_state_steps", c.checkpoint_keep_state_steps);
        EM_TRY(r.finish());
    }
    // Relative shard paths are relative to the config file.
    auto base = std::filesystem::path(path).parent_path();
    for (auto *list : {&c.train_shards, &c.val_shards})
        for (auto &p : *list)
            if (!p.empty() && p[0] != '/') p = (base / p).lexically_normal().string();
    for (auto *p : {&c.out_dir, &c.branch_from})
        if (!p->empty() && (*p)[0] != '/') *p = (base / *p).lexically_normal().string();
    EM_TRY(train_config_validate(c).with_context(path));
    return c;
}

namespace {

nlohmann::json json_common(const TrainConfig &c) {
    return {{"out_dir", c.out_dir},
            {"seed", c.seed},
            {"data_seed", c.data_seed},
            {"threads", c.threads},
            {"data", {{"train", c.train_shards}, {"val", c.val_shards}}},
            {"model", model_config_to_json(c.model)},
            {"train",
             {{"batch_size", c.batch_size},
              {"seq_len", c.seq_len},
              {"grad_accum", c.grad_accum},
              {"tokens", c.tokens},
              {"lr", c.lr},
              {"min_lr_ratio", c.min_lr_ratio},
              {"warmup_fraction", c.warmup_fraction},
              {"schedule", c.schedule},
              {"decay_fraction", c.decay_fraction},
              {"beta1", c.adamw.beta1},
              {"beta2", c.adamw.beta2},
              {"eps", c.adamw.eps},
              {"weight_decay", c.adamw.weight_decay},
              {"decay_norms", c.adamw.decay_norms},
              {"decay_embeddings", c.adamw.decay_embeddings},
              {"grad_clip", c.grad_clip},
              {"log_every", c.log_every},
              {"val_every", c.val_every},
              {"val_windows", c.val_windows}}},
            {"checkpoint",
             {{"steps", c.checkpoint_steps},
              {"log", c.checkpoint_log},
              {"every", c.checkpoint_every},
              {"keep_state", c.checkpoint_keep_state}}}};
}

}  // namespace

nlohmann::json train_config_to_json(const TrainConfig &c) {
    nlohmann::json j = json_common(c);
    // Keys with their defaults are left out, so configs that do not use them read as before.
    if (c.decay_shape != "linear") j["train"]["decay_shape"] = c.decay_shape;
    if (!c.branch_from.empty()) {
        j["train"]["branch_from"] = c.branch_from;
        j["train"]["branch_step"] = c.branch_step;
    }
    if (!c.checkpoint_keep_state_steps.empty())
        j["checkpoint"]["keep_state_steps"] = c.checkpoint_keep_state_steps;
    return j;
}

std::string train_config_to_toml(const TrainConfig &c) {
    // The JSON form's keys are the TOML keys, and its numbers, strings and arrays are valid TOML
    // values; doubles print with the digits that read back to the same double.
    const nlohmann::json j = train_config_to_json(c);
    std::string out = "# A run config written by emergence (docs/config.md).\n";
    for (const auto &[k, v] : j.items())
        if (!v.is_object()) out += k + " = " + v.dump() + "\n";
    for (const auto &[k, v] : j.items()) {
        if (!v.is_object()) continue;
        out += "\n[" + k + "]\n";
        for (const auto &[k2, v2] : v.items()) out += k2 + " = " + v2.dump() + "\n";
    }
    return out;
}

Result<std::vector<std::string>> shard_paths_expand(const std::vector<std::string> &entries,
                                                    const std::string &prefix) {
    std::vector<std::string> out;
    for (const auto &e : entries) {
        std::error_code ec;
        if (std::filesystem::is_directory(e, ec)) {
            std::vector<std::string> found;
            for (const auto &d : std::filesystem::directory_iterator(e, ec)) {
                std::string name = d.path().filename().string();
                if (name.rfind(prefix, 0) == 0 && name.size() > 4 &&
                    name.substr(name.size() - 4) == ".bin")
                    found.push_back(d.path().string());
            }
            if (found.empty())
                return Status::error(e + ": no " + prefix +
                                     "*.bin shards in this directory (run `emergence tokenize`)");
            std::sort(found.begin(), found.end());
            out.insert(out.end(), found.begin(), found.end());
        } else if (std::filesystem::exists(e, ec)) {
            out.push_back(e);
        } else {
            return Status::error(
                e + ": shard not found (check data.train / data.val, or run `emergence tokenize`)");
        }
    }
    return out;
}

}  // namespace em
