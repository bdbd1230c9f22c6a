// Checkpoint files; see checkpoint.h.
#include "train/checkpoint.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/fileio.h"
#include "model/safetensors.h"

namespace em {
namespace {

std::string step_name(const char *prefix, int64_t step) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s_%08" PRId64 ".safetensors", prefix, step);
    return buf;
}

Status tensors_into(const StFile &f, const std::string &path, const std::string &prefix,
                    const std::vector<ParamTensor> &layout, std::vector<float> &dst) {
    dst.resize(layout.empty() ? 0 : layout.back().offset + layout.back().numel);
    for (const auto &t : layout) {
        auto it = f.tensors.find(prefix + t.name);
        if (it == f.tensors.end())
            return Status::error(path + ": tensor " + prefix + t.name +
                                 " is missing (not a checkpoint of this model)");
        if (it->second.shape != t.shape)
            return Status::error(path + ": tensor " + prefix + t.name +
                                 " has the wrong shape for this model");
        std::copy(it->second.data.begin(), it->second.data.end(),
                  dst.begin() + static_cast<int64_t>(t.offset));
    }
    return Status::ok();
}

Result<int64_t> meta_int(const StFile &f, const std::string &path, const char *key) {
    auto it = f.metadata.find(key);
    if (it == f.metadata.end())
        return Status::error(path + ": metadata key '" + key + "' is missing");
    try {
        return static_cast<int64_t>(std::stoll(it->second));
    } catch (...) {
        return Status::error(path + ": metadata '" + key + "' is not an integer");
    }
}

}  // namespace

std::string checkpoint_weights_path(const std::string &run_dir, int64_t step) {
    return run_dir + "/ckpt/" + step_name("step", step);
}
std::string checkpoint_state_path(const std::string &run_dir, int64_t step) {
    return run_dir + "/ckpt/" + step_name("state", step);
}

Status model_save(const std::string &path, const Model &model,
                  const std::map<std::string, std::string> &extra_metadata) {
    std::vector<StTensor> ts;
    for (const auto &t : model.layout())
        ts.push_back({t.name, t.shape, model.params().data() + t.offset});
    auto meta = extra_metadata;
    meta["format"] = "pt";
    meta["emergence.model_config"] = model_config_to_json(model.config()).dump();
    return safetensors_write(path, ts, meta);
}

Status checkpoint_save(const std::string &run_dir, const Model &model, const TrainState &state,
                       const std::string &config_json, double val_loss) {
    EM_TRY(dir_create(run_dir + "/ckpt"));
    std::vector<StTensor> ts;
    for (const auto &t : model.layout()) {
        ts.push_back({"m." + t.name, t.shape, state.adam.m.data() + t.offset});
        ts.push_back({"v." + t.name, t.shape, state.adam.v.data() + t.offset});
    }
    std::map<std::string, std::string> meta = {
        {"emergence.step", std::to_string(state.step)},
        {"emergence.tokens_seen", std::to_string(state.tokens_seen)},
        {"emergence.cursor", std::to_string(state.cursor)},
        {"emergence.adam_t", std::to_string(state.adam.t)},
        {"emergence.model_config", model_config_to_json(model.config()).dump()}};
    EM_TRY(safetensors_write(checkpoint_state_path(run_dir, state.step), ts, meta));
    char vl[32];
    std::snprintf(vl, sizeof vl, "%.9g", val_loss);
    return model_save(checkpoint_weights_path(run_dir, state.step), model,
                      {{"emergence.step", std::to_string(state.step)},
                       {"emergence.tokens_seen", std::to_string(state.tokens_seen)},
                       {"emergence.val_loss", vl},
                       {"emergence.train_config", config_json}});
}

std::vector<int64_t> checkpoint_list(const std::string &run_dir) {
    std::vector<int64_t> steps;
    std::error_code ec;
    for (const auto &d : std::filesystem::directory_iterator(run_dir + "/ckpt", ec)) {
        std::string n = d.path().filename().string();
        long long s;
        char tail[32];
        if (std::sscanf(n.c_str(), "step_%lld.%31s", &s, tail) == 2 &&
            std::string(tail) == "safetensors")
            steps.push_back(s);
    }
    std::sort(steps.begin(), steps.end());
    return steps;
}

