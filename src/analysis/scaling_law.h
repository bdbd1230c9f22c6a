// The scaling law L(N, D) = E + A / N^alpha + B / D^beta fitted as Chinchilla's approach 3
// (Hoffmann et al. 2022; Besiroglu et al. 2024): Huber loss on log L against
// LSE(a - alpha log N, b - beta log D, e) with E = e^e, A = e^a, B = e^b, minimized by L-BFGS
// (NLopt, analytic gradient) from a grid of starts; intervals by bootstrap over the points.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace em {

struct ScalingLawOptions {
    double huber_delta = 1e-3;
    int bootstrap = 200;
    int64_t starts = 32;  // L-BFGS runs from the best grid points
    uint64_t seed = 1;
    bool parallel = true;  // bootstrap on the thread pool
};

struct Interval {
    double lo = 0, hi = 0;
};

struct ScalingLaw {
    bool ok = false;
    std::string note;  // why not, or caveats
    double E = 0, A = 0, B = 0, alpha = 0, beta = 0;
    double objective = 0;  // sum of Huber losses at the optimum
    int64_t n = 0;
    Interval E_ci, A_ci, B_ci, alpha_ci, beta_ci;  // 95% percentile bootstrap
    int64_t bootstrap_done = 0;

    double predict(double N, double D) const;
    // Smallest N with predict(N, D) <= loss; +inf when loss <= E + B/D^beta (unreachable at D).
    double params_for_loss(double loss, double D) const;
    // Smallest N with predict(N, ratio * N) <= loss (tokens grow with the model); +inf if loss <=
    // E.
    double params_for_loss_at_ratio(double loss, double ratio) const;
};

// Fits N (non-embedding parameters), D (tokens) and L (loss) triples.
ScalingLaw scaling_law_fit(const std::vector<double> &N, const std::vector<double> &D,
                           const std::vector<double> &L, const ScalingLawOptions &opt);

}  // namespace em
