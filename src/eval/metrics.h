// Downstream metrics as lm-evaluation-harness defines them (acc, acc_norm, exact_match,
// brier_score), the paper's continuous ones (correct_choice_prob, the gold continuation's NLL and
// bits per byte), token edit distance for generation, and their aggregation with standard errors.
// docs/tasks.md gives every formula.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace em {

// Index of the largest value; ties go to the first maximum (numpy.argmax).
int64_t argmax_first(const std::vector<double> &v);

// softmax(v) computed stably (max subtracted, sums in double).
std::vector<double> softmax(const std::vector<double> &v);

// Per-document multiple-choice metrics from the choices' summed log-likelihoods.
struct ChoiceMetrics {
    double acc = 0;                  // [argmax ll == gold]
    double acc_norm = 0;             // [argmax ll / chars(choice) == gold]
    double brier_score = 0;          // sum_k (softmax(ll)_k - [k == gold])^2
    double correct_choice_prob = 0;  // softmax(ll)_gold
};
// `choices` are the choice texts without the target delimiter; their lengths are counted in
// Unicode code points (valid UTF-8 assumed).
ChoiceMetrics choice_metrics(const std::vector<double> &ll, const std::vector<std::string> &choices,
                             int64_t gold);

// Levenshtein distance between two token sequences (insert, delete, substitute cost 1).
int64_t token_edit_distance(const std::vector<int> &a, const std::vector<int> &b);

// Words as lm-eval counts them for word_perplexity: the pieces of re.split(r"\s+", s), so
// leading and trailing whitespace each add an (empty) piece and an empty text counts 1.
// Whitespace is Python's: str.isspace() over the text's code points (UTF-8; a byte that does
// not start a valid sequence is not whitespace).
int64_t word_count(const std::string &s);

// Bytes of trailing whitespace (as str.rstrip() removes it), e.g. the context's end that moves
// into the continuation.
size_t trailing_whitespace(const std::string &s);

// An aggregated metric. std_err is NaN when it is undefined (fewer than two documents).
struct MetricValue {
    double value = 0;
    double std_err = 0;
};

// Mean of per-document values; stderr = sample standard deviation (n - 1) / sqrt(n).
MetricValue aggregate_mean(const std::vector<double> &x);
// The ratio sum(num) / sum(den) (a token- or byte-weighted mean) with its delta-method stderr
// sqrt(n/(n-1) * sum (num_i - R den_i)^2) / sum(den).
MetricValue aggregate_ratio(const std::vector<double> &num, const std::vector<double> &den);

}  // namespace em
