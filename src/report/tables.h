// The report's HTML tables: the verdicts of each task's primary metric, verdicts and correlations
// per series, the continuous metrics against their task's reference metric, the scaling-law fit
// and the model size each emergent η needs. Each returns a complete HTML fragment; names and notes
// are escaped.
#pragma once

#include <string>
#include <vector>

#include "analysis/result.h"

namespace em {

std::string html_escape(const std::string &s);

// Three significant digits, or "–" for an undefined number.
std::string table_g3(double v);

// Heading, table and its note, one row per index in `primary` (each task's primary metric):
// verdict (marked when fragile), qualifier, η and gain with their intervals, η per size, the
// shared-threshold test, the seed spread and the leave-one-run-out stability.
std::string table_primary(const std::vector<SeriesResult> &results,
                          const std::vector<size_t> &primary);

// Heading, table and its note: verdict, qualifier, η, gain, stability, correlations, collapse R²
// and tests per series.
std::string table_verdicts(const std::vector<SeriesResult> &results);

// Heading, table and note comparing continuous metrics with their task's reference metric; empty
// when no task has a continuous metric.
std::string table_continuous(const std::vector<ContinuousAgreement> &agreement);

// The paragraph with the fitted law's parameters and intervals (law.fit.ok).
std::string table_law_fit(const ScalingLawResult &law);

// The model size each emergent series' η needs; empty when there is none.
std::string table_sizes(const std::vector<EmergenceSize> &sizes);

}  // namespace em
