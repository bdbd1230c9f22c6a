// The built-in evaluation suite: tasks generated from the installed real sources (WordNet, held-out
// Brown documents, held-out Bible books, held-out Song ci) and from seeded generators (arithmetic,
// invented facts asked as a cloze, in letter-choice form and composed, passages with letter
// choices), plus skills.jsonl: training documents that teach the synthetic skills without ever
// containing an evaluation item. docs/tasks.md describes every task (provenance, size, chance).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/sources.h"

namespace em {

struct SuiteOptions {
    uint64_t seed = 1234;
    int64_t items = 1000;  // documents per task where the source has that many
    // Target size of skills.jsonl. The default makes synthetic text about 44% of the training mix
    // of the default corpus (about 60 MB of natural text).
    int64_t skills_bytes = 48'000'000;
    SourcePaths paths = SourcePaths::system();
    bool verbose = false;  // progress lines on stderr
};

// Writes DIR/<task>.toml and DIR/<task>.jsonl for every task, DIR/skills.jsonl, and last
// DIR/manifest.json (counts, items dropped as seen in training, skill bytes), which it returns.
// Same sources and options -> identical files.
Result<nlohmann::json> suite_build(const std::string &out_dir, const SuiteOptions &opt);

// The names of the tasks suite_build writes, in docs/tasks.md's order (a test checks them against
// a built suite), so a config naming a task can be checked before the suite is built.
const std::vector<std::string> &suite_task_names();

}  // namespace em
