// `emergence predict`: loss of an N-parameter model trained on D tokens, and each task's
// performance at that loss, from an analysis.json.
#include <fmt/format.h>

#include <memory>

#include "analysis/analysis.h"
#include "analysis/predict.h"
#include "cli/command.h"

namespace em::cli {
namespace {

struct Opts {
    std::string analysis;
    double params = 0, tokens = 0;
    bool as_json = false;
};

void setup(CLI::App &root) {
    auto *cmd = root.add_subcommand(
        "predict", "Predict loss and task performance for N parameters and D tokens");
    auto o = std::make_shared<Opts>();
    cmd->add_option("--analysis", o->analysis, "analysis.json from `emergence analyze`")
        ->required();
    cmd->add_option("--params", o->params, "non-embedding parameters N")->required();
    cmd->add_option("--tokens", o->tokens, "training tokens D")->required();
    cmd->add_flag("--json", o->as_json, "print JSON instead of a table");
    cmd->callback([o] {
        auto a = check(analysis_read(o->analysis));
        auto p = check(predict_from_analysis(a, o->params, o->tokens));
        if (o->as_json)
            fmt::print("{}\n", p.dump(1));
        else
            fmt::print("{}", predict_format(p));
    });
}

CommandRegistrar reg("predict", setup);

}  // namespace
}  // namespace em::cli
