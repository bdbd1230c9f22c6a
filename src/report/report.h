// The self-contained HTML report of an analysis. It opens with one small chart per task of its
// primary metric against loss (coloured by model size, with the chance line, the fitted threshold
// model and η's interval) and a table of those metrics' verdicts, gains, per-size η and stability;
// then every series' verdicts and correlations, the continuous metrics, the scaling-law fit, the
// loss-versus-compute collapse comparison, and per task every metric against loss and against
// compute. Each part is a <section> with an id, in that order: overview, primary-verdicts,
// all-series, continuous (when there are continuous metrics), scaling-law, collapse, tasks. Vega,
// Vega-Lite and vega-embed are inlined from assets_dir(), so the file opens offline. Each chart
// reports how many points it drew (data-rendered-points next to data-expected-points), and the
// grid how many panels (data-rendered-panels next to data-expected-panels), once vega-embed has
// rendered it, which tests read back from a headless browser.
#pragma once

#include <string>
#include <vector>

#include "analysis/points.h"
#include "analysis/result.h"
#include "common/status.h"

namespace em {

struct ReportOptions {
    std::string title = "Emergent abilities from the loss perspective";
    std::string
        assets;  // node_modules folder holding vega, vega-lite, vega-embed; empty = assets_dir()
};

// The index in `results` of each task's primary metric, one per task in order of first appearance:
// the first present of acc, acc_norm, len_norm, exact_match and em; else the task's first
// non-continuous metric; else its first metric (the reference of analysis.json's
// continuous_agreement).
std::vector<size_t> report_primary_series(const std::vector<SeriesResult> &results);

// Builds the HTML text. `points` must be the table the analysis was made from: the report selects
// them with the analysis' window and checks that every task metric has as many points in it as
// the analysis counted.
Result<std::string> report_html(const AnalysisResult &analysis, const std::vector<Point> &points,
                                const ReportOptions &opt);

// Builds the report and writes it atomically to `out_path`.
Status report_write(const std::string &out_path, const AnalysisResult &analysis,
                    const std::vector<Point> &points, const ReportOptions &opt);

// Reads analysis.json and points.csv, then report_write.
Status report_write_files(const std::string &out_path, const std::string &analysis_path,
                          const std::string &points_path, const ReportOptions &opt);

}  // namespace em
