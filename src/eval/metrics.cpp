// Metric formulas; see metrics.h.
#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "data/text.h"

namespace em {

int64_t argmax_first(const std::vector<double> &v) {
    int64_t best = 0;
    for (size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[static_cast<size_t>(best)]) best = static_cast<int64_t>(i);
    return best;
}

std::vector<double> softmax(const std::vector<double> &v) {
    std::vector<double> p(v.size());
    if (v.empty()) return p;
    double mx = *std::max_element(v.begin(), v.end()), sum = 0;
    for (size_t i = 0; i < v.size(); ++i) sum += (p[i] = std::exp(v[i] - mx));
    for (double &x : p) x /= sum;
    return p;
}

ChoiceMetrics choice_metrics(const std::vector<double> &ll, const std::vector<std::string> &choices,
                             int64_t gold) {
    ChoiceMetrics m;
    m.acc = argmax_first(ll) == gold ? 1.0 : 0.0;
    std::vector<double> norm(ll.size());
    for (size_t i = 0; i < ll.size(); ++i)
        norm[i] = ll[i] / static_cast<double>(std::max<int64_t>(1, utf8_length(choices[i])));
    m.acc_norm = argmax_first(norm) == gold ? 1.0 : 0.0;
    std::vector<double> p = softmax(ll);
    for (size_t i = 0; i < p.size(); ++i) {
        double y = static_cast<int64_t>(i) == gold ? 1.0 : 0.0;
        m.brier_score += (p[i] - y) * (p[i] - y);
    }
    m.correct_choice_prob = p[static_cast<size_t>(gold)];
    return m;
}

int64_t token_edit_distance(const std::vector<int> &a, const std::vector<int> &b) {
    std::vector<int64_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int64_t>(j);
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = static_cast<int64_t>(i);
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

int64_t word_count(const std::string &s) {
    int64_t n = 0;
    bool in_word = false;
    for (char c : s) {
        bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        if (!space && !in_word) ++n;
        in_word = !space;
    }
    return n;
}

MetricValue aggregate_mean(const std::vector<double> &x) {
    MetricValue m;
    const double n = static_cast<double>(x.size());
    if (x.empty())
        return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    double sum = 0;
    for (double v : x) sum += v;
    m.value = sum / n;
    if (x.size() < 2) {
        m.std_err = std::numeric_limits<double>::quiet_NaN();
        return m;
    }
    double ss = 0;
    for (double v : x) ss += (v - m.value) * (v - m.value);
    m.std_err = std::sqrt(ss / (n - 1)) / std::sqrt(n);
    return m;
}

MetricValue aggregate_ratio(const std::vector<double> &num, const std::vector<double> &den) {
    MetricValue m;
    const double n = static_cast<double>(num.size());
    double sn = 0, sd = 0;
    for (size_t i = 0; i < num.size(); ++i) {
        sn += num[i];
        sd += den[i];
    }
    if (num.empty() || sd == 0)
        return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    m.value = sn / sd;
    if (num.size() < 2) {
        m.std_err = std::numeric_limits<double>::quiet_NaN();
        return m;
    }
    double ss = 0;
    for (size_t i = 0; i < num.size(); ++i) {
        double r = num[i] - m.value * den[i];
        ss += r * r;
    }
    m.std_err = std::sqrt(ss * n / (n - 1)) / sd;
    return m;
}

}  // namespace em
