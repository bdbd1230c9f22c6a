// The built-in task suite as a study stage: built once into the study's tasks/ directory by the
// task builder (`emergence tasks build`), with the skill documents the corpus mixes in.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace em {

struct BuiltinTasksOptions {
    uint64_t seed = 1;
    int64_t items = 0;         // documents per task (0: the suite's default)
    int64_t skills_bytes = 0;  // size of skills.jsonl (0: the suite's default)
};

bool builtin_tasks_done(const std::string &dir);
Status builtin_tasks_build(const std::string &dir, const BuiltinTasksOptions &opt);
std::string builtin_tasks_skills_path(const std::string &dir);

}  // namespace em
