// The study directory's paths and the runs' tokenizer records; see layout.h.
#include "study/layout.h"

#include <cinttypes>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/fileio.h"

namespace em {

std::string StudyPaths::evals(const std::string &run, int64_t step) const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "step_%08" PRId64, step);
    return dir + "/runs/" + run + "/evals/" + buf;
}

Status study_run_tokenizer_write(const StudyPaths &p, const std::string &run,
                                 const std::string &hash) {
    return file_write_atomic(p.run_tokenizer(run),
                             nlohmann::json{{"tokenizer_fnv1a64", hash}}.dump() + "\n");
}

Status study_run_tokenizer_check(const StudyPaths &p, const std::string &run,
                                 const std::string &hash) {
    const std::string path = p.run_tokenizer(run);
    if (!file_exists(path)) return Status::ok();
    std::string had;
    try {
        EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
        had = nlohmann::json::parse(text).at("tokenizer_fnv1a64").get<std::string>();
    } catch (const std::exception &e) {
        return Status::error(path + ": not a tokenizer record (" + e.what() +
                             "); restore it from the machine that trained the run");
    }
    if (had == hash) return Status::ok();
    return Status::error(p.run(run) + ": trained with another tokenizer (" + had + ") than " +
                         p.tokenizer() + " (" + hash +
                         "); prepare the study once (`emergence study prepare`) and copy that "
                         "directory to every machine");
}

}  // namespace em
