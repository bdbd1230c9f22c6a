// Chinchilla approach 3 fit with NLopt's L-BFGS; see scaling_law.h and docs/analysis.md.
#include "analysis/scaling_law.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlopt.hpp>

#include "analysis/stats.h"
#include "common/parallel.h"
#include "common/rng.h"

namespace em {
namespace {

struct Data {
    std::vector<double> logN, logD, logL, w;  // w: bootstrap multiplicity
    double delta = 1e-3;
};

// theta = (a, b, e, alpha, beta). Returns the summed Huber loss; fills grad when non-null.
double objective(const double *th, double *grad, const Data &d) {
    double a = th[0], b = th[1], e = th[2], al = th[3], be = th[4];
    double f = 0, g[5] = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < d.logN.size(); ++i) {
        if (d.w[i] == 0) continue;
        double u1 = a - al * d.logN[i], u2 = b - be * d.logD[i], u3 = e;
        double m = std::max(u1, std::max(u2, u3));
        double e1 = std::exp(u1 - m), e2 = std::exp(u2 - m), e3 = std::exp(u3 - m);
        double s = e1 + e2 + e3;
        double r = m + std::log(s) - d.logL[i];
        double ar = std::fabs(r);
        double h = ar <= d.delta ? 0.5 * r * r : d.delta * (ar - 0.5 * d.delta);
        double dh = ar <= d.delta ? r : (r > 0 ? d.delta : -d.delta);
        f += d.w[i] * h;
        if (grad) {
            double c = d.w[i] * dh / s;
            g[0] += c * e1;
            g[3] -= c * e1 * d.logN[i];
            g[1] += c * e2;
            g[4] -= c * e2 * d.logD[i];
            g[2] += c * e3;
        }
    }
    if (grad)
        for (int k = 0; k < 5; ++k) grad[k] = g[k];
    return f;
}

double nlopt_objective(unsigned n, const double *x, double *grad, void *data) {
    (void)n;
    return objective(x, grad, *static_cast<const Data *>(data));
}

// L-BFGS from one start; returns the objective at the end (inf on failure).
double lbfgs_run(const Data &d, std::vector<double> &th) {
    nlopt::opt opt(nlopt::LD_LBFGS, 5);
    opt.set_min_objective(nlopt_objective, const_cast<Data *>(&d));
    opt.set_ftol_rel(1e-12);
    opt.set_xtol_rel(1e-10);
    opt.set_maxeval(2000);
    double f = std::numeric_limits<double>::infinity();
    try {
        opt.optimize(th, f);
    } catch (const std::exception &) {
        // L-BFGS gives up on the kinks of the Huber loss ("roundoff limited"); its last point
        // is still a valid candidate, so score it as it stands.
        f = objective(th.data(), nullptr, d);
    }
    return std::isfinite(f) ? f : std::numeric_limits<double>::infinity();
}

// Hoffmann et al.'s grid of initialisations.
std::vector<std::vector<double>> start_grid() {
    std::vector<std::vector<double>> g;
    for (double a = 0; a <= 25; a += 5)
        for (double b = 0; b <= 25; b += 5)
            for (double e = -1; e <= 1.0001; e += 0.5)
                for (double al = 0; al <= 2.0001; al += 0.5)
                    for (double be = 0; be <= 2.0001; be += 0.5) g.push_back({a, b, e, al, be});
    return g;
}

// The `k` grid points with the lowest objective on `d`.
std::vector<std::vector<double>> best_grid_starts(const Data &d, int64_t k) {
    static const std::vector<std::vector<double>> grid = start_grid();
    std::vector<std::pair<double, size_t>> scored(grid.size());
    for (size_t i = 0; i < grid.size(); ++i) scored[i] = {objective(grid[i].data(), nullptr, d), i};
    size_t keep = std::min(grid.size(), static_cast<size_t>(std::max<int64_t>(k, 1)));
    std::partial_sort(scored.begin(), scored.begin() + static_cast<long>(keep), scored.end());
    std::vector<std::vector<double>> out;
    for (size_t i = 0; i < keep; ++i) out.push_back(grid[scored[i].second]);
    return out;
}

// Best of L-BFGS runs from the given starts.
std::vector<double> fit_from_starts(const Data &d, const std::vector<std::vector<double>> &starts,
                                    double &best_f) {
    best_f = std::numeric_limits<double>::infinity();
    std::vector<double> best;
    for (auto th : starts) {
        double f = lbfgs_run(d, th);
        if (f < best_f) best_f = f, best = th;
    }
    return best;
}

void params_from_theta(const std::vector<double> &th, ScalingLaw &s) {
    s.A = std::exp(th[0]);
    s.B = std::exp(th[1]);
    s.E = std::exp(th[2]);
    s.alpha = th[3];
    s.beta = th[4];
}

}  // namespace

