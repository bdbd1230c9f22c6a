// Maximum-likelihood fits of the rise model; see curve.h and docs/analysis.md.
#include "analysis/curve.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace em {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kExpLo = 0.25, kExpHi = 2.0;
constexpr double kProbEps = 1e-9;
constexpr int kOnsetGrid = 33, kExpGrid = 8;

struct Profile {
    double ll = -INFINITY;
    double a = 0, c = 0, rss = 0;
};

double gauss_ll(double rss, double n) {
    double var = std::max(rss / n, 1e-30);
    return -0.5 * n * (std::log(2.0 * kPi * var) + 1.0);
}

double binom_ll_terms(double k, double n, double mu) {
    mu = std::clamp(mu, kProbEps, 1.0 - kProbEps);
    return k * std::log(mu) + (n - k) * std::log(1.0 - mu);
}

// Totals over all groups, shared by every profile evaluation.
struct Totals {
    double w = 0, sy = 0, syy = 0;
    std::vector<double> k_prefix, n_prefix;  // binomial: sums over groups [0, g)
};

Totals totals_of(const CurveStats &s) {
    Totals t;
    for (size_t g = 0; g < s.w.size(); ++g) t.w += s.w[g], t.sy += s.sy[g], t.syy += s.syy[g];
    if (s.binomial) {
        t.k_prefix.assign(s.k.size() + 1, 0.0);
        t.n_prefix.assign(s.n.size() + 1, 0.0);
        for (size_t g = 0; g < s.k.size(); ++g) {
            t.k_prefix[g + 1] = t.k_prefix[g] + s.k[g];
            t.n_prefix[g + 1] = t.n_prefix[g] + s.n[g];
        }
    }
    return t;
}

// The rise's shape x(d) of a family at shape parameter `theta` (p, t or h), for the groups below
// the onset: `d` holds onset - loss and `lg` its logarithm (power only).
void basis_fill(CurveFamily f, double theta, const std::vector<double> &d,
                const std::vector<double> &lg, std::vector<double> &x) {
    const size_t m = d.size();
    x.resize(m);
    switch (f) {
        case CurveFamily::power:
            for (size_t g = 0; g < m; ++g) x[g] = std::exp(theta * lg[g]);
            return;
        case CurveFamily::saturating:
            for (size_t g = 0; g < m; ++g) x[g] = -std::expm1(-d[g] / theta);
            return;
        case CurveFamily::sigmoid:
            for (size_t g = 0; g < m; ++g) {
                double u = d[g] / theta;
                x[g] = -std::expm1(-u * u);
            }
            return;
        case CurveFamily::capped:
            for (size_t g = 0; g < m; ++g) x[g] = std::min(d[g], theta);
            return;
    }
}

double basis_one(CurveFamily f, double theta, double d) {
    switch (f) {
        case CurveFamily::power:
            return std::pow(d, theta);
        case CurveFamily::saturating:
            return -std::expm1(-d / theta);
        case CurveFamily::sigmoid:
            return -std::expm1(-(d / theta) * (d / theta));
        case CurveFamily::capped:
            return std::min(d, theta);
    }
    return 0;
}

// The range of a family's shape parameter: the exponent's fixed range, or scales from 1/40 of
// the data's loss span to three spans (beyond that the saturating and sigmoid shapes are a
// straight line or a parabola over the window, and the cap is never reached).
void theta_range(CurveFamily f, const CurveStats &s, double &lo, double &hi) {
    if (f == CurveFamily::power) {
        lo = kExpLo, hi = kExpHi;
        return;
    }
    double span = s.loss.empty() ? 1.0 : std::max(s.loss.back() - s.loss.front(), 1e-6);
    lo = span / 40.0, hi = 3.0 * span;
}

// Distances below the onset of the groups under it (ascending loss), and their logarithms.
void onset_dist(const CurveStats &s, double onset, CurveFamily f, std::vector<double> &d,
                std::vector<double> &lg) {
    size_t m =
        static_cast<size_t>(std::lower_bound(s.loss.begin(), s.loss.end(), onset) - s.loss.begin());
    d.resize(m);
    for (size_t g = 0; g < m; ++g) d[g] = onset - s.loss[g];
    if (f != CurveFamily::power) return;
    lg.resize(m);
    for (size_t g = 0; g < m; ++g) lg[g] = std::log(d[g]);
}

