// The self-contained HTML report of an analysis: per task, performance against loss coloured by
// model size and shaped by token budget with the chance line, fitted curve and η's interval; the
// continuous metrics; the loss-versus-compute collapse comparison; the scaling-law fit; a summary
// of verdicts and correlations. Vega, Vega-Lite and vega-embed are inlined from assets_dir(), so
// the file opens offline. Each chart reports how many points it drew (data-rendered-points next
// to data-expected-points) once vega-embed has rendered it, which tests read back from a headless
// browser.
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
