// What the analysis needs to know about a metric from its name: which direction is better,
// whether it is a proportion of examples (discontinuous: acc, exact_match) or a continuous score
// (probability of the gold answer, Brier score, NLL, bits per byte), and the random-guess value of
// well-known multiple-choice benchmarks for imports that do not carry one.
#pragma once

#include <limits>
#include <optional>
#include <string>

namespace em {

struct MetricInfo {
    bool higher_is_better = true;
    bool proportion = false;  // a share of examples scored 0/1: binomial when n is known
    bool has_chance_value =
        true;  // false for NLL, bits per byte, perplexity: no random-guess value
    // The best value a model can score (1 for accuracy and gold probability, 0 for the Brier
    // score and error rates); NaN for unbounded scores (NLL, bits per byte, distances).
    double perfect = std::numeric_limits<double>::quiet_NaN();
};

MetricInfo metric_info(const std::string &metric);

// Number of answer choices of a known benchmark (MMLU, ARC, HellaSwag, PIQA, ...), 0 for tasks
// answered by generation (LAMBADA, GSM8K, TriviaQA), nullopt when the task is unknown.
std::optional<int> task_choice_count(const std::string &task);

// The random-guess value of a metric on a task with K choices (1/K for accuracy and gold
// probability, 1 - 1/K for the Brier score, log(1/K) for the log probability); nullopt when it
// has none or K is unknown.
std::optional<double> metric_chance_value(const std::string &metric, std::optional<int> choices);

}  // namespace em
