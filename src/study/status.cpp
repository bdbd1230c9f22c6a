// The study's ledger as text; see status.h.
#include "study/status.h"

#include <cstdio>

#include "common/fileio.h"
#include "study/layout.h"
#include "study/ledger.h"
#include "study/progress.h"

namespace em {

Result<std::string> study_status(const std::string &dir) {
    StudyPaths p{dir};
    if (!file_exists(p.ledger()))
        return Status::error(
            dir + ": no study here (no ledger.sqlite); start one with `emergence study`");
    Ledger l;
    EM_TRY(l.open(p.ledger()));
    EM_ASSIGN_OR_RETURN(auto stages, l.stages());
    EM_ASSIGN_OR_RETURN(auto runs, l.runs());
    std::string out = "stages:\n";
    double stage_s = 0, run_s = 0;
    for (const auto &s : stages) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "  %-10s %-8s %s\n", s.name.c_str(), s.status.c_str(),
                      fmt_duration(s.seconds).c_str());
        out += buf;
        stage_s += s.seconds;
    }
    out +=
        "runs:\n  run             params      tokens   steps        checkpoints evaluated  "
        "val loss       time  status\n";
    for (const auto &r : runs) {
        char buf[200];
        const std::string loss = r.val_loss >= 0 ? std::to_string(r.val_loss).substr(0, 5) : "-";
        std::snprintf(
            buf, sizeof buf, "  %-14s %9lld %11lld %6lld/%-6lld %11lld %9lld  %8s  %9s  %s\n",
            r.name.c_str(), static_cast<long long>(r.params), static_cast<long long>(r.tokens),
            static_cast<long long>(r.steps_done), static_cast<long long>(r.steps_total),
            static_cast<long long>(r.checkpoints), static_cast<long long>(r.evaluated),
            loss.c_str(), fmt_duration(r.seconds).c_str(), r.status.c_str());
        out += buf;
        run_s += r.seconds;
    }
    out += "time: " + fmt_duration(stage_s + run_s) + " (stages " + fmt_duration(stage_s) +
           ", runs " + fmt_duration(run_s) +
           "), wall time of the work kept; work an interruption cut off is not counted\n";
    if (file_exists(p.report())) out += "report: " + p.report() + "\n";
    return out;
}

}  // namespace em
