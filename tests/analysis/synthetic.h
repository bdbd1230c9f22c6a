// Synthetic points with a planted truth, shared by the analysis and report tests: runs of several
// sizes and budgets whose loss follows L = E + A/N^a + B/D_seen^b, and task values drawn from a
// known curve of the loss (binomial over n examples, or Gaussian noise when n is 0).
#pragma once

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "analysis/curve.h"
#include "analysis/points.h"
#include "common/rng.h"

namespace em::testing {

// Long checks run only under `ctest -L long` (tests/analysis/CMakeLists.txt sets the variable).
inline bool long_tests_enabled() {
    const char *v = std::getenv("EM_LONG_TESTS");
    return v && *v && std::string(v) != "0";
}

struct SyntheticRun {
    std::string name;
    double params, tokens;
};

inline std::vector<SyntheticRun> synthetic_runs(int sizes, int budgets) {
    std::vector<SyntheticRun> runs;
    const double size_list[] = {2e7, 5e7, 1.2e8, 3e8, 7e8};
    const double mult_list[] = {8, 20, 60, 150};
    for (int s = 0; s < sizes; ++s)
        for (int b = 0; b < budgets; ++b) {
            double N = size_list[s], D = mult_list[b] * N;
            runs.push_back({"n" + std::to_string(static_cast<int>(N / 1e6)) + "m-x" +
                                std::to_string(static_cast<int>(mult_list[b])),
                            N, D});
        }
    return runs;
}

inline double synthetic_loss(double N, double D_seen) {
    return 1.69 + 406.4 / std::pow(N, 0.34) + 250.0 / std::pow(D_seen, 0.28);
}

// Adds one task metric over `checkpoints` evenly spaced checkpoints per run (from 5% to 100% of
// the budget). value(L) is the planted curve; n > 0 draws binomial counts, else Gaussian noise sd.
inline void synthetic_task(std::vector<em::Point> &pts, const std::vector<SyntheticRun> &runs,
                           int checkpoints, const std::string &task, const std::string &metric,
                           double baseline, const std::function<double(double)> &value, int64_t n,
                           double noise_sd, uint64_t seed) {
    em::Rng rng(seed);
    for (const auto &r : runs)
        for (int c = 1; c <= checkpoints; ++c) {
            double frac = 0.05 + 0.95 * (c - 1) / std::max(1, checkpoints - 1);
            em::Point p;
            p.run = r.name;
            p.params = r.params;
            p.tokens = r.tokens;
            p.step = c * 100;
            p.tokens_seen = std::round(frac * r.tokens);
            p.loss = synthetic_loss(r.params, p.tokens_seen);
            p.task = task;
            p.metric = metric;
            double mu = value(p.loss);
            if (n > 0) {
                p.value =
                    static_cast<double>(em::binomial_sample(rng, n, std::clamp(mu, 0.0, 1.0))) / n;
                p.n = n;
            } else {
                p.value = mu + noise_sd * rng.normal();
            }
            p.baseline = baseline;
            pts.push_back(p);
        }
}

}  // namespace em::testing