// Maximizes the likelihood over amplitude (and plateau) for the shape values x of the groups
// below the onset.
Profile profile_from_basis(const CurveStats &s, const Totals &t, const std::vector<double> &x) {
    const size_t m = x.size();
    Profile out;
    if (!s.binomial) {
        double sx = 0, sxx = 0, sxy = 0;
        for (size_t g = 0; g < m; ++g) {
            sx += s.w[g] * x[g];
            sxx += s.w[g] * x[g] * x[g];
            sxy += x[g] * s.sy[g];
        }
        double a = 0, c = s.baseline, rss;
        if (!s.plateau_free) {
            double sxr = sxy - c * sx;
            if (sxx > 0) a = sxr / sxx;
            if (s.sign * a < 0) a = 0;
            rss = (t.syy - 2 * c * t.sy + c * c * t.w) - 2 * a * sxr + a * a * sxx;
        } else {
            double det = t.w * sxx - sx * sx;
            if (det > 1e-12 * t.w * sxx && sxx > 0) {
                c = (sxx * t.sy - sx * sxy) / det;
                a = (t.w * sxy - sx * t.sy) / det;
            }
            if (s.sign * a < 0 || !(det > 1e-12 * t.w * sxx && sxx > 0)) {
                a = 0;
                c = t.sy / t.w;
            }
            rss = t.syy - 2 * c * t.sy - 2 * a * sxy + c * c * t.w + 2 * c * a * sx + a * a * sxx;
        }
        out.a = a, out.c = c, out.rss = std::max(rss, 0.0);
        out.ll = gauss_ll(out.rss, s.n_obs);
        return out;
    }
    // Binomial: the log-likelihood is concave in (a, c). Newton steps on a inside its feasible
    // interval; with a free plateau (no chance level), then joint steps on (a, c).
    const double k_top = t.k_prefix.back() - t.k_prefix[m],
                 n_top = t.n_prefix.back() - t.n_prefix[m];
    double xmax = 0, den = 0;
    for (size_t g = 0; g < m; ++g) {
        xmax = std::max(xmax, x[g]);
        den += s.n[g] * x[g] * x[g];
    }
    auto newton_a = [&](double c, double a) {
        double num = 0;
        for (size_t g = 0; g < m; ++g) num += x[g] * (s.k[g] - c * s.n[g]);
        double lo = 0, hi = 0;
        if (xmax > 0) {
            if (s.sign > 0)
                hi = (1.0 - kProbEps - c) / xmax;
            else
                lo = -(c - kProbEps) / xmax;
        }
        hi = std::max(hi, 0.0), lo = std::min(lo, 0.0);
        if (std::isnan(a)) a = den > 0 ? num / den : 0.0;
        a = std::clamp(a, lo, hi);
        for (int it = 0; it < 12 && xmax > 0; ++it) {
            double g1 = 0, g2 = 0;
            for (size_t g = 0; g < m; ++g) {
                double mu = std::clamp(c + a * x[g], kProbEps, 1.0 - kProbEps);
                double u = s.k[g] / mu, v = (s.n[g] - s.k[g]) / (1.0 - mu);
                g1 += x[g] * (u - v);
                g2 -= x[g] * x[g] * (u / mu + v / (1.0 - mu));
            }
            if (!(g2 < 0)) break;
            double next = std::clamp(a - g1 / g2, lo, hi);
            bool done = std::fabs(next - a) <= 1e-12 + 1e-8 * std::fabs(a);
            a = next;
            if (done) break;
        }
        return a;
    };
    // With a free plateau: joint Newton steps on (a, c), kept feasible (mu inside (0, 1) for
    // every x in [0, xmax], a on the metric's side of zero) and halved until the likelihood rises.
    auto feasible = [&](double &ai, double &ci) {
        ai = s.sign > 0 ? std::max(ai, 0.0) : std::min(ai, 0.0);
        const double span = std::fabs(ai) * xmax, room = 1.0 - 2 * kProbEps;
        if (span > room) ai *= room / span;  // no plateau fits a rise this large: shrink it
        ci = std::clamp(ci, kProbEps - std::min(0.0, ai * xmax),
                        1.0 - kProbEps - std::max(0.0, ai * xmax));
    };
    auto loglik = [&](double ai, double ci) {
        double ll = binom_ll_terms(k_top, n_top, ci);
        for (size_t g = 0; g < m; ++g)
            if (s.w[g] != 0) ll += binom_ll_terms(s.k[g], s.n[g], ci + ai * x[g]);
        return ll;
    };
    auto newton_joint = [&](double &ai, double &ci) {
        double ll = loglik(ai, ci);
        for (int it = 0; it < 40; ++it) {
            double ga = 0, gc = 0, haa = 0, hac = 0, hcc = 0;
            auto add = [&](double k, double n, double mu, double xx) {
                mu = std::clamp(mu, kProbEps, 1.0 - kProbEps);
                double u = k / mu, v = (n - k) / (1.0 - mu), d2 = -(u / mu + v / (1.0 - mu));
                ga += xx * (u - v), gc += u - v;
                haa += xx * xx * d2, hac += xx * d2, hcc += d2;
            };
            for (size_t g = 0; g < m; ++g) add(s.k[g], s.n[g], ci + ai * x[g], x[g]);
            add(k_top, n_top, ci, 0.0);
            double det = haa * hcc - hac * hac, da, dc;
            if (det > 1e-300 * std::fabs(haa * hcc) && haa < 0) {
                da = -(hcc * ga - hac * gc) / det;
                dc = -(haa * gc - hac * ga) / det;
            } else {  // no curvature in a (nothing below the onset): a plateau-only step
                da = 0;
                dc = hcc < 0 ? -gc / hcc : 0;
            }
            bool improved = false;
            for (int half = 0; half < 30; ++half) {
                double an = ai + da, cn = ci + dc;
                feasible(an, cn);
                double lln = loglik(an, cn);
                if (lln >= ll) {
                    improved = lln > ll + 1e-12 * std::fabs(ll);
                    ai = an, ci = cn, ll = lln;
                    break;
                }
                da *= 0.5, dc *= 0.5;
            }
            if (!improved) break;
        }
    };
    double c = s.baseline, a = std::nan("");
    if (s.plateau_free) {
        // Start from the rate where the curve is flat (or everywhere when nothing is).
        c = n_top > 0 ? k_top / n_top : t.k_prefix.back() / std::max(t.n_prefix.back(), 1.0);
        c = std::clamp(c, kProbEps, 1.0 - kProbEps);
    }
    a = newton_a(c, a);
    if (s.plateau_free) newton_joint(a, c);
    // Report a plateau pinned at the clamp as what it is: no successes at all.
    const double c_report = s.plateau_free && c <= 2 * kProbEps ? 0.0 : c;
    // Groups at or above the onset all sit at the plateau: one term from the suffix sums.
    double ll = binom_ll_terms(k_top, n_top, c);
    for (size_t g = 0; g < m; ++g)
        if (s.w[g] != 0) ll += binom_ll_terms(s.k[g], s.n[g], c + a * x[g]);
    out.a = a, out.c = c_report, out.ll = ll + s.log_binom_const;
    return out;
}

