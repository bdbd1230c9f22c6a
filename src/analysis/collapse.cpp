// Collapse of runs onto one curve against loss, compute, parameters or tokens; see collapse.h.
#include "analysis/collapse.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "common/rng.h"

namespace em {
namespace {

std::vector<GroupResidual> residuals_by(const std::vector<double> &key,
                                        const std::vector<double> &res, double &share) {
    std::map<double, std::pair<int64_t, double>> acc;
    double total = 0, mean = 0;
    for (double r : res) mean += r;
    mean /= static_cast<double>(res.size());
    for (size_t i = 0; i < res.size(); ++i) {
        auto &a = acc[key[i]];
        a.first += 1, a.second += res[i];
        total += (res[i] - mean) * (res[i] - mean);
    }
    std::vector<GroupResidual> out;
    double between = 0;
    for (auto &[k, a] : acc) {
        double m = a.second / static_cast<double>(a.first);
        out.push_back({k, a.first, m});
        between += static_cast<double>(a.first) * (m - mean) * (m - mean);
    }
    share = total > 0 ? between / total : 0.0;
    return out;
}

// Between-group sum of squares of residuals inside bins; labels are group ids.
double between_within_bins(const std::vector<std::vector<size_t>> &bins,
                           const std::vector<int> &label, const std::vector<double> &res,
                           int n_labels, std::vector<double> &sum, std::vector<double> &cnt) {
    double stat = 0;
    for (const auto &b : bins) {
        std::fill(sum.begin(), sum.end(), 0.0);
        std::fill(cnt.begin(), cnt.end(), 0.0);
        double tot = 0;
        for (size_t i : b) sum[label[i]] += res[i], cnt[label[i]] += 1, tot += res[i];
        double m = tot / static_cast<double>(b.size());
        for (int g = 0; g < n_labels; ++g)
            if (cnt[g] > 0) stat += cnt[g] * (sum[g] / cnt[g] - m) * (sum[g] / cnt[g] - m);
    }
    return stat;
}

// The group of each run (run_label[r]), or empty when runs are unknown or one spans groups.
std::vector<int> run_labels(const std::vector<int32_t> &run, const std::vector<int> &label) {
    if (run.size() != label.size() || run.empty()) return {};
    const int32_t n_runs = *std::max_element(run.begin(), run.end()) + 1;
    std::vector<int> of(static_cast<size_t>(n_runs), -1);
    for (size_t i = 0; i < run.size(); ++i) {
        int &l = of[static_cast<size_t>(run[i])];
        if (l >= 0 && l != label[i]) return {};
        l = label[i];
    }
    return of;
}

// Between-group sum of squares of per-run means (each run one unit).
double between_runs(const std::vector<double> &mean, const std::vector<int> &lab, int n_labels) {
    std::vector<double> sum(static_cast<size_t>(n_labels), 0.0), cnt(sum.size(), 0.0);
    double grand = 0;
    for (size_t r = 0; r < mean.size(); ++r)
        sum[static_cast<size_t>(lab[r])] += mean[r], cnt[static_cast<size_t>(lab[r])] += 1,
            grand += mean[r];
    grand /= static_cast<double>(mean.size());
    double stat = 0;
    for (size_t g = 0; g < sum.size(); ++g)
        if (cnt[g] > 0) stat += cnt[g] * (sum[g] / cnt[g] - grand) * (sum[g] / cnt[g] - grand);
    return stat;
}

PermutationTest permutation_test(const std::vector<double> &x, const std::vector<double> &key,
                                 const std::vector<double> &res, const std::vector<int32_t> &run,
                                 const CollapseOptions &opt, uint64_t salt) {
    PermutationTest t;
    size_t n = x.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
    std::map<double, int> ids;
    for (double k : key) ids.emplace(k, 0);
    int n_labels = 0;
    for (auto &kv : ids) kv.second = n_labels++;
    std::vector<int> label(n);
    for (size_t i = 0; i < n; ++i) label[i] = ids[key[i]];
    // Equal-count bins along the axis; keep those where at least two groups meet.
    int64_t n_bins =
        std::max<int64_t>(1, std::min<int64_t>(opt.bins, static_cast<int64_t>(n) / 10));
    std::vector<std::vector<size_t>> bins;
    for (int64_t b = 0; b < n_bins; ++b) {
        size_t lo = n * static_cast<size_t>(b) / static_cast<size_t>(n_bins);
        size_t hi = n * static_cast<size_t>(b + 1) / static_cast<size_t>(n_bins);
        std::vector<size_t> bin(order.begin() + static_cast<long>(lo),
                                order.begin() + static_cast<long>(hi));
        int first = bin.empty() ? -1 : label[bin[0]];
        bool mixed = false;
        for (size_t i : bin) mixed |= label[i] != first;
        if (mixed) bins.push_back(std::move(bin));
    }
    t.bins = static_cast<int64_t>(bins.size());
    if (bins.empty()) {
        t.p = std::nan("");
        t.stat = t.effect = std::nan("");
        return t;
    }
    Rng rng(opt.seed ^ (salt * 0xD1B54A32D192ED03ULL));
    // Multiply-shift draw in [0, j): its bias (j / 2^32) is far below the test's resolution.
    auto below = [&rng](size_t j) {
        return static_cast<size_t>(((rng.next_u64() >> 32) * j) >> 32);
    };
    int64_t ge = 0;

    // With several runs per group, the unit is the run: each run's mean residual over its points
    // in the kept bins, the groups' labels permuted over runs. Checkpoints of one run share its
    // seed and data order, so permuting them one by one mistakes run offsets for a group effect.
    const std::vector<int> of = run_labels(run, label);
    std::vector<double> run_mean;
    std::vector<int> run_lab;
    if (!of.empty()) {
        std::vector<double> rsum(of.size(), 0.0), rcnt(of.size(), 0.0);
        for (const auto &b : bins)
            for (size_t i : b)
                rsum[static_cast<size_t>(run[i])] += res[i], rcnt[static_cast<size_t>(run[i])] += 1;
        for (size_t r = 0; r < of.size(); ++r)
            if (rcnt[r] > 0) run_mean.push_back(rsum[r] / rcnt[r]), run_lab.push_back(of[r]);
        std::vector<int> groups = run_lab;
        std::sort(groups.begin(), groups.end());
        const size_t distinct =
            static_cast<size_t>(std::unique(groups.begin(), groups.end()) - groups.begin());
        if (distinct < 2 || run_lab.size() <= distinct) run_mean.clear();
    }
    if (!run_mean.empty()) {
        t.unit = "run";
        t.stat = between_runs(run_mean, run_lab, n_labels);
        double grand = 0, total = 0;
        for (double m : run_mean) grand += m;
        grand /= static_cast<double>(run_mean.size());
        for (double m : run_mean) total += (m - grand) * (m - grand);
        t.effect = total > 0 ? t.stat / total : 0.0;
        std::vector<int> perm = run_lab;
        for (int64_t r = 0; r < opt.permutations; ++r) {
            for (size_t j = perm.size(); j > 1; --j) std::swap(perm[j - 1], perm[below(j)]);
            if (between_runs(run_mean, perm, n_labels) >= t.stat * (1 - 1e-12)) ++ge;
        }
        t.p = static_cast<double>(1 + ge) / static_cast<double>(1 + opt.permutations);
        return t;
    }

    t.unit = "checkpoint";
    std::vector<double> sum(n_labels), cnt(n_labels);
    t.stat = between_within_bins(bins, label, res, n_labels, sum, cnt);
    double within = 0;
    for (const auto &b : bins) {
        double m = 0;
        for (size_t i : b) m += res[i];
        m /= static_cast<double>(b.size());
        for (size_t i : b) within += (res[i] - m) * (res[i] - m);
    }
    t.effect = within > 0 ? t.stat / within : 0.0;
    std::vector<int> perm = label;
    for (int64_t r = 0; r < opt.permutations; ++r) {
        for (const auto &b : bins)  // Fisher-Yates within the bin
            for (size_t j = b.size(); j > 1; --j) std::swap(perm[b[j - 1]], perm[b[below(j)]]);
        if (between_within_bins(bins, perm, res, n_labels, sum, cnt) >= t.stat * (1 - 1e-12)) ++ge;
    }
    t.p = static_cast<double>(1 + ge) / static_cast<double>(1 + opt.permutations);
    return t;
}

}  // namespace

CollapseResult collapse_analyze(const CollapseInput &in, const CollapseOptions &opt) {
    CollapseResult out;
    size_t n = in.loss.size();
    if (n == 0) return out;
    double mean = 0;
    for (double v : in.value) mean += v;
    mean /= static_cast<double>(n);
    double tss = 0;
    for (double v : in.value) tss += (v - mean) * (v - mean);
    // Axes 0, 1 and 3 get the size, budget and schedule tests; log_params does not (one size per
    // bin). log_tokens comes last so that the first three keep their places in analysis.json.
    const char *names[4] = {"loss", "log_compute", "log_params", "log_tokens"};
    for (int a = 0; a < 4; ++a) {
        CollapseAxis ax;
        ax.axis = names[a];
        ax.x.resize(n);
        for (size_t i = 0; i < n; ++i) {
            if (a == 0)
                ax.x[i] = in.loss[i];
            else if (a == 1)
                ax.x[i] = std::log(6.0 * in.params[i] * std::max(in.tokens_seen[i], 1.0));
            else if (a == 2)
                ax.x[i] = std::log(in.params[i]);
            else
                ax.x[i] = std::log(std::max(in.tokens_seen[i], 1.0));
        }
        // Better performance comes with lower loss, more compute, parameters or tokens seen.
        bool increasing = (a == 0) ? in.sign < 0 : in.sign > 0;
        ax.fit = isotonic_fit(ax.x, in.value, {}, increasing);
        std::vector<double> res(n);
        double rss = 0;
        for (size_t i = 0; i < n; ++i) {
            res[i] = in.value[i] - ax.fit.fitted[i];
            rss += res[i] * res[i];
        }
        ax.r2 = tss > 0 ? 1.0 - rss / tss : 0.0;
        ax.residual_var = rss / static_cast<double>(n);
        ax.by_size = residuals_by(in.params, res, ax.size_share);
        ax.by_budget = residuals_by(in.tokens, res, ax.budget_share);
        const bool schedules = in.schedule.size() == n &&
                               std::any_of(in.schedule.begin(), in.schedule.end(),
                                           [&](double v) { return v != in.schedule.front(); });
        ax.schedule_test.p = ax.schedule_test.stat = ax.schedule_test.effect = std::nan("");
        if (a != 2) {
            // Distinct streams per test and axis (log_tokens: 10-12, after the schedule's 7-8).
            const uint64_t base = a < 2 ? static_cast<uint64_t>(2 * a + 1) : 10;
            ax.size_test = permutation_test(ax.x, in.params, res, in.run, opt, base);
            ax.budget_test = permutation_test(ax.x, in.tokens, res, in.run, opt, base + 1);
            if (schedules)
                ax.schedule_test = permutation_test(ax.x, in.schedule, res, in.run, opt,
                                                    a < 2 ? static_cast<uint64_t>(7 + a) : 12);
        } else {
            ax.size_test.p = ax.budget_test.p = std::nan("");
            ax.size_test.stat = ax.size_test.effect = ax.budget_test.stat = ax.budget_test.effect =
                std::nan("");
        }
        out.axes.push_back(std::move(ax));
    }
    size_t best = 0;
    for (size_t a = 1; a < out.axes.size(); ++a)
        if (out.axes[a].r2 > out.axes[best].r2) best = a;
    out.best_axis = out.axes[best].axis;
    return out;
}

}  // namespace em
