// Run and stage records, and file locks; see record.h.
#include "study/record.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/fileio.h"

namespace em {

std::string run_record_path(const StudyPaths &p, const std::string &run) {
    return p.run(run) + "/record.json";
}

Result<std::optional<RunRecord>> run_record_read(const StudyPaths &p, const std::string &run) {
    const std::string path = run_record_path(p, run);
    if (!file_exists(path)) return std::optional<RunRecord>{};
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    RunRecord r;
    try {
        const nlohmann::json j = nlohmann::json::parse(text);
        r.name = j.at("run").get<std::string>();
        r.status = j.at("status").get<std::string>();
        r.params = j.at("params").get<int64_t>();
        r.tokens = j.at("tokens").get<int64_t>();
        r.steps_done = j.at("steps_done").get<int64_t>();
        r.steps_total = j.at("steps_total").get<int64_t>();
        r.seconds = j.at("seconds").get<double>();
        for (const auto &c : j.at("checkpoints"))
            r.checkpoints[c.at("step").get<int64_t>()] = {c.at("tokens_seen").get<int64_t>(),
                                                          c.at("val_loss").get<double>()};
        for (const auto &e : j.at("evaluated"))
            r.evaluated[e.at("step").get<int64_t>()] = e.at("seconds").get<double>();
        r.host = j.value("host", "");
        r.job = j.value("job", "");
        r.error = j.value("error", "");
    } catch (const std::exception &e) {
        return Status::error(path + ": not a run record (" + e.what() +
                             "); delete it, it is written again as the run continues");
    }
    return std::optional<RunRecord>{r};
}

Status run_record_write(const StudyPaths &p, const RunRecord &r) {
    nlohmann::json ck = nlohmann::json::array(), ev = nlohmann::json::array();
    for (const auto &[step, c] : r.checkpoints)
        ck.push_back({{"step", step}, {"tokens_seen", c.tokens_seen}, {"val_loss", c.val_loss}});
    for (const auto &[step, s] : r.evaluated) ev.push_back({{"step", step}, {"seconds", s}});
    nlohmann::json j = {{"run", r.name},
                        {"status", r.status},
                        {"params", r.params},
                        {"tokens", r.tokens},
                        {"steps_done", r.steps_done},
                        {"steps_total", r.steps_total},
                        {"seconds", r.seconds},
                        {"checkpoints", ck},
                        {"evaluated", ev},
                        {"host", r.host},
                        {"job", r.job}};
    if (!r.error.empty()) j["error"] = r.error;
    return file_write_atomic(run_record_path(p, r.name), j.dump(1) + "\n");
}

namespace {

std::string stages_path(const StudyPaths &p) {
    return p.dir + "/stages.json";
}

}  // namespace

Result<std::vector<StageRecord>> stage_records_read(const StudyPaths &p) {
    std::vector<StageRecord> out;
    const std::string path = stages_path(p);
    if (!file_exists(path)) return out;
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    try {
        const nlohmann::json j = nlohmann::json::parse(text);  // outlives the loop below
        for (const auto &s : j.at("stages"))
            out.push_back({s.at("name").get<std::string>(), s.at("status").get<std::string>(),
                           s.at("seconds").get<double>()});
    } catch (const std::exception &e) {
        return Status::error(path + ": not a stage record (" + e.what() +
                             "); delete it, it is written again as the study continues");
    }
    return out;
}

Status stage_record_set(const StudyPaths &p, const std::string &name, const std::string &status,
                        double seconds) {
    EM_ASSIGN_OR_RETURN(std::vector<StageRecord> stages, stage_records_read(p));
    bool found = false;
    for (auto &s : stages)
        if (s.name == name) {
            s.status = status;
            s.seconds += seconds;
            found = true;
        }
    if (!found) stages.push_back({name, status, seconds});
    nlohmann::json arr = nlohmann::json::array();
    for (const auto &s : stages)
        arr.push_back({{"name", s.name}, {"status", s.status}, {"seconds", s.seconds}});
    return file_write_atomic(stages_path(p), nlohmann::json{{"stages", arr}}.dump(1) + "\n");
}

FileLock::~FileLock() {
    if (fd_ >= 0) ::close(fd_);
}

Status FileLock::acquire(const std::string &path, const std::string &what) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::error(path + ": cannot create the lock: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        char buf[128] = {};
        ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
        std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
        ::close(fd_);
        fd_ = -1;
        return Status::error(what + " (pid " + holder + "); wait for it or stop it first");
    }
    // The holder is only informative; the flock is the lock.
    const std::string holder = std::to_string(::getpid());
    if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, holder.data(), holder.size(), 0) < 0) {
    }
    return Status::ok();
}

bool file_lock_held(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
    ::close(fd);
    return held;
}

std::string this_host() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "";
    return buf;
}

std::string this_slurm_job() {
    const char *array = std::getenv("SLURM_ARRAY_JOB_ID");
    const char *task = std::getenv("SLURM_ARRAY_TASK_ID");
    if (array && task) return std::string(array) + "_" + task;
    const char *job = std::getenv("SLURM_JOB_ID");
    return job ? job : "";
}

}  // namespace em
