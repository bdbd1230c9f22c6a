// The report's Vega-Lite chart specs. Charts of points carry a layer named "primary" whose data
// is {"name": "points"}: the page script fills it with the series' rows from the shared data and
// counts the marks that layer drew. The grid's panel k names its layer "primary_k" instead (Vega-
// Lite draws only one of several layers with one name) and its data {"name": "series-<i>"}, i the
// series' index in the results.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "analysis/result.h"

namespace em {

// Six significant digits keep the embedded data small without moving any point visibly.
double chart_round6(double v);

// Performance against loss: points, chance line, fitted threshold model, η and its interval, and
// the smooth model extrapolated from the higher-loss part (dashed).
nlohmann::json chart_series_spec(const SeriesResult &r);

// The small multiples that open the page: for each series in `panels` (indices into `results`),
// performance against loss coloured by model size, with the chance line, the fitted threshold
// model and η with its interval where a threshold was found; titled with the task, the verdict
// (qualifier, fragility) and the gain. Four panels a row; `rows` is set to the points drawn.
nlohmann::json chart_grid_spec(const std::vector<SeriesResult> &results,
                               const std::vector<size_t> &panels, int64_t &rows);

// Performance against compute 6·N·D, with the chance line.
nlohmann::json chart_compute_spec(const SeriesResult &r);

// R² of the monotone fit against each collapse axis, one bar per series and axis; `rows` is set
// to the number of bars.
nlohmann::json chart_r2_spec(const std::vector<SeriesResult> &results, int64_t &rows);

// The scaling law's observed against predicted losses; `rows` is set to the number of points.
nlohmann::json chart_law_spec(const ScalingLawResult &law, int64_t &rows);

}  // namespace em