struct Workspace {
    std::vector<double> d, lg, x;
};

Profile profile_eval(const CurveStats &s, const Totals &t, CurveFamily f, double onset,
                     double theta, Workspace &w) {
    onset_dist(s, onset, f, w.d, w.lg);
    basis_fill(f, theta, w.d, w.lg, w.x);
    return profile_from_basis(s, t, w.x);
}

// Maximizes f on [lo, hi] by golden-section search; returns the best point seen.
template <typename F>
double golden_max(F f, double lo, double hi, int iters, double &best_val) {
    const double r = 0.6180339887498949;
    double a = lo, b = hi;
    double x1 = b - r * (b - a), x2 = a + r * (b - a);
    double f1 = f(x1), f2 = f(x2);
    double best_x = f1 >= f2 ? x1 : x2;
    best_val = std::max(f1, f2);
    for (int i = 0; i < iters; ++i) {
        if (f1 >= f2) {
            b = x2, x2 = x1, f2 = f1;
            x1 = b - r * (b - a);
            f1 = f(x1);
        } else {
            a = x1, x1 = x2, f1 = f2;
            x2 = a + r * (b - a);
            f2 = f(x2);
        }
        if (f1 > best_val) best_val = f1, best_x = x1;
        if (f2 > best_val) best_val = f2, best_x = x2;
    }
    return best_x;
}

