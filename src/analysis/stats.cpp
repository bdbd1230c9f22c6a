// Correlations, isotonic regression and tail probabilities; see stats.h.
#include "analysis/stats.h"

#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <numeric>

namespace em {

std::vector<double> ranks_average(const std::vector<double> &x) {
    size_t n = x.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
    std::vector<double> r(n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && x[order[j + 1]] == x[order[i]]) ++j;
        double avg = 0.5 * static_cast<double>(i + j) + 1.0;
        for (size_t k = i; k <= j; ++k) r[order[k]] = avg;
        i = j + 1;
    }
    return r;
}

double pearson(const std::vector<double> &x, const std::vector<double> &y) {
    size_t n = x.size();
    if (n < 2) return std::nan("");
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; ++i) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
    }
    if (sxx <= 0 || syy <= 0) return std::nan("");
    return sxy / std::sqrt(sxx * syy);
}

double spearman(const std::vector<double> &x, const std::vector<double> &y) {
    return pearson(ranks_average(x), ranks_average(y));
}

double correlation_p_value(double r, int64_t n) {
    if (std::isnan(r) || n < 3) return std::nan("");
    if (std::fabs(r) >= 1.0) return 0.0;
    double df = static_cast<double>(n - 2);
    double t = std::fabs(r) * std::sqrt(df / (1.0 - r * r));
    return 2.0 * student_t_sf(t, df);
}

IsotonicFit isotonic_fit(const std::vector<double> &x, const std::vector<double> &y,
                         const std::vector<double> &w, bool increasing) {
    size_t n = x.size();
    IsotonicFit out;
    out.fitted.assign(n, 0.0);
    if (n == 0) return out;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
    // Blocks of equal x first (they must share a value), then pool adjacent violators.
    struct Block {
        double sum_wy, sum_w;
        size_t first, last;
    };  // positions in `order`
    std::vector<Block> st;
    double sign = increasing ? 1.0 : -1.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        Block b{0, 0, i, i};
        while (j < n && x[order[j]] == x[order[i]]) {
            double wi = w.empty() ? 1.0 : w[order[j]];
            b.sum_wy += wi * sign * y[order[j]];
            b.sum_w += wi;
            ++j;
        }
        b.last = j - 1;
        i = j;
        st.push_back(b);
        while (st.size() >= 2) {
            Block &hi = st[st.size() - 1], &lo = st[st.size() - 2];
            if (lo.sum_wy / lo.sum_w <= hi.sum_wy / hi.sum_w) break;
            lo.sum_wy += hi.sum_wy;
            lo.sum_w += hi.sum_w;
            lo.last = hi.last;
            st.pop_back();
        }
    }
    for (const Block &b : st) {
        double v = sign * b.sum_wy / b.sum_w;
        for (size_t k = b.first; k <= b.last; ++k) {
            out.fitted[order[k]] = v;
            if (out.knot_x.empty() || out.knot_x.back() != x[order[k]]) {
                out.knot_x.push_back(x[order[k]]);
                out.knot_y.push_back(v);
            }
        }
    }
    return out;
}

double isotonic_eval(const IsotonicFit &fit, double x) {
    const auto &kx = fit.knot_x;
    const auto &ky = fit.knot_y;
    if (kx.empty()) return std::nan("");
    if (x <= kx.front()) return ky.front();
    if (x >= kx.back()) return ky.back();
    size_t hi = static_cast<size_t>(std::upper_bound(kx.begin(), kx.end(), x) - kx.begin());
    size_t lo = hi - 1;
    double t = (x - kx[lo]) / (kx[hi] - kx[lo]);
    return ky[lo] + t * (ky[hi] - ky[lo]);
}

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    double pos = q * static_cast<double>(v.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, v.size() - 1);
    double t = pos - static_cast<double>(lo);
    return v[lo] + t * (v[hi] - v[lo]);
}

double chi2_sf(double x, double df) {
    if (!(x > 0)) return 1.0;
    if (std::isinf(x)) return 0.0;
    return boost::math::cdf(boost::math::complement(boost::math::chi_squared(df), x));
}

double normal_sf(double z) {
    if (std::isinf(z)) return z > 0 ? 0.0 : 1.0;
    return boost::math::cdf(boost::math::complement(boost::math::normal(), z));
}

double student_t_sf(double t, double df) {
    if (std::isinf(t)) return t > 0 ? 0.0 : 1.0;
    if (std::isnan(t) || !(df > 0)) return std::nan("");
    return boost::math::cdf(boost::math::complement(boost::math::students_t(df), t));
}

double binomial_sf(int64_t k, int64_t n, double p) {
    if (k <= 0) return 1.0;
    if (k > n) return 0.0;
    // P(X >= k) = 1 - P(X <= k-1)
    return boost::math::cdf(boost::math::complement(
        boost::math::binomial(static_cast<double>(n), p), static_cast<double>(k - 1)));
}

}  // namespace em
