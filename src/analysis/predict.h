// Prediction from an analysis: the scaling law gives the loss of a model with N parameters trained
// on D tokens, and each task metric's fitted curve against loss gives its performance there,
// flagged when that loss lies outside the range the curve was fitted on.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "analysis/result.h"
#include "common/status.h"

namespace em {

// Returns {"params", "tokens", "loss", "law": {...}, "tasks": [{"task", "metric", "value",
// "baseline", "verdict", "beyond_observed", "loss_range"}]}. Fails when the analysis has no fitted
// scaling law or N, D are not positive.
Result<nlohmann::json> predict_from_analysis(const AnalysisResult &analysis, double params,
                                             double tokens);

// The prediction as an aligned text table.
std::string predict_format(const nlohmann::json &prediction);

}  // namespace em