double ScalingLaw::predict(double N, double D) const {
    return E + A / std::pow(N, alpha) + B / std::pow(D, beta);
}

double ScalingLaw::params_for_loss(double loss, double D) const {
    double room = loss - E - B / std::pow(D, beta);
    if (!(room > 0) || !(alpha > 0)) return std::numeric_limits<double>::infinity();
    return std::pow(A / room, 1.0 / alpha);
}

double ScalingLaw::params_for_loss_at_ratio(double loss, double ratio) const {
    if (!(loss > E)) return std::numeric_limits<double>::infinity();
    // predict(N, ratio N) falls monotonically in N: bisect on log N.
    double lo = 0, hi = 80;  // log N in [1, e^80]
    if (predict(std::exp(hi), ratio * std::exp(hi)) > loss)
        return std::numeric_limits<double>::infinity();
    if (predict(std::exp(lo), ratio * std::exp(lo)) <= loss) return 1.0;
    for (int i = 0; i < 200; ++i) {
        double mid = 0.5 * (lo + hi);
        if (predict(std::exp(mid), ratio * std::exp(mid)) <= loss)
            hi = mid;
        else
            lo = mid;
    }
    return std::exp(hi);
}

ScalingLaw scaling_law_fit(const std::vector<double> &N, const std::vector<double> &D,
                           const std::vector<double> &L, const ScalingLawOptions &opt) {
    ScalingLaw s;
    s.n = static_cast<int64_t>(N.size());
    Data d;
    d.delta = opt.huber_delta;
    for (size_t i = 0; i < N.size(); ++i) {
        if (!(N[i] > 0 && D[i] > 0 && L[i] > 0)) continue;
        d.logN.push_back(std::log(N[i]));
        d.logD.push_back(std::log(D[i]));
        d.logL.push_back(std::log(L[i]));
        d.w.push_back(1.0);
    }
    size_t n = d.logN.size();
    auto distinct = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return static_cast<int64_t>(std::unique(v.begin(), v.end()) - v.begin());
    };
    if (n < 5 || distinct(d.logN) < 2 || distinct(d.logD) < 2) {
        s.note =
            "needs at least 5 points with at least 2 distinct sizes and 2 distinct token counts";
        return s;
    }
    double f;
    std::vector<std::vector<double>> starts = best_grid_starts(d, opt.starts);
    std::vector<double> th = fit_from_starts(d, starts, f);
    if (th.empty()) {
        s.note = "L-BFGS failed from every start";
        return s;
    }
    s.ok = true;
    s.objective = f;
    params_from_theta(th, s);
    if (distinct(d.logD) < 3 || distinct(d.logN) < 3)
        s.note = "few distinct sizes or token counts: the exponents are weakly determined";

    // Bootstrap: resample points; each refit starts from the full fit and the best grid points
    // of the full data (scoring the whole grid again per resample would dominate the cost).
    std::vector<std::vector<double>> boot_starts = {th};
    for (size_t i = 0; i < starts.size() && i < 3; ++i) boot_starts.push_back(starts[i]);
    std::vector<std::vector<double>> boot(static_cast<size_t>(std::max(opt.bootstrap, 0)));
    auto run = [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            Data db = d;
            Rng rng(opt.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(b) + 11);
            std::fill(db.w.begin(), db.w.end(), 0.0);
            for (size_t j = 0; j < n; ++j) db.w[rng.below(n)] += 1;
            double fb;
            boot[static_cast<size_t>(b)] = fit_from_starts(db, boot_starts, fb);
        }
    };
    if (opt.parallel)
        parallel_for(static_cast<int64_t>(boot.size()), run);
    else
        run(0, static_cast<int64_t>(boot.size()));
    std::vector<double> vE, vA, vB, val, vbe;
    for (const auto &t : boot) {
        if (t.empty()) continue;
        vA.push_back(std::exp(t[0])), vB.push_back(std::exp(t[1])), vE.push_back(std::exp(t[2]));
        val.push_back(t[3]), vbe.push_back(t[4]);
    }
    s.bootstrap_done = static_cast<int64_t>(vE.size());
    auto ci = [](const std::vector<double> &v) {
        return v.empty() ? Interval{std::nan(""), std::nan("")}
                         : Interval{quantile(v, 0.025), quantile(v, 0.975)};
    };
    s.E_ci = ci(vE), s.A_ci = ci(vA), s.B_ci = ci(vB), s.alpha_ci = ci(val), s.beta_ci = ci(vbe);
    return s;
}

}  // namespace em
