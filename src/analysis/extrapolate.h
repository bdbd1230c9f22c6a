// Extrapolation check: fit the smooth model (rise from the window's top) on the higher-loss part
// of the window and ask whether it predicts the lower-loss part. An emergent ability beats such
// a prediction: the held-out points land above its interval.
#pragma once

#include <cstdint>
#include <vector>

#include "analysis/curve.h"

namespace em {

struct ExtrapolationOptions {
    double fit_frac = 0.6;  // fit on the upper share of the window's loss range
    int bootstrap = 100;    // resamples for the prediction band
    double level = 0.95;    // prediction interval level
    double alpha = 0.01;    // for `exceeds`
    double group_width_frac = 1.0 / 400;
    uint64_t seed = 1;
};

struct ExtrapolationResult {
    bool done = false;      // false when either part has fewer than 3 points
    double split_loss = 0;  // points with loss >= split were fitted, the rest held out
    int64_t n_fit = 0, n_held = 0;
    CurveParams fit;  // the smooth model fitted on the upper part
    double rmse = 0, mae = 0;
    double mean_error = 0;  // mean oriented (observed - predicted): > 0 means better than predicted
    double frac_above = 0;  // held-out points better than the interval's upper (oriented) end
    double frac_below = 0;
    double p_above = 1;    // P(at least that many above | a calibrated interval puts 2.5% there)
    bool exceeds = false;  // p_above < alpha
};

// `window_lo`/`window_hi`: the window's loss range (the smooth model's onset is window_hi).
ExtrapolationResult extrapolation_analyze(const CurveData &data, double window_lo, double window_hi,
                                          const ExtrapolationOptions &opt);

}  // namespace em
