// The OLMo ladder (25 runs of 5 sizes, c4 validation loss): imported from its wide CSV logs and
// analysed, it shows the split PAPER.md describes: MMLU and ARC-Challenge stay at chance over the
// upper part of the window and then rise (emergent), while ARC-Easy, CSQA, PIQA and SocialIQA
// rise from the window's top (smooth); and one curve against loss explains the runs better than
// one against compute. Skipped when ../shared/data is absent.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "analysis/analysis.h"
#include "analysis/import.h"
#include "common/parallel.h"

namespace em {
namespace {

using json = nlohmann::json;

std::string olmo_dir() {
    return std::string(EM_SHARED_DIR) + "/data/olmo-ladder";
}

ImportResult olmo_import() {
    ImportOptions o;
    o.dir = olmo_dir();
    o.pattern = "{size}-{xc}xC*.csv";
    // Non-embedding parameters from the ladder code's own table (data README).
    o.params = {"190M=190354176", "370M=371262464", "760M=758220288", "1B=1279395840",
                "3B=3169537280"};
    CsvImportOptions c;
    c.map = {{"loss", "eval/c4_en-validation/CrossEntropyLoss"},
             {"step", "_step"},
             {"tokens_seen", "throughput/total_tokens"}};
    c.task_columns = {"eval/downstream/(.*)_(len_norm|acc)", "eval/downstream_soft/(.*)_soft"};
    auto r = import_wide_csv(o, c);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? std::move(r).value() : ImportResult{};
}

TEST(Olmo, LadderShowsThePapersSplit) {
    if (!std::filesystem::exists(olmo_dir())) GTEST_SKIP() << olmo_dir() << " is absent";
    ImportResult imp = olmo_import();
    ASSERT_EQ(imp.files, 30);
    parallel_set_threads(parallel_default_threads());
    AnalysisOptions o;
    o.threshold.bootstrap = 100;
    o.collapse.permutations = 99;
    o.law.bootstrap = 20;
    o.task_filter =
        "^(mmlu_(stem|humanities)_test|arc_(easy|challenge)_(test|val)|csqa_val|piqa_val|socialiqa_"
        "val)_rc_5shot$";
    auto r = analysis_run(imp.points, o);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    const json a = analysis_to_json(*r);
    EXPECT_EQ(a["window"]["checkpoints_in_window"].get<int64_t>(), 3224);
    std::printf("%s", analysis_summary_format(*r).c_str());

    const std::set<std::string> emergent = {
        "mmlu_stem_test_rc_5shot", "mmlu_humanities_test_rc_5shot", "arc_challenge_test_rc_5shot",
        "arc_challenge_val_rc_5shot"};
    const std::set<std::string> smooth = {"arc_easy_test_rc_5shot", "arc_easy_val_rc_5shot",
                                          "csqa_val_rc_5shot", "piqa_val_rc_5shot",
                                          "socialiqa_val_rc_5shot"};
    int checked = 0;
    for (const auto &res : a["results"]) {
        std::string task = res["task"], metric = res["metric"];
        if (metric != "len_norm") continue;
        ++checked;
        if (emergent.count(task)) {
            EXPECT_EQ(res["verdict"], "emergent") << task;
            if (res["threshold"].is_object()) {
                double eta = res["threshold"]["loss"].get<double>();
                EXPECT_GT(eta, 3.0)
                    << task;  // at chance down to about 3.2-3.7, far below the window's top
                EXPECT_LT(eta, 3.9) << task;
            }
        } else if (smooth.count(task)) {
            EXPECT_EQ(res["verdict"], "smooth") << task;
        }
        // One curve against loss explains more than one against compute or parameters.
        double r2[3];
        for (int i = 0; i < 3; ++i) r2[i] = res["collapse"]["axes"][i]["r2"].get<double>();
        EXPECT_EQ(res["collapse"]["best_axis"], "loss") << task;
        EXPECT_GT(r2[0], r2[1]) << task;
        EXPECT_GT(r2[0], r2[2] + 0.2) << task;
    }
    EXPECT_EQ(checked, 9);
    // The 25 final losses (plus reruns) fit a scaling law.
    EXPECT_TRUE(a["scaling_law"]["ok"].get<bool>());
    EXPECT_EQ(a["scaling_law"]["n"].get<int64_t>(), 30);
}

}  // namespace
}  // namespace em
