// Metric formulas; see metrics.h.
#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

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

namespace {

// Python's str.isspace() for one code point.
bool py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

// The code point starting at s[i] and its length in bytes; an invalid or cut sequence reads as
// one byte that is not whitespace.
std::pair<uint32_t, size_t> utf8_at(const std::string &s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return {0xFFFFFFFFu, 1};
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
        if ((b(i + k) >> 6) != 2) return {0xFFFFFFFFu, 1};
        cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    return {cp, len};
}

}  // namespace

int64_t word_count(const std::string &s) {
    int64_t pieces = 1;
    bool in_space = false;
    for (size_t i = 0; i < s.size();) {
        const auto [cp, len] = utf8_at(s, i);
        const bool space = py_space(cp);
        if (space && !in_space) ++pieces;
        in_space = space;
        i += len;
    }
    return pieces;
}

size_t trailing_whitespace(const std::string &s) {
    size_t end = s.size();
    while (end > 0) {
        size_t start = end - 1;  // back to the first byte of the last code point
        while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) >> 6) == 2)
            --start;
        const auto [cp, len] = utf8_at(s, start);
        if (start + len != end || !py_space(cp)) break;
        end = start;
    }
    return s.size() - end;
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
