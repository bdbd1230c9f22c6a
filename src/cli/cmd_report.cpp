// `emergence report`: analysis.json + points.csv -> a self-contained report.html.
#include <fmt/format.h>

#include <memory>

#include "cli/command.h"
#include "report/report.h"

namespace em::cli {
namespace {

struct Opts {
    std::string analysis, points, out, dir;
    ReportOptions r;
};

void setup(CLI::App &root) {
    auto *cmd =
        root.add_subcommand("report", "Write the HTML report of an analysis (opens offline)");
    auto o = std::make_shared<Opts>();
    cmd->add_option("--analysis", o->analysis, "analysis.json from `emergence analyze`");
    cmd->add_option("--points", o->points, "the points.csv the analysis was made from")->required();
    cmd->add_option("--out", o->out, "report.html to write");
    cmd->add_option("--dir", o->dir,
                    "analysis folder: reads DIR/analysis.json, writes DIR/report.html by default");
    cmd->add_option("--title", o->r.title, "page title")->capture_default_str();
    cmd->callback([o] {
        std::string analysis = o->analysis, out = o->out;
        if (!o->dir.empty()) {
            if (analysis.empty()) analysis = o->dir + "/analysis.json";
            if (out.empty()) out = o->dir + "/report.html";
        }
        if (analysis.empty()) throw CommandError("report: pass --analysis FILE or --dir DIR");
        if (out.empty()) throw CommandError("report: pass --out report.html or --dir DIR");
        check(report_write_files(out, analysis, o->points, o->r));
        fmt::print("wrote {}\n", out);
    });
}

CommandRegistrar reg("report", setup);

}  // namespace
}  // namespace em::cli
