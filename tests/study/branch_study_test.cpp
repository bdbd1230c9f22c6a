// A study with schedule = "wsd-branch": per size one trunk to the largest budget and a branch per
// smaller budget from the trunk's checkpoint where the branch's decay starts. The plan, the
// selection and dealing of branches with their trunks, and a branched micro study run twice
// giving the same points table.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <fstream>
#include <regex>
#include <string>

#include "common/fileio.h"
#include "study/config.h"
#include "study/select.h"
#include "tests/study/micro.h"
#include "tests/train/fixtures.h"
#include "train/checkpoint.h"

namespace em {
namespace {

using testing::temp_dir;

// The micro study with three budgets, branched.
std::string write_branched(const std::string &dir) {
    write_micro_inputs(dir);
    std::string text = file_read(dir + "/study.toml").value();
    text = std::regex_replace(text, std::regex("budgets = \\[12800, 25600\\]"),
                              "budgets = [25600, 6400, 12800]\nschedule = \"wsd-branch\"");
    EXPECT_TRUE(file_write_atomic(dir + "/study.toml", text).is_ok());
    return dir + "/study.toml";
}

TEST(BranchedStudy, PlansTrunksFirstAndBranchesAtTheirDecay) {
    const std::string dir = temp_dir("branch_plan");
    auto c = study_config_load(write_branched(dir));
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    auto runs = study_plan_runs(*c, dir + "/out", 200);
    ASSERT_EQ(runs.size(), 6u);
    // Per size: the trunk (largest budget), then its branches from the shortest.
    EXPECT_EQ(runs[0].name, "a-25.6k-wsd");
    EXPECT_EQ(runs[1].name, "a-6.4k-wsd");
    EXPECT_EQ(runs[2].name, "a-12.8k-wsd");
    EXPECT_TRUE(runs[0].trunk.empty());
    EXPECT_EQ(runs[1].trunk, "a-25.6k-wsd");
    EXPECT_EQ(runs[5].trunk, "b-25.6k-wsd");
    // 256 tokens a step: the 6.4k branch has 25 steps and decays over the last 5 (from update 20),
    // the 12.8k one 50 steps, decaying from update 40; the trunk keeps both checkpoints' state.
    EXPECT_EQ(runs[1].train.branch_step, 20);
    EXPECT_EQ(runs[2].train.branch_step, 40);
    EXPECT_EQ(runs[1].train.branch_from, runs[0].train.out_dir);
    EXPECT_EQ(runs[1].train.schedule, "wsd");
    EXPECT_EQ(runs[0].train.checkpoint_keep_state_steps, (std::vector<int64_t>{20, 40}));
    for (int64_t s : {20, 40}) {
        auto plan = runs[0].train.checkpoint_plan();
        EXPECT_TRUE(std::find(plan.begin(), plan.end(), s) != plan.end()) << s;
    }
    // A branch writes only checkpoints after its start, and trains only those steps.
    EXPECT_EQ(runs[2].train.checkpoint_plan(), (std::vector<int64_t>{50}));
    EXPECT_EQ(runs[2].train.steps_to_train(), 10);
    // Picking a branch picks its trunk; shards deal trunks with their branches.
    auto sel = study_selection_parse("a-6.4k-wsd", "");
    ASSERT_TRUE(sel.is_ok());
    auto picked = study_select(runs, *sel, 1e5);
    ASSERT_TRUE(picked.is_ok()) << picked.status().message();
    ASSERT_EQ(picked->size(), 2u);
    EXPECT_EQ((*picked)[0].name, "a-25.6k-wsd");
    for (int k = 1; k <= 2; ++k) {
        auto deal = study_selection_parse("", std::to_string(k) + "/2");
        ASSERT_TRUE(deal.is_ok());
        auto shard = study_select(runs, *deal, 1e5);
        ASSERT_TRUE(shard.is_ok());
        ASSERT_EQ(shard->size(), 3u);
        for (const auto &r : *shard) EXPECT_EQ(r.size, (*shard)[0].size);
    }
    auto three = study_selection_parse("", "3/3");
    ASSERT_TRUE(three.is_ok());
    EXPECT_FALSE(study_select(runs, *three, 1e5).is_ok());
}

std::pair<int, std::string> study(const std::string &dir, const std::string &out) {
    return testing::run_captured(std::string(EM_BINARY) + " study " + dir + "/study.toml --dir " +
                                 out + " 2>&1 >/dev/null");
}

TEST(BranchedStudy, RunTwiceGivesTheSamePointsTable) {
    const std::string dir = temp_dir("branch_twice");
    write_branched(dir);
    auto [rc1, log1] = study(dir, dir + "/one");
    ASSERT_EQ(rc1, 0) << log1;
    auto [rc2, log2] = study(dir, dir + "/two");
    ASSERT_EQ(rc2, 0) << log2;
    auto one = file_read(dir + "/one/points.csv"), two = file_read(dir + "/two/points.csv");
    ASSERT_TRUE(one.is_ok() && two.is_ok());
    EXPECT_EQ(*one, *two);
    // Points of the trunk at both branch points, and of each branch after its own.
    EXPECT_NE(one->find("\na-25.6k-wsd,"), std::string::npos);
    EXPECT_NE(one->find("\na-6.4k-wsd,"), std::string::npos);
    EXPECT_EQ(checkpoint_list(dir + "/one/runs/a-6.4k-wsd"), (std::vector<int64_t>{25}));
    EXPECT_TRUE(file_exists(checkpoint_state_path(dir + "/one/runs/a-25.6k-wsd", 20)));
}

}  // namespace
}  // namespace em