// Nelder-Mead maximization of f(u, v) from (u, v) with initial steps (du, dv); updates (u, v) and
// `best` in place. Stops when the simplex's spread in u falls below `tol` or after `max_evals`.
template <typename F>
void simplex_max(F f, double &u, double &v, double du, double dv, double tol, int max_evals,
                 double &best) {
    struct Vtx {
        double u, v, f;
    };
    Vtx s[3] = {{u, v, best}, {u + du, v, 0}, {u, v + dv, 0}};
    s[1].f = f(s[1].u, s[1].v);
    s[2].f = f(s[2].u, s[2].v);
    int evals = 2;
    while (evals < max_evals) {
        std::sort(s, s + 3, [](const Vtx &a, const Vtx &b) { return a.f > b.f; });
        double spread = std::max(std::fabs(s[1].u - s[0].u), std::fabs(s[2].u - s[0].u));
        double vspread = std::max(std::fabs(s[1].v - s[0].v), std::fabs(s[2].v - s[0].v));
        if (spread < tol && vspread < 1e-6) break;
        double cu = 0.5 * (s[0].u + s[1].u), cv = 0.5 * (s[0].v + s[1].v);
        Vtx r{2 * cu - s[2].u, 2 * cv - s[2].v, 0};
        r.f = f(r.u, r.v), ++evals;
        if (r.f > s[0].f) {
            Vtx e{3 * cu - 2 * s[2].u, 3 * cv - 2 * s[2].v, 0};
            e.f = f(e.u, e.v), ++evals;
            s[2] = e.f > r.f ? e : r;
        } else if (r.f > s[1].f) {
            s[2] = r;
        } else {
            Vtx c{0.5 * (cu + s[2].u), 0.5 * (cv + s[2].v), 0};
            c.f = f(c.u, c.v), ++evals;
            if (c.f > s[2].f) {
                s[2] = c;
            } else {
                for (int i = 1; i < 3; ++i) {
                    s[i].u = 0.5 * (s[0].u + s[i].u), s[i].v = 0.5 * (s[0].v + s[i].v);
                    s[i].f = f(s[i].u, s[i].v), ++evals;
                }
            }
        }
    }
    std::sort(s, s + 3, [](const Vtx &a, const Vtx &b) { return a.f > b.f; });
    if (s[0].f > best) best = s[0].f, u = s[0].u, v = s[0].v;
}

// The fit at (onset, shape) from its profile; `free` counts the free parameters besides the
// plateau (when estimated) and the Gaussian variance.
CurveFit fit_of(const CurveStats &s, CurveFamily family, double onset, double shape,
                const Profile &pr, int free) {
    CurveFit fit;
    fit.params.plateau = pr.c;
    fit.params.onset = onset;
    fit.params.amplitude = s.sign * pr.a;
    fit.params.family = family;
    (family == CurveFamily::power ? fit.params.exponent : fit.params.scale) = shape;
    fit.params.sign = s.sign;
    fit.loglik = pr.ll;
    fit.sigma = s.binomial ? 0.0 : std::sqrt(pr.rss / s.n_obs);
    fit.k = free + (s.plateau_free ? 1 : 0) + (s.binomial ? 0 : 1);
    fit.n_obs = s.n_obs;
    return fit;
}

}  // namespace

const char *curve_family_name(CurveFamily f) {
    switch (f) {
        case CurveFamily::power:
            return "power";
        case CurveFamily::saturating:
            return "saturating";
        case CurveFamily::sigmoid:
            return "sigmoid";
        case CurveFamily::capped:
            return "capped";
    }
    return "power";
}

bool curve_family_parse(const std::string &name, CurveFamily &out) {
    for (CurveFamily f : kCurveFamilies)
        if (name == curve_family_name(f)) {
            out = f;
            return true;
        }
    return false;
}

