// The points table (points.csv): one row per checkpoint × task × metric, the contract between
// evaluation (or an import) and the analysis. Format and rules: docs/points.md.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/status.h"

namespace em {

struct Point {
    std::string run;         // training run name
    double params = 0;       // non-embedding parameters N
    double tokens = 0;       // the run's token budget D
    int64_t step = 0;        // optimizer step of the checkpoint
    double tokens_seen = 0;  // tokens consumed up to this checkpoint
    double loss = 0;         // pre-training (validation) loss of the checkpoint, nats/token
    std::string task;
    std::string metric;
    double value = 0;
    int64_t n = 0;  // examples behind `value`; 0 = unknown
    double baseline = std::numeric_limits<double>::quiet_NaN();  // random-guess value; NaN = none
};

// The header line, in the order the writer uses.
extern const char *const kPointsColumns;

// Reads and validates a points file. Any malformed field, missing or unknown column, duplicate
// (run, step, task, metric) or inconsistency (one run with two parameter counts, one checkpoint
// with two losses, one task metric with two baselines) is an error naming file:line:column and the
// fix. `text` variant: `path` only names the source in messages.
Result<std::vector<Point>> points_read(const std::string &path);
Result<std::vector<Point>> points_parse(const std::string &text, const std::string &path);

// Renders points as CSV text with the standard header (shortest round-trip numbers; empty n when
// unknown, empty baseline when none).
std::string points_format(const std::vector<Point> &points);

// Writes atomically (temporary file, fsync, rename). Checks the same rules as the reader first,
// so a table that is written can always be read back.
Status points_write(const std::string &path, const std::vector<Point> &points);

// Whether a proportion `value` of `n` examples is a whole number of successes (value * n), to
// `half_unit`, the rounding of the value as written (0: a value computed in memory).
bool proportion_fits(double value, int64_t n, double half_unit = 0);

// Checks the consistency rules on points that did not come from a file (imports, the study).
Status points_validate(const std::vector<Point> &points, const std::string &what);

}  // namespace em