Status checkpoint_prune_state(const std::string &run_dir, int64_t keep,
                              const std::vector<int64_t> &keep_steps) {
    if (keep <= 0) return Status::ok();
    const std::vector<int64_t> steps = checkpoint_list(run_dir);
    if (static_cast<int64_t>(steps.size()) <= keep) return Status::ok();
    const int64_t oldest_kept = steps[steps.size() - static_cast<size_t>(keep)];
    std::error_code ec;
    std::vector<std::filesystem::path> old;
    for (const auto &d : std::filesystem::directory_iterator(run_dir + "/ckpt", ec)) {
        long long s;
        char tail[32];
        const std::string n = d.path().filename().string();
        if (std::sscanf(n.c_str(), "state_%lld.%31s", &s, tail) == 2 &&
            std::string(tail) == "safetensors" && s < oldest_kept &&
            std::find(keep_steps.begin(), keep_steps.end(), s) == keep_steps.end())
            old.push_back(d.path());
    }
    for (const auto &path : old)
        if (!std::filesystem::remove(path, ec) && ec)
            return Status::error(
                path.string() + ": cannot delete (" + ec.message() +
                "); fix the folder's permissions or set checkpoint.keep_state = 0");
    return Status::ok();
}

Status checkpoint_load(const std::string &run_dir, int64_t step, Model &model, TrainState &state) {
    const std::string wp = checkpoint_weights_path(run_dir, step),
                      sp = checkpoint_state_path(run_dir, step);
    EM_ASSIGN_OR_RETURN(StFile w, safetensors_read(wp));
    auto cfg = w.metadata.find("emergence.model_config");
    if (cfg == w.metadata.end() || cfg->second != model_config_to_json(model.config()).dump())
        return Status::error(wp +
                             ": its model config differs from the run's config (resume with the "
                             "config that started the run)");
    EM_TRY(tensors_into(w, wp, "", model.layout(), model.params()));
    EM_ASSIGN_OR_RETURN(StFile s, safetensors_read(sp));
    EM_TRY(tensors_into(s, sp, "m.", model.layout(), state.adam.m));
    EM_TRY(tensors_into(s, sp, "v.", model.layout(), state.adam.v));
    EM_ASSIGN_OR_RETURN(int64_t st, meta_int(s, sp, "emergence.step"));
    EM_ASSIGN_OR_RETURN(int64_t tok, meta_int(s, sp, "emergence.tokens_seen"));
    EM_ASSIGN_OR_RETURN(int64_t cur, meta_int(s, sp, "emergence.cursor"));
    EM_ASSIGN_OR_RETURN(int64_t t, meta_int(s, sp, "emergence.adam_t"));
    if (st != step)
        return Status::error(sp + ": holds step " + std::to_string(st) + ", expected " +
                             std::to_string(step));
    state.step = st;
    state.tokens_seen = tok;
    state.cursor = static_cast<uint64_t>(cur);
    state.adam.t = t;
    return Status::ok();
}

Result<std::unique_ptr<Model>> model_load(const std::string &weights_path) {
    EM_ASSIGN_OR_RETURN(StFile w, safetensors_read(weights_path));
    auto cfg = w.metadata.find("emergence.model_config");
    if (cfg == w.metadata.end())
        return Status::error(
            weights_path +
            ": no emergence.model_config in the metadata (not an emergence checkpoint)");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(cfg->second);
    } catch (const std::exception &e) {
        return Status::error(weights_path +
                             ": model config in the metadata is not JSON: " + e.what());
    }
    EM_ASSIGN_OR_RETURN(ModelConfig mc, model_config_from_json(j));
    auto model = std::make_unique<Model>(mc);
    EM_TRY(tensors_into(w, weights_path, "", model->layout(), model->params()));
    return model;
}

}  // namespace em