double CurveParams::eval(double loss) const {
    double d = onset - loss;
    if (d <= 0 || amplitude == 0) return plateau;
    double theta = family == CurveFamily::power ? exponent : scale;
    return plateau + sign * amplitude * basis_one(family, theta, d);
}

CurveGroups curve_groups_build(const std::vector<double> &loss, double width) {
    CurveGroups out;
    size_t n = loss.size();
    out.group_of.assign(n, 0);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return loss[a] < loss[b]; });
    double first = 0;
    int32_t g = -1;
    for (size_t i = 0; i < n; ++i) {
        double l = loss[order[i]];
        if (g < 0 || l - first > width) ++g, first = l;
        out.group_of[order[i]] = g;
    }
    out.count = g + 1;
    return out;
}

CurveStats curve_stats(const CurveData &data, const CurveGroups &groups,
                       const std::vector<double> &mult, const std::vector<double> &values) {
    CurveStats s;
    size_t G = static_cast<size_t>(groups.count);
    s.loss.assign(G, 0.0);
    s.w.assign(G, 0.0), s.sy.assign(G, 0.0), s.syy.assign(G, 0.0);
    s.binomial = data.binomial;
    s.plateau_free = data.plateau_free;
    s.baseline = data.baseline;
    s.sign = data.sign;
    if (s.binomial) s.k.assign(G, 0.0), s.n.assign(G, 0.0);
    std::vector<double> count(G, 0.0);
    for (size_t i = 0; i < data.loss.size(); ++i) {
        size_t g = static_cast<size_t>(groups.group_of[i]);
        s.loss[g] += data.loss[i];
        count[g] += 1;
        double m = mult.empty() ? 1.0 : mult[i];
        if (m == 0) continue;
        double y = values.empty() ? data.value[i] : values[i];
        s.w[g] += m, s.sy[g] += m * y, s.syy[g] += m * y * y;
        s.n_obs += m;
        if (s.binomial) {
            double nn = data.n[i], kk = std::clamp(y, 0.0, 1.0) * nn;
            s.k[g] += m * kk, s.n[g] += m * nn;
            s.log_binom_const +=
                m * (std::lgamma(nn + 1) - std::lgamma(kk + 1) - std::lgamma(nn - kk + 1));
        }
    }
    for (size_t g = 0; g < G; ++g) s.loss[g] /= count[g];
    return s;
}

CurveFit curve_fit(const CurveStats &s, double onset_lo, double onset_hi, CurveFamily family) {
    Totals t = totals_of(s);
    Workspace w;
    double th_lo, th_hi;
    theta_range(family, s, th_lo, th_hi);
    const double lp_lo = std::log(th_lo), lp_hi = std::log(th_hi);
    bool pinned = !(onset_hi > onset_lo);
    int n_onset = pinned ? 1 : kOnsetGrid;
    double best = -INFINITY, best_onset = onset_lo, best_lp = lp_lo;
    for (int i = 0; i < n_onset; ++i) {
        double onset = pinned ? onset_lo : onset_lo + (onset_hi - onset_lo) * i / (n_onset - 1);
        onset_dist(s, onset, family, w.d, w.lg);
        for (int j = 0; j < kExpGrid; ++j) {
            double lp = lp_lo + (lp_hi - lp_lo) * j / (kExpGrid - 1);
            basis_fill(family, std::exp(lp), w.d, w.lg, w.x);
            double ll = profile_from_basis(s, t, w.x).ll;
            if (ll > best) best = ll, best_onset = onset, best_lp = lp;
        }
    }
    // Refine from the best grid cell. The onset and the shape parameter trade off along a narrow
    // ridge (a later onset with a larger exponent looks alike), so a simplex search follows the
    // ridge where alternating one-dimensional searches would stall.
    double cell = pinned ? 0.0 : (onset_hi - onset_lo) / (n_onset - 1);
    double lp_cell = (lp_hi - lp_lo) / (kExpGrid - 1);
    auto objective = [&](double on, double lp) {
        on = std::clamp(on, onset_lo, onset_hi);
        lp = std::clamp(lp, lp_lo, lp_hi);
        return profile_eval(s, t, family, on, std::exp(lp), w).ll;
    };
    if (pinned) {
        double val;
        double lp = golden_max([&](double l) { return objective(best_onset, l); },
                               std::max(lp_lo, best_lp - lp_cell),
                               std::min(lp_hi, best_lp + lp_cell), 20, val);
        if (val > best) best = val, best_lp = lp;
    } else {
        double val = best;
        simplex_max(objective, best_onset, best_lp, 0.5 * cell, 0.5 * lp_cell,
                    1e-6 * (onset_hi - onset_lo), 120, val);
        best_onset = std::clamp(best_onset, onset_lo, onset_hi);
        best_lp = std::clamp(best_lp, lp_lo, lp_hi);
        best = val;
    }
    Profile pr = profile_eval(s, t, family, best_onset, std::exp(best_lp), w);
    // Free: the amplitude, the shape and the onset unless pinned.
    return fit_of(s, family, best_onset, std::exp(best_lp), pr, pinned ? 2 : 3);
}

