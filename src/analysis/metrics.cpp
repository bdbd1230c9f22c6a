// Metric directions and benchmark chance levels; see metrics.h.
#include "analysis/metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string_view>

namespace em {
namespace {

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool has(const std::string &s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

bool starts(const std::string &s, std::string_view p) {
    return s.rfind(p, 0) == 0;
}

}  // namespace

MetricInfo metric_info(const std::string &metric) {
    std::string m = lower(metric);
    MetricInfo info;
    bool lower_better = has(m, "brier") || has(m, "bpb") || has(m, "bits_per_byte") ||
                        has(m, "nll") || has(m, "ppl") || has(m, "perplexity") || has(m, "loss") ||
                        has(m, "distance") || has(m, "error");
    info.higher_is_better = !lower_better;
    info.proportion = starts(m, "acc") || m == "len_norm" || has(m, "exact_match") || m == "em" ||
                      starts(m, "pass@") || starts(m, "pass_at");
    // Log-likelihoods, perplexities and distances have no chance level: a model that knows nothing
    // of the task still knows the language (or writes too much), so the uniform-vocabulary value
    // an evaluator may give as their baseline is not where an incapable model sits.
    info.has_chance_value =
        !(has(m, "bpb") || has(m, "bits_per_byte") || has(m, "nll") || has(m, "ppl") ||
          has(m, "perplexity") || has(m, "loss") || has(m, "distance"));
    if (info.proportion || has(m, "brier") || has(m, "prob"))
        info.perfect = info.higher_is_better ? 1.0 : 0.0;
    return info;
}

std::optional<int> task_choice_count(const std::string &task) {
    std::string t = lower(task);
    struct Known {
        const char *prefix;
        int k;
    };
    // Longest names first where one is a prefix of another.
    static const Known known[] = {
        {"arc_easy", 4},       {"arc_challenge", 4}, {"arc-e", 4},      {"arc-c", 4},
        {"mmlu", 4},           {"hendryckstest", 4}, {"cmmlu", 4},      {"ceval", 4},
        {"c-eval", 4},         {"hellaswag", 4},     {"piqa", 2},       {"winogrande", 2},
        {"boolq", 2},          {"copa", 2},          {"wsc", 2},        {"csqa", 5},
        {"commonsense_qa", 5}, {"commonsenseqa", 5}, {"openbookqa", 4}, {"obqa", 4},
        {"sciq", 4},           {"socialiqa", 3},     {"social_iqa", 3}, {"siqa", 3},
        {"logiqa", 4},         {"race", 4},          {"mathqa", 5},     {"lambada", 0},
        {"gsm8k", 0},          {"triviaqa", 0},      {"naturalqs", 0},  {"nq_open", 0},
        {"squad", 0},          {"drop", 0},          {"coqa", 0}};
    for (const Known &k : known)
        if (starts(t, k.prefix)) return k.k;
    return std::nullopt;
}

std::optional<double> metric_chance_value(const std::string &metric, std::optional<int> choices) {
    MetricInfo info = metric_info(metric);
    if (!info.has_chance_value || !choices) return std::nullopt;
    int k = *choices;
    std::string m = lower(metric);
    if (k == 0) {
        // Generation tasks: a random guess never matches.
        if (info.proportion) return 0.0;
        return std::nullopt;
    }
    if (has(m, "brier")) return 1.0 - 1.0 / k;
    if (has(m, "log")) return std::log(1.0 / k);
    return 1.0 / k;
}

}  // namespace em
