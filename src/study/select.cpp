// Selecting and dealing out a study's runs; see select.h.
#include "study/select.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace em {
namespace {

std::string run_names(const std::vector<StudyRun> &runs) {
    std::string s;
    for (const auto &r : runs) s += (s.empty() ? "" : ", ") + r.name;
    return s;
}

}  // namespace

double study_run_work(const StudyRun &r, double eval_tokens) {
    const TrainConfig &t = r.train;
    const double tokens = static_cast<double>(t.steps_to_train() * t.tokens_per_step());
    return model_flops_per_token(t.model, t.seq_len, true) * tokens +
           static_cast<double>(t.checkpoint_plan().size()) * 2 *
               model_flops_per_token(t.model, t.seq_len, false) * eval_tokens;
}

Result<StudySelection> study_selection_parse(const std::string &runs, const std::string &shard) {
    StudySelection sel;
    for (size_t at = 0; at <= runs.size() && !runs.empty();) {
        size_t comma = std::min(runs.find(',', at), runs.size());
        std::string pat = runs.substr(at, comma - at);
        if (pat.empty())
            return Status::error("--runs \"" + runs +
                                 "\": an empty pattern; give comma-separated run names or "
                                 "globs, e.g. --runs 'n50k-*,n100k-2M'");
        sel.patterns.push_back(pat);
        at = comma + 1;
    }
    if (!shard.empty()) {
        long long k = 0, n = 0;
        char tail = 0;
        if (std::sscanf(shard.c_str(), "%lld/%lld%c", &k, &n, &tail) != 2 || k < 1 || n < 1 ||
            k > n)
            return Status::error("--shard \"" + shard +
                                 "\": expected K/N with 1 <= K <= N, e.g. --shard 2/4 for the "
                                 "second of four machines");
        sel.index = k;
        sel.count = n;
    }
    return sel;
}

Result<std::vector<StudyRun>> study_select(const std::vector<StudyRun> &runs,
                                           const StudySelection &sel, double eval_tokens) {
    std::vector<StudyRun> picked;
    std::set<std::string> trunks;  // of the branches picked: picked too, so they train first
    for (const auto &r : runs)
        for (const auto &pat : sel.patterns)
            if (fnmatch(pat.c_str(), r.name.c_str(), 0) == 0 && !r.trunk.empty())
                trunks.insert(r.trunk);
    for (const auto &r : runs) {
        bool match = sel.patterns.empty() || trunks.count(r.name);
        for (const auto &pat : sel.patterns) match |= fnmatch(pat.c_str(), r.name.c_str(), 0) == 0;
        if (match) picked.push_back(r);
    }
    for (const auto &pat : sel.patterns) {
        bool any = false;
        for (const auto &r : runs) any |= fnmatch(pat.c_str(), r.name.c_str(), 0) == 0;
        if (!any)
            return Status::error("--runs: \"" + pat + "\" matches no run; the runs are " +
                                 run_names(runs));
    }
    if (sel.count <= 1) return picked;
    // The units dealt out: a run, or a trunk with its branches (which need its checkpoints).
    std::vector<std::string> unit_of(picked.size());
    std::vector<std::string> units;
    std::map<std::string, double> work;
    for (size_t i = 0; i < picked.size(); ++i) {
        unit_of[i] = picked[i].trunk.empty() ? picked[i].name : picked[i].trunk;
        if (!work.count(unit_of[i])) units.push_back(unit_of[i]);
        work[unit_of[i]] += study_run_work(picked[i], eval_tokens);
    }
    if (sel.count > static_cast<int64_t>(units.size()))
        return Status::error(
            "--shard " + std::to_string(sel.index) + "/" + std::to_string(sel.count) + ": only " +
            std::to_string(units.size()) +
            (units.size() < picked.size() ? " trunks with their branches" : " runs") +
            " to deal; use at most " + std::to_string(units.size()) + " shards");
    // Longest work first, each to the least loaded shard (ties: the lower shard, the plan order).
    std::vector<std::string> order = units;
    std::stable_sort(order.begin(), order.end(),
                     [&](const std::string &a, const std::string &b) { return work[a] > work[b]; });
    std::vector<double> load(static_cast<size_t>(sel.count), 0.0);
    std::set<std::string> mine;
    for (const auto &u : order) {
        size_t s = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        load[s] += work[u];
        if (static_cast<int64_t>(s) == sel.index - 1) mine.insert(u);
    }
    std::vector<StudyRun> out;
    for (size_t i = 0; i < picked.size(); ++i)
        if (mine.count(unit_of[i])) out.push_back(picked[i]);
    return out;
}

}  // namespace em