void curve_shape_range(const CurveStats &s, CurveFamily family, double &lo, double &hi) {
    theta_range(family, s, lo, hi);
}

CurveFit curve_fit_at(const CurveStats &s, CurveFamily family, double onset, double shape) {
    Totals t = totals_of(s);
    Workspace w;
    return fit_of(s, family, onset, shape, profile_eval(s, t, family, onset, shape, w), 1);
}

double curve_departure(const CurveParams &p, double margin, double max_depth) {
    auto gain = [&](double d) { return p.sign * (p.eval(p.onset - d) - p.plateau); };
    if (!(max_depth > 0) || !(gain(max_depth) >= margin)) return p.onset;
    double lo = 0, hi = max_depth;  // gain(lo) < margin <= gain(hi); every family is monotone
    for (int it = 0; it < 60; ++it) {
        double mid = 0.5 * (lo + hi);
        (gain(mid) >= margin ? hi : lo) = mid;
    }
    return p.onset - hi;
}

CurveFit curve_fit_flat(const CurveStats &s) {
    Totals t = totals_of(s);
    CurveFit fit;
    fit.params.sign = s.sign;
    fit.params.plateau = !s.plateau_free ? s.baseline
                         : s.binomial    ? t.k_prefix.back() / std::max(t.n_prefix.back(), 1.0)
                                         : t.sy / t.w;
    fit.params.onset = s.loss.empty() ? 0.0 : s.loss.front();
    fit.loglik = curve_loglik(s, fit.params);
    if (!s.binomial) {
        double c = fit.params.plateau;
        fit.sigma = std::sqrt(std::max(t.syy - 2 * c * t.sy + c * c * t.w, 0.0) / s.n_obs);
    }
    fit.k = (s.plateau_free ? 1 : 0) + (s.binomial ? 0 : 1);
    fit.n_obs = s.n_obs;
    return fit;
}

double curve_loglik(const CurveStats &s, const CurveParams &params) {
    double acc = 0;
    for (size_t g = 0; g < s.loss.size(); ++g) {
        if (s.w[g] == 0) continue;
        double mu = params.eval(s.loss[g]);
        if (s.binomial)
            acc += binom_ll_terms(s.k[g], s.n[g], mu);
        else
            acc += s.syy[g] - 2 * mu * s.sy[g] + mu * mu * s.w[g];
    }
    return s.binomial ? acc + s.log_binom_const : gauss_ll(std::max(acc, 0.0), s.n_obs);
}

int64_t binomial_sample(Rng &rng, int64_t n, double p) {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - binomial_sample(rng, n, 1.0 - p);
    double mean = static_cast<double>(n) * p;
    if (mean < 30) {
        double q = 1.0 - p, s = p / q, a = (static_cast<double>(n) + 1) * s;
        double r = std::exp(static_cast<double>(n) * std::log(q));
        double u = rng.uniform();
        int64_t x = 0;
        while (u > r && x < n) {
            u -= r;
            ++x;
            r *= a / static_cast<double>(x) - s;
            if (r <= 0) break;
        }
        return x;
    }
    double sd = std::sqrt(mean * (1.0 - p));
    double v = std::round(mean + sd * rng.normal());
    return static_cast<int64_t>(std::clamp(v, 0.0, static_cast<double>(n)));
}

}  // namespace em
