// Imports of external results into the points table: wide CSV logs (one row per checkpoint, one
// column per task metric, e.g. the OLMo ladder), and what every importer shares (the lm-eval
// importer lives with the results reader in eval/import_lmeval.h). Run name, size, step and budget
// come from a path pattern such as 'pythia-{run}/{size}_step{step}.json' or from options.
// Usage: docs/points.md.
#pragma once

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "analysis/points.h"
#include "common/status.h"

namespace em {

struct ImportOptions {
    std::string dir;                 // walk this directory for files matching `pattern`
    std::vector<std::string> files;  // or take these files (matched against the pattern's tail)
    std::string pattern;             // {run} {size} {step} {xc} {tokens} fields, * and ? wildcards
    std::vector<std::string>
        params;              // "N" for every run, or "KEY=N" with KEY the {size} or run name
    std::string params_csv;  // columns run,params or size,params
    std::vector<std::string> tokens;     // "D" for every run, or "KEY=D"
    double tokens_per_param = 20;        // budget = {xc} x this x params
    double tokens_per_step = 0;          // tokens_seen = step x this (when no column gives it)
    std::string run;                     // run name when the pattern has no {run}
    std::string loss_csv;                // run,step,loss
    std::vector<std::string> baselines;  // "TASK=V" or "TASK:METRIC=V" (TASK a regular expression)
    std::vector<std::string>
        choices;                // "TASK=K": K-way multiple choice (TASK a regular expression)
    std::string baselines_csv;  // task,metric,baseline (metric "*" = every metric)
    std::string task_filter;    // regular expression on task names; empty = all
    std::vector<std::string> aggregate;  // "NAME=REGEX": n-weighted mean of matching tasks
    bool drop_aggregated = false;        // keep only the aggregate of matched tasks
};

struct CsvImportOptions {
    std::map<std::string, std::string>
        map;  // field (loss, step, tokens_seen, run, params, tokens) -> column
    std::vector<std::string>
        task_columns;  // regexes; group 1 = task, group 2 (or the rest) = metric
};

struct ImportResult {
    std::vector<Point> points;
    std::vector<std::string> warnings;  // one line each (unknown baselines, skipped rows)
    int64_t files = 0;
};

Result<ImportResult> import_wide_csv(const ImportOptions &opt, const CsvImportOptions &csv);

// A path pattern compiled to a regular expression with named fields.
struct PathPattern {
    std::string source;
    std::vector<std::string> fields;  // capture group i+1 holds fields[i]
    std::string regex;
};
Result<PathPattern> path_pattern_compile(const std::string &pattern);
// Matches a '/'-separated path (whole, or its tail after a '/'); fills `fields`.
bool path_pattern_match(const PathPattern &p, const std::string &path,
                        std::map<std::string, std::string> &fields);

// What every importer shares.

// One input file and the fields its path gave the pattern.
struct ImportSource {
    std::string path;                           // as opened
    std::map<std::string, std::string> fields;  // from the pattern
};

// The files of `opt.dir` that match `opt.pattern` (sorted), then `opt.files`. No pattern, no
// match in the folder, a file the pattern does not match or no input at all is an error.
Result<std::vector<ImportSource>> import_sources_find(const ImportOptions &opt);

// A number or an integer the pattern took from a file's path ({tokens}, {xc}, {step}); the
// field must be there.
Result<double> import_field_number(const ImportSource &s, const char *field);
Result<int64_t> import_field_integer(const ImportSource &s, const char *field);

// `re` compiled (ECMAScript); a syntax error names `option` and the pattern.
Result<std::regex> import_regex_compile(const std::string &re, const char *option);

// Resolves a run's name, parameter count and budget from pattern fields and options. Keeps a
// pointer to the options given to init, which must outlive it.
class ImportRunResolver {
  public:
    Status init(const ImportOptions &opt);
    // The {run} field, else --run, else `fallback`; none of them is an error naming the file.
    Result<std::string> run_name(const ImportSource &s, const std::string &fallback) const;
    // Fills `params` and `tokens` where they are not already > 0: from --params/--params-csv and
    // --tokens (by {size} or run name, then for every run), {tokens} or {xc} in the path.
    Status resolve(const ImportSource &s, const std::string &run, double &params,
                   double &tokens) const;

  private:
    const ImportOptions *opt_ = nullptr;
    std::map<std::string, double> params_, tokens_;
    double params_all_ = 0, tokens_all_ = 0;
};

// Random-guess values: explicit options first, then the table of known benchmarks.
class ImportBaselineResolver {
  public:
    Status init(const ImportOptions &opt);
    // The baseline of a task's metric; NaN when it has none. An unknown chance level adds one
    // warning per (task, metric) to `warnings`.
    double get(const std::string &task, const std::string &metric,
               std::vector<std::string> &warnings);

  private:
    struct Explicit {
        std::regex re;
        std::string metric;
        double value;
    };
    struct Choice {
        std::regex re;
        int k;
    };
    std::vector<Explicit> explicit_;
    std::vector<Choice> choices_;
    std::map<std::pair<std::string, std::string>, double> table_;
    std::set<std::pair<std::string, std::string>> warned_;
};

// The last step of every import: adds n-weighted means of matching tasks (--aggregate), drops
// filtered tasks (--tasks), fills baselines and validates the points. No points left is an error.
Status import_points_finish(const ImportOptions &opt, ImportBaselineResolver &bl,
                            ImportResult &res);

}  // namespace em
