// Builds the built-in suite: indexes the training text, runs every generator, writes the tasks,
// skills.jsonl and the manifest (last, so a suite without manifest.json is incomplete).
#include "tasks/suite.h"

#include <cstdio>

#include "common/fileio.h"
#include "tasks/suite_internal.h"

namespace em {

Result<nlohmann::json> suite_build(const std::string &out_dir, const SuiteOptions &opt) {
    using namespace suite;
    if (opt.items < 1) return Status::error("--items must be at least 1");
    EM_TRY(dir_create(out_dir));
    EM_ASSIGN_OR_RETURN(TrainingIndex ix, TrainingIndex::build(opt.paths, opt.verbose));
    auto say = [&](const std::string &what) {
        if (opt.verbose) std::fprintf(stderr, "tasks: %s\n", what.c_str());
    };
    std::vector<Built> tasks;
    auto add = [&](std::vector<Built> v) {
        for (auto &b : v) {
            say(b.name + ": " + std::to_string(b.docs.size()) + " items");
            tasks.push_back(std::move(b));
        }
    };
    EM_ASSIGN_OR_RETURN(auto wn, wordnet_tasks(ix, opt.paths, opt.seed, opt.items));
    add(std::move(wn));
    EM_ASSIGN_OR_RETURN(auto brown, brown_tasks(ix, opt.paths, opt.seed, opt.items));
    add(std::move(brown));
    EM_ASSIGN_OR_RETURN(Built kjv, kjv_task(ix, opt.paths, opt.seed, opt.items));
    EM_ASSIGN_OR_RETURN(Built zh, songci_task(ix, opt.paths, opt.seed, opt.items));
    std::vector<Built> texts;
    texts.push_back(std::move(kjv));
    texts.push_back(std::move(zh));
    add(std::move(texts));
    nlohmann::json skills;
    const std::string skills_path = out_dir + "/skills.jsonl";
    EM_ASSIGN_OR_RETURN(auto synth, synthetic_tasks(ix, opt.seed, opt.items, opt.skills_bytes,
                                                    skills_path, skills));
    add(std::move(synth));

    nlohmann::json list = nlohmann::json::array();
    for (const auto &b : tasks) {
        if (b.docs.empty())
            return Status::error(b.name +
                                 ": no items could be generated (check that its source "
                                 "package is installed completely)");
        std::string lines;
        for (const auto &d : b.docs) lines += d.dump() + "\n";
        EM_TRY(file_write_atomic(out_dir + "/" + b.name + ".jsonl", lines));
        EM_TRY(file_write_atomic(out_dir + "/" + b.name + ".toml", b.spec));
        nlohmann::json e = {{"task", b.name}, {"items", b.docs.size()}};
        e.update(b.stats);
        list.push_back(e);
    }
    const double natural = static_cast<double>(ix.natural_bytes());
    const double synthetic = skills["bytes"].get<double>();
    nlohmann::json manifest = {
        {"version", 1},
        {"seed", opt.seed},
        {"items_per_task", opt.items},
        {"tasks", list},
        {"skills", skills},
        {"skills_path", "skills.jsonl"},
        {"natural_training_bytes", ix.natural_bytes()},
        {"synthetic_share", synthetic / (synthetic + natural)},
    };
    EM_TRY(file_write_atomic(out_dir + "/manifest.json", manifest.dump(2) + "\n"));
    return manifest;
}

const std::vector<std::string> &suite_task_names() {
    static const std::vector<std::string> names = {
        "wn_hypernym",      "wn_def2word",    "brown_lastword", "brown_sva",
        "kjv_continuation", "zh_ci_nextline", "facts_cloze",    "facts_letter",
        "facts_compose",    "passage_letter", "arith_add2",     "arith_add3"};
    return names;
}

}  // namespace em
